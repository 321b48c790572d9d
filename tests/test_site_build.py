"""End to end: build small sites with the real pipeline and read the output."""

from __future__ import annotations

import json
import pstats
import subprocess
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path

from lxml import etree
from lxml import html as lhtml


def doc(site, rel):
    return lhtml.fromstring(site.read(rel))


def test_pages_with_papermod_hooks(site):
    site.post(
        "first.md",
        """
        title: 最初の記事
        date: 2025-04-12
        tags: [LLM, Attention]
        categories: [ML]
    """,
        "これはテストです。\n\n## 見出し\n\nMore text here.\n",
    )
    site.post("second.md", "title: Second\ndate: 2025-04-13\ntags: [LLM]\ndescription: 二つ目の記事", "Hello world.\n")
    assert site.build() == 0
    home = doc(site, "index.html")
    entries = home.cssselect("article.post-entry")
    assert [e.cssselect("header.entry-header h2")[0].text_content() for e in entries] == ["Second", "最初の記事"]
    meta = entries[1].cssselect(".post-meta")[0].text_content()
    assert meta.replace("\xa0", " ") == "4月 12, 2025 · 1 分 · 5 文字 · Me"  # 3 fields + heading + paragraph
    assert entries[1].cssselect(".entry-content")[0].text_content().strip().startswith("これはテストです。")

    post = doc(site, "posts/first/index.html")
    assert post.cssselect("h1.post-title")[0].text_content() == "最初の記事"
    # a description under the title only where the front matter gives one (PaperMod's)
    assert not post.cssselect(".post-description")
    assert doc(site, "posts/second/index.html").cssselect(".post-description")[0].text_content() == "二つ目の記事"
    assert post.cssselect(".post-content h2#見出し")
    assert post.cssselect(".post-meta")[0].text_content().replace("\xa0", " ").startswith("4月 12, 2025 · 1 分")
    assert [a.text_content() for a in post.cssselect("ul.post-tags a")] == ["LLM", "Attention"]
    # newer/older navigation
    assert post.cssselect("nav.paginav a.prev")[0].get("href") == "/sub/posts/second/"

    llm = doc(site, "tags/llm/index.html")
    assert len(llm.cssselect("article.post-entry")) == 2
    assert "Attention" in doc(site, "tags/index.html").text_content()
    assert doc(site, "categories/ml/index.html").cssselect("article.post-entry")
    archives = doc(site, "archives/index.html").text_content()
    assert "2025" in archives and "4月" in archives
    assert (site.out / "404.html").is_file() and (site.out / "search/index.html").is_file()
    # canonical, OpenGraph and JSON-LD use the absolute base_url
    assert post.cssselect('link[rel="canonical"]')[0].get("href") == "https://blog.example.org/sub/posts/first/"
    assert post.cssselect('meta[property="og:type"]')[0].get("content") == "article"
    (article,) = [json.loads(e.text) for e in post.cssselect('script[type="application/ld+json"]')]
    assert article["@type"] == "BlogPosting"
    assert article["mainEntityOfPage"]["@id"] == "https://blog.example.org/sub/posts/first/"


def test_rss_sitemap_and_robots(site):
    site.post("a.md", "title: A & B\ndate: 2025-04-12T10:00:00+09:00\ntags: [X]")
    assert site.build() == 0
    rss = etree.fromstring((site.out / "index.xml").read_bytes())
    items = rss.findall("channel/item")
    assert items[0].findtext("title") == "A & B"
    assert items[0].findtext("link") == "https://blog.example.org/sub/posts/a/"
    assert parsedate_to_datetime(items[0].findtext("pubDate")).isoformat() == "2025-04-12T10:00:00+09:00"
    assert etree.fromstring((site.out / "tags/x/index.xml").read_bytes()).findall("channel/item")
    import xmlschema

    schema = xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "sitemap.xsd"))
    schema.validate(str(site.out / "sitemap.xml"))
    locs = [e.text for e in etree.parse(str(site.out / "sitemap.xml")).iter("{*}loc")]
    assert "https://blog.example.org/sub/posts/a/" in locs and all(loc.startswith("https://") for loc in locs)
    assert "Sitemap: https://blog.example.org/sub/sitemap.xml" in site.read("robots.txt")


