from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from execblog.content.read import read_post
from execblog.errors import BuildError

TOKYO = ZoneInfo("Asia/Tokyo")


def test_front_matter_fields(site):
    path = site.post(
        "a.md",
        """
        title: A
        date: 2025-04-13
        tags: [LLM, Attention]
        author: [Me, You]
        isCJKLanguage: true
        cover: {image: c.png, alt: a cover}
        custom_key: kept
    """,
    )
    post = read_post(path, TOKYO)
    assert post.date == datetime(2025, 4, 13, tzinfo=TOKYO)
    assert post.terms == {"tags": ("LLM", "Attention"), "categories": ()} and post.authors == ("Me", "You")
    assert post.is_cjk is True and post.cover.alt == "a cover"
    assert post.params["custom_key"] == "kept"
    assert post.executable is False and post.slug == "a"


def test_terms_of_the_configured_taxonomies_with_keys_in_any_case(site):
    path = site.post(
        "t.md",
        """
        title: T
        date: 2025-01-01
        Series: Attention
        TAGS: [LLM]
        categories: [ML]
    """,
    )
    post = read_post(path, TOKYO, taxonomies=("tags", "series"))
    # Hugo reads front matter keys case-insensitively; an unconfigured taxonomy is just a param
    assert post.terms == {"tags": ("LLM",), "series": ("Attention",)}
    assert post.params["categories"] == ["ML"]


def test_a_taxonomy_key_written_twice_is_an_error(site):
    path = site.post("t.md", "title: T\ndate: 2025-01-01\ntags: [a]\nTags: [b]")
    with pytest.raises(BuildError) as err:
        read_post(path, TOKYO)
    assert err.value.line == 5 and "`tags` and `Tags` are the same key" in err.value.message and err.value.hint


@pytest.mark.parametrize(
    "written, expected",
    [
        ("2025-04-13T10:00:00+02:00", datetime(2025, 4, 13, 10, tzinfo=timezone(timedelta(hours=2)))),
        ("2025-04-13T01:00:00Z", datetime(2025, 4, 13, 1, tzinfo=UTC)),
        ("2025-04-13 10:00", datetime(2025, 4, 13, 10, tzinfo=TOKYO)),  # no offset: the site's zone
        ("2025-04-13", datetime(2025, 4, 13, tzinfo=TOKYO)),
        ("Sun, 13 Apr 2025 10:00:00 +0200", datetime(2025, 4, 13, 10, tzinfo=timezone(timedelta(hours=2)))),
        ("13 Apr 2025", datetime(2025, 4, 13, tzinfo=TOKYO)),
    ],
)
def test_dates_as_hugo_reads_them(site, written, expected):
    post = read_post(site.post("d.md", f"title: D\ndate: {written}\nlastmod: {written}"), TOKYO)
    assert post.date == expected and post.date.tzinfo == expected.tzinfo and post.lastmod == post.date


@pytest.mark.parametrize(
    "front, line, words",
    [
        ("title: A\ndate: [oops", 3, "invalid YAML"),
        ("date: 2025-01-01", 2, "missing `title`"),
        ("title: A\ndate: someday", 3, "cannot read `date: someday`"),
        ("title: A\ndate: 2025/04/13", 3, "cannot read `date: 2025/04/13`"),  # Hugo refuses it too
        ("title: A\ndate: 2025", 3, "cannot read `date: 2025`"),
        ("title: A\ndate: 2025-01-01\ndraft: maybe", 4, "`draft` must be true or false"),
        ("title: A\ndate: 2025-01-01\ntags: {a: 1}", 4, "`tags` must be a list"),
    ],
)
def test_bad_front_matter_names_file_and_line(site, front, line, words):
    path = site.root / "posts" / "bad.md"
    path.write_text("---\n" + front + "\n---\nbody\n", encoding="utf-8")
    with pytest.raises(BuildError) as err:
        read_post(path, TOKYO)
    assert err.value.path == path and err.value.line == line
    assert words in err.value.message
    assert err.value.hint


def test_missing_front_matter_explains_the_fix(site):
    path = site.root / "posts" / "none.md"
    path.write_text("# just text\n", encoding="utf-8")
    with pytest.raises(BuildError) as err:
        read_post(path, TOKYO)
    assert "missing front matter" in err.value.message and "title:" in err.value.hint


def test_jupytext_kernelspec_makes_a_post_executable(site):
    path = site.post(
        "nb.md",
        """
        title: NB
        date: 2025-01-01
        jupyter:
          kernelspec: {name: execblog, display_name: execblog, language: python}
    """,
    )
    assert read_post(path, TOKYO).executable is True


def test_page_bundle_lists_resources(site):
    path = site.post("b/index.md", "title: B\ndate: 2025-01-01")
    (path.parent / "img.png").write_bytes(b"png")
    (path.parent / ".hidden").write_text("x")
    post = read_post(path, TOKYO)
    assert post.name == "b" and [p.name for p in post.resources] == ["img.png"]


def test_date_falls_back_to_lastmod_then_file_time(site):
    with_lastmod = site.post("l.md", "title: L\nlastmod: 2025-02-03")
    assert read_post(with_lastmod, TOKYO).date == datetime(2025, 2, 3, tzinfo=TOKYO)
    bare = site.post("b.md", "title: B")
    import os

    os.utime(bare, (1700000000, 1700000000))
    assert read_post(bare, TOKYO).date.timestamp() == 1700000000
