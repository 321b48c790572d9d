"""The render workers fill in each page's asset links, check it for secrets and put it
in the stage themselves, the build's parent only recording it: what the parent's final
scan guaranteed still holds, whether the pages are rendered in this process (a small
site) or in forked workers."""

from __future__ import annotations

import pytest

from execblog.parallel import MIN_ITEMS

SECRET = "s3cr3t-Value-4711-xyz"
MANY = MIN_ITEMS + 6  # more pages than parallel_map keeps in-process: forked workers render them


def _posts(site, n: int) -> None:
    for i in range(n):
        site.post(f"p{i}.md", f"title: P{i}\ndate: 2025-01-{1 + i % 28:02d}")


def _leftovers(site) -> list[str]:
    """The stage and the workers' staged pages, which a failed or finished build never leaves."""
    return sorted(p.name for p in site.root.iterdir() if ".staging-" in p.name)


@pytest.mark.parametrize("others", [0, MANY])
@pytest.mark.parametrize(
    "body",
    [
        f"The value is {SECRET}.\n",  # in the bytes as written
        f"The value is {SECRET[:8]}*{SECRET[8:]}*.\n",  # split by a tag: found in the page's text
    ],
)
def test_a_told_secret_in_a_page_stops_the_build_naming_the_page(site, monkeypatch, capsys, others, body):
    monkeypatch.setenv("BLOG_API_TOKEN", SECRET)
    _posts(site, others)
    site.post("leak.md", "title: Leak\ndate: 2025-01-01", body)
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "a secret value is still present in the output" in err
    assert "posts/leak/index.html" in err and "BLOG_API_TOKEN is present" in err
    assert SECRET not in err and SECRET[8:] not in err
    assert not site.out.exists() and _leftovers(site) == []


def test_a_told_secret_in_a_bundle_file_stops_the_build_naming_the_file(site, monkeypatch, capsys):
    monkeypatch.setenv("BLOG_API_TOKEN", SECRET)
    _posts(site, MANY)
    site.post("bundle/index.md", "title: Bundle\ndate: 2025-01-01")
    (site.root / "posts" / "bundle" / "data.txt").write_text(f"key={SECRET}\n", encoding="utf-8")
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "posts/bundle/data.txt:1: BLOG_API_TOKEN is present" in err and SECRET not in err
    assert not site.out.exists() and _leftovers(site) == []


def test_a_secret_added_to_a_kept_site_is_found_in_pages_the_build_did_not_render(site, monkeypatch, capsys):
    """Pages taken from the last site are not re-rendered, so no worker saw them: a secret the
    build is told about only now is still looked for in them."""
    _posts(site, MANY)
    site.post("old.md", "title: Old\ndate: 2025-01-01", f"An old note: {SECRET}.\n")
    assert site.build() == 0
    capsys.readouterr()
    monkeypatch.setenv("BLOG_API_TOKEN", SECRET)
    site.post("p1.md", "title: P1 edited\ndate: 2025-01-02")  # a build that renders some pages, not old's
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "posts/old/index.html" in err and "BLOG_API_TOKEN is present" in err and SECRET not in err
    assert SECRET in site.read("posts/old/index.html")  # the last good site is kept as it was


def test_a_secret_told_after_a_build_is_looked_for_even_when_no_file_changed(site, monkeypatch, capsys):
    """The no-op check counts the secrets the build is told about: a new one (or a new value)
    is not "nothing changed", and the site is checked for it."""
    site.post("old.md", "title: Old\ndate: 2025-01-01", f"An old note: {SECRET}.\n")
    assert site.build() == 0
    assert site.build() == 0 and "nothing changed" in capsys.readouterr().err
    monkeypatch.setenv("BLOG_API_TOKEN", SECRET)
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "posts/old/index.html" in err and "BLOG_API_TOKEN is present" in err and SECRET not in err
    assert SECRET not in (site.root / ".cache" / "last-build.json").read_text()


def test_pages_come_out_whole_with_their_asset_links_and_nothing_is_left_beside_them(site):
    _posts(site, MANY)
    assert site.build() == 0
    assert _leftovers(site) == []
    for rel in ("posts/p0/index.html", "index.html", "archives/index.html"):
        page = site.read(rel)
        assert page.rstrip().endswith("</html>")
        assert "execblog-asset-slot" not in page and "/sub/assets/css/stylesheet." in page
    assert site.build("--force") == 0  # a second full build replaces the first with the same pages
    assert _leftovers(site) == []