def test_drafts_and_future_posts_need_a_flag(site):
    site.post("live.md", "title: Live\ndate: 2025-01-01")
    site.post("draft.md", "title: Draft\ndate: 2025-01-01\ndraft: true")
    site.post("future.md", "title: Future\ndate: 2999-01-01")
    assert site.build() == 0
    assert (site.out / "posts/live/index.html").exists()
    assert not (site.out / "posts/draft").exists() and not (site.out / "posts/future").exists()
    assert site.build("--drafts", "--future") == 0
    assert (site.out / "posts/draft/index.html").exists() and (site.out / "posts/future/index.html").exists()


def test_page_bundle_files_are_published_beside_the_page(site):
    site.post("b/index.md", "title: B\ndate: 2025-01-01", "![a picture](pic.png)\n")
    (site.root / "posts/b/pic.png").write_bytes(b"\x89PNG fake")
    assert site.build() == 0
    assert (site.out / "posts/b/pic.png").read_bytes() == b"\x89PNG fake"
    assert 'src="pic.png"' in site.read("posts/b/index.html")


def test_raw_html_is_omitted_unless_allowed(site):
    site.post("h.md", "title: H\ndate: 2025-01-01", "Text <span class=x>inline</span>.\n\n<div>block</div>\n")
    assert site.build() == 0
    content = doc(site, "posts/h/index.html").cssselect(".post-content")[0]
    assert not content.cssselect("div > div") and "<!-- raw HTML omitted -->" in site.read("posts/h/index.html")
    site.config((site.root / "site_config.yaml").read_text() + "markup:\n  unsafe_html: true\n")
    assert site.build() == 0
    assert doc(site, "posts/h/index.html").cssselect(".post-content span.x")


def test_math_is_mathml_and_code_is_highlighted(site):
    site.post(
        "m.md",
        "title: M\ndate: 2025-01-01",
        "Euler $e^{i\\pi}+1=0$.\n\n$$\\sum_{k=1}^n k$$\n\n```python\nx = 1  # one\n```\n",
    )
    assert site.build() == 0
    page = site.read("posts/m/index.html")
    assert page.count("<math") == 2 and "<msup>" in page
    assert '<span class="c"># one</span>' in page  # a comment, in the class all comments that look alike share


def test_meta_line_items_can_be_switched_off(site):
    site.config((site.root / "site_config.yaml").read_text() + "show:\n  word_count: false\n  author: false\n")
    site.post("a.md", "title: A\ndate: 2025-04-13", "one two three\n")
    assert site.build() == 0
    meta = doc(site, "index.html").cssselect("article.post-entry .post-meta")[0].text_content()
    assert meta.replace("\xa0", " ") == "4月 13, 2025 · 1 分"


def test_failed_build_keeps_the_last_good_site(site, capsys):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    assert site.build() == 0
    before = site.read("index.html")
    bad = site.post("b.md", "title: B\ndate: [2025")
    assert site.build() == 1
    err = capsys.readouterr().err
    assert f"{bad}:3" in err and "invalid YAML" in err
    assert site.read("index.html") == before
    bad.unlink()
    (site.root / "theme/templates/single.html").write_text("{% for x in %}", encoding="utf-8")
    assert site.build() == 1
    err = capsys.readouterr().err
    assert "single.html:1" in err and "template error" in err
    assert site.read("index.html") == before
    assert not list(site.root.glob(".public.staging-*"))


def test_nothing_changed_means_nothing_rebuilt(site, capsys):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    assert site.build() == 0
    stamp = (site.out / "index.html").stat().st_mtime_ns
    capsys.readouterr()
    assert site.build() == 0
    assert "nothing changed" in capsys.readouterr().err
    assert (site.out / "index.html").stat().st_mtime_ns == stamp
    site.post("a.md", "title: A2\ndate: 2025-01-01")
    assert site.build() == 0
    assert "A2" in site.read("index.html")


def test_cli_errors_are_clear(tmp_path):
    def run(*a):
        return subprocess.run([sys.executable, "-m", "execblog.commands.cli", *a], capture_output=True, text=True)

    missing = run("build", "-s", str(tmp_path / "nope"))
    assert missing.returncode == 1 and "site folder not found" in missing.stderr
    unknown = run("build", "--frobnicate")
    assert unknown.returncode == 2 and "unrecognized arguments: --frobnicate" in unknown.stderr
    empty = run("build", "-s", str(tmp_path))
    assert empty.returncode == 1 and "no site_config.yaml" in empty.stderr


def test_the_command_ends_with_the_builds_code_and_everything_written(site):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    cmd = [sys.executable, "-m", "execblog", "build", "-s", str(site.root), "-d", str(site.out), "--no-search"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0 and "built 1 posts" in done.stderr  # the log is flushed before the process ends
    assert "A" in site.read("posts/a/index.html")
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0 and "nothing changed" in again.stderr
    (site.root / "posts" / "a.md").write_text("---\ntitle: [\n---\n")
    broken = subprocess.run(cmd, capture_output=True, text=True)
    assert broken.returncode == 1 and "a.md:2" in broken.stderr


def test_the_command_can_be_profiled(site, tmp_path):
    """The command skips the interpreter's teardown, but not under a profiler, which writes its
    results then."""
    site.post("a.md", "title: A\ndate: 2025-01-01")
    out = tmp_path / "build.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "execblog", "build", "-s", str(site.root)]
    done = subprocess.run([*cmd, "-d", str(site.out), "--no-search"], capture_output=True, text=True)
    assert done.returncode == 0 and "built 1 posts" in done.stderr
    assert "build_site" in str(pstats.Stats(str(out)).stats)


def test_new_post_scaffold_builds(site):
    from execblog.commands.new import new_post

    path = new_post(site.root, "Hello World")
    assert path.name == "hello-world.md" and "draft: true" in path.read_text()
    nb = new_post(site.root, "ノートブック", notebook=True)
    assert "kernelspec" in nb.read_text()
    assert site.build("--drafts", "--no-execute") == 0
    assert (site.out / "posts/hello-world/index.html").exists()


def test_bundle_images_reserve_their_space(site):
    from PIL import Image

    site.post(
        "b/index.md", "title: B\ndate: 2025-01-01", "![a chart](chart.png)\n\n![remote](https://example.org/x.png)\n"
    )
    Image.new("RGB", (320, 200)).save(site.root / "posts/b/chart.png")
    assert site.build() == 0
    imgs = doc(site, "posts/b/index.html").cssselect(".post-content img")
    assert (imgs[0].get("width"), imgs[0].get("height"), imgs[0].get("loading")) == ("320", "200", "lazy")
    assert imgs[1].get("width") is None  # not ours to measure


def test_section_feed_exists(site):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    assert site.build() == 0
    assert etree.fromstring((site.out / "posts/index.xml").read_bytes()).findall("channel/item")
    assert doc(site, "posts/index.html").cssselect('a.rss-link[href="/sub/posts/index.xml"]')


def test_editing_one_post_converts_only_that_post(site):
    from execblog.pipeline import BuildOptions, build_site

    for i in range(5):
        site.post(f"p{i}.md", f"title: P{i}\ndate: 2025-01-0{i + 1}", f"Text {i}.\n")
    opts = BuildOptions(site_dir=site.root, out_dir=site.out, search_index=False, quiet=True)
    assert build_site(opts).posts_converted == 5
    site.post("p2.md", "title: P2\ndate: 2025-01-03", "Edited text.\n")
    again = build_site(opts)
    assert again.posts_converted == 1 and "Edited text." in site.read("posts/p2/index.html")
    site.config((site.root / "site_config.yaml").read_text() + "summary_length: 5\n")
    assert build_site(opts).posts_converted == 5  # a config change can change every page


def test_output_folder_with_foreign_files_is_refused(site, tmp_path, capsys):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    mine = tmp_path / "mydocs"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    from execblog.commands.cli import main

    assert main(["build", "-s", str(site.root), "-d", str(mine), "--no-search"]) == 1
    assert "holds files that no build wrote" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me"
    assert main(["build", "-s", str(site.root), "-d", str(site.root), "--no-search"]) == 1
    assert "contains the site folder" in capsys.readouterr().err


def test_two_posts_with_one_url_name_both_files(site, capsys):
    site.post("dup.md", "title: A\ndate: 2025-01-01")
    other = site.post("other/index.md", "title: B\ndate: 2025-01-01\nslug: dup")
    assert site.build() == 1
    err = capsys.readouterr().err
    assert str(other) in err and "dup.md" in err and "slug" in err


def test_tags_of_posts_hidden_from_lists_still_have_pages(site):
    site.post("h.md", "title: H\ndate: 2025-01-01\nhidden_in_list: true\ntags: [secret-only]")
    assert site.build() == 0
    assert (site.out / "tags/secret-only/index.html").exists()
    assert not doc(site, "index.html").cssselect("article.post-entry")


def test_base_url_override_must_be_absolute(site, capsys):
    site.post("a.md", "title: A\ndate: 2025-01-01")
    assert site.build("--base-url", "/blog") == 1
    assert "not an absolute URL" in capsys.readouterr().err


def test_menu_and_cover_urls_respect_the_base_path(site):
    site.config(
        (site.root / "site_config.yaml").read_text()
        + "menu:\n  - {name: Tags, url: /tags/}\n  - {name: Code, url: 'https://example.org/code'}\n"
    )
    site.post("c/index.md", "title: C\ndate: 2025-01-01\ntags: [x]\ncover: {image: cover.png, alt: the cover}")
    (site.root / "posts/c/cover.png").write_bytes(b"png")
    assert site.build() == 0
    tags = doc(site, "tags/index.html")
    links = {a.text_content(): a for a in tags.cssselect("#menu a")}
    assert links["Tags"].get("href") == "/sub/tags/" and links["Tags"].get("aria-current") == "page"
    assert links["Code"].get("href") == "https://example.org/code"
    post = doc(site, "posts/c/index.html")
    assert post.cssselect(".entry-cover img")[0].get("src") == "/sub/posts/c/cover.png"
    og = post.cssselect('meta[property="og:image"]')[0].get("content")
    assert og == "https://blog.example.org/sub/posts/c/cover.png"


def test_front_matter_summary_is_markdown_and_wins(site):
    site.post("s.md", "title: S\ndate: 2025-01-01\nsummary: 'A *hand-written* summary'", "Body text " * 100 + "\n")
    assert site.build() == 0
    card = doc(site, "index.html").cssselect("article.post-entry .entry-content")[0].text_content()
    assert card == "A hand-written summary"


def test_status_lists_each_executable_post(site):
    import subprocess
    import sys

    kernel = "jupyter:\n  kernelspec: {name: execblog, display_name: execblog, language: python}\n"
    site.post("nb.md", "title: NB\ndate: 2025-01-01\n" + kernel, "```python\nprint(6 * 7)\n```\n")
    site.post("plain.md", "title: Plain\ndate: 2025-01-01")

    def status():
        return subprocess.run(
            [sys.executable, "-m", "execblog.commands.cli", "status", "-s", str(site.root)],
            capture_output=True,
            text=True,
        ).stdout

    def rows():
        return {line.split()[0]: line.split()[1] for line in status().splitlines()[1:]}

    assert rows() == {"posts/nb.md": "never", "posts/plain.md": "plain"}  # "never run"
    assert site.build() == 0 and "42" in site.read("posts/nb/index.html")
    assert rows()["posts/nb.md"] == "fresh"
    site.post("nb.md", "title: NB\ndate: 2025-01-01\n" + kernel, "```python\nprint(6 * 8)\n```\n")
    assert rows()["posts/nb.md"] == "stale"


def test_a_failing_cell_stops_the_publish_and_names_itself(site, capsys):
    kernel = "jupyter:\n  kernelspec: {name: execblog, display_name: execblog, language: python}\n"
    site.post("ok.md", "title: OK\ndate: 2025-01-01")
    site.post(
        "bad.md",
        "title: Bad\ndate: 2025-01-01\n" + kernel,
        "Prose.\n\n```python\nvalues = [1, 0]\nratios = [1 / v for v in values]\n```\n",
    )
    assert site.build() == 1
    err = capsys.readouterr().err
    assert err.count("posts/bad.md: code cell 1 (line 10): the cell raised an error") == 1
    assert "| ratios = [1 / v for v in values]" in err and "ZeroDivisionError: division by zero" in err
    assert "the site was not written" in err and not site.out.exists()
    assert site.build("--keep-going") == 1  # the other posts are published, the exit code still says it failed
    assert (site.out / "posts/ok/index.html").exists()
