"""The build, start to end: read -> execute -> convert -> plan -> render -> write.

Each stage is its own module; this one only wires them and decides what can be
skipped (a no-op rebuild, posts whose conversion is cached).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

# Only what a no-op build needs is imported here: the stages are imported once it is known
# that something changed (a no-op build's time is mostly its imports).
from execblog.config import CONFIG_FILE, LAYOUTS_DIR, Profile, SiteConfig, load_config
from execblog.content.readers import read_posts
from execblog.errors import BuildError, printable
from execblog.incremental.stamp import CACHE_DIR, InputStamp, package_fingerprint
from execblog.output.write import check_output_folder
from execblog.records import BuildOptions, ExecutedPost, SourcePost

if TYPE_CHECKING:
    from execblog.convert.markdown import MarkdownOptions
    from execblog.execution.redact import SecretFinding
    from execblog.i18n import Translator
    from execblog.incremental.bodies import Row
    from execblog.incremental.pages import ReadsByPost
    from execblog.output.static_assets import PageUse
    from execblog.pages.plan import Page, PostView

T = TypeVar("T")


@dataclass
class BuildResult:
    unchanged: bool = False
    posts: int = 0
    posts_converted: int = 0  # posts turned into HTML this build (the others came from the cache)
    pages: int = 0
    files_written: int = 0
    files_reused: int = 0
    seconds: float = 0.0
    executed: list[str] = field(default_factory=list)
    stand_in_posts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Finished(NamedTuple):
    """A page as a render worker leaves it (see build_site's `finish`)."""

    digest: str  # sha256 of its bytes
    findings: list[SecretFinding]  # secrets in them
    linked: bool  # the last site's file was taken (hard-linked into a whole stage, left in place otherwise)
    data: bytes | None  # None: put in the stage by the worker; else for the parent to write


def log(opts: BuildOptions, message: str) -> None:
    if not opts.quiet:
        print(message, file=sys.stderr, flush=True)


def build_site(opts: BuildOptions) -> BuildResult:
    from execblog.incremental.store import finish
    from execblog.parallel import frozen

    try:
        with frozen():  # what the build loads stays out of garbage collections (parallel.freeze_loaded)
            return _build_site(opts)
    finally:
        finish()  # the caches written beside the build are in place before it returns, failed or not


def _build_site(opts: BuildOptions) -> BuildResult:
    start = time.perf_counter()
    site_dir = opts.site_dir.resolve()
    if not site_dir.is_dir():
        raise BuildError(f"site folder not found: {opts.site_dir}", hint="pass an existing folder with -s DIR")
    config = load_config(site_dir)
    base_url = opts.base_url
    if base_url:
        if not base_url.endswith("/"):
            base_url += "/"
            opts = replace(opts, base_url=base_url)
        if not base_url.startswith(("http://", "https://")):
            raise BuildError(
                f"--base-url {base_url}: not an absolute URL", hint="e.g. --base-url http://127.0.0.1:1313/"
            )
        config = replace(config, base_url=base_url)
    if not opts.shard:
        sources = [
            site_dir / "posts",
            site_dir / "theme",
            site_dir / LAYOUTS_DIR,
            site_dir / CONFIG_FILE,
            site_dir / config.execution.freeze_dir,
        ]
        check_output_folder(opts.out_dir, site_dir, sources)
    cache = site_dir / CACHE_DIR
    stamp = InputStamp(site_dir, config, opts)
    if stamp.unchanged(opts.out_dir):
        log(opts, "nothing changed since the last build")
        return BuildResult(unchanged=True, seconds=time.perf_counter() - start)

    from execblog.execution.progress import Progress
    from execblog.i18n import Translator
    from execblog.incremental.posts import PostReadCache
    from execblog.parallel import MIN_ITEMS, Background, freeze_loaded, parallel_map, release_freed, two_stage_map

    read_cache = PostReadCache(cache / "posts.pickle", package_fingerprint(), hold=opts.resident)
    freeze_loaded()
    all_posts = read_posts(
        site_dir / "posts", config.zone, config.author, config.taxonomies.values(), read_with=read_cache.read
    )
    read_cache.save()
    posts = _select_posts(all_posts, opts)
    now = datetime.now(UTC)
    due = [p.date.timestamp() for p in all_posts if p.date > now and not opts.future]
    report, failures, shown = _execute(posts, config, opts)
    if opts.shard:  # a shard job only executes; the merge job renders once
        # The job's freeze is uploaded as is: a secret in it fails the job, so nothing is passed on.
        _scan_secrets([], report.secrets, site_dir / config.execution.freeze_dir, report.executed)
        _report_failures(failures, shown)
        return BuildResult(
            posts=len(posts), executed=list(report.executed), failures=failures, seconds=time.perf_counter() - start
        )
    if failures and not opts.keep_going:
        _report_failures(failures, shown)
        names = ", ".join(dict.fromkeys(message.split(":", 1)[0] for message in failures))
        raise BuildError(
            f"{len(failures)} post(s) failed ({names}); the site was not written",
            hint="each error above names the post, what failed and its fix; "
            "or pass --keep-going to publish the other posts",
        )
    executed = report.posts
    total = len(executed)
    translator = Translator(site_dir, config.language)
    progress = Progress(sys.stderr, enabled=not opts.quiet)  # a terminal's status line; quiet in a log
    known = {post.name for post in all_posts}  # drafts a publish leaves out too: their caches stay
    try:
        views, converted, view_keys, earlier, save_views = _post_views(
            executed,
            known,
            config,
            translator,
            cache / "views.pickle",
            lambda n: progress.count("converting posts", n, total),
            hold=opts.resident,
            search=opts.search_index,
            edited=read_cache.read_again,
            meanwhile=_import_page_stages,
        )
    except BaseException:
        progress.stop()
        raise
    from execblog.incremental.bodies import BodyStore
    from execblog.incremental.pages import PageCache, PageRecord, by_post, context_key, page_shape
    from execblog.output.render import PageRenderer
    from execblog.output.search_index import search_files
    from execblog.output.static_assets import ThemeAssets
    from execblog.output.write import SiteWriter, Spool
    from execblog.pages.plan import plan_site

    conversion_warnings = [w for view in views for w in view.warnings]  # cached views too: until fixed
    # Only the views are needed from here on: the posts (their text, notebooks) are let go
    # before the pages are rendered, which at 10,000 posts is ~100 MB.
    declared = stamp.declared(posts)
    stand_in_posts = [e.source.name for e in executed if e.stand_in_models]
    report = replace(report, posts=[])
    del all_posts, posts, executed, read_cache
    # Every process forked from here on (the views cache's writer, page workers, the index's) counts what
    # this one holds, freed or not: the posts' text is given back first.
    release_freed()
    save_views()
    for warning in conversion_warnings:
        log(opts, f"warning: {warning}")
    plan = plan_site(views, config, translator)
    key = context_key(site_dir, config, opts, translator.path, package_fingerprint())
    page_cache = PageCache(cache, opts.out_dir, key, {v.name: v for v in views}, view_keys, earlier, hold=opts.resident)
    freeze_loaded()  # the views, the plan and the last build's pages
    scan_key = page_cache.scan_key(report.secrets)
    # A build whose secret scan reads every file stages the whole site; the others stage only what changes.
    in_place = page_cache.scanned_with(scan_key)
    writer = SiteWriter(opts.out_dir, in_place=in_place)
    index: Background | None = None
    spool = Spool(cache)
    try:
        from execblog.execution.redact import Redactor, scan_data

        redactor = Redactor(report.secrets)  # made once here, inherited by the workers

        def index_files() -> list[tuple[str, str, bool, list[SecretFinding] | None]]:
            """The search index put in the stage: (path, digest, linked, findings), a file written anew
            checked for secrets as it is written (a linked one is the final scan's, as a kept page is)."""
            done = []
            for rel, data in search_files(*BodyStore.current().records(plan.posts, view_keys), spool):
                digest, linked = writer.place(rel, data)
                done.append((rel, digest, linked, None if linked else scan_data(redactor, writer.stage / rel, data)))
            return done

        # The index and the pages do not depend on each other: a process of its own assembles it meanwhile,
        # started before the renderer is made (in a one-post rebuild it is the last to finish).
        if opts.search_index:
            index = Background(index_files, fork=len(plan.posts) >= MIN_ITEMS)

        assets = ThemeAssets(writer, site_dir, config, cache)
        pages = PageRenderer(
            config, translator, site_dir / "theme", assets.urls, site_dir / LAYOUTS_DIR, cache / "templates"
        )
        page_findings: list[SecretFinding] = []
        page_scanned: set[str] = set()  # pages whose final bytes were scanned as they were written
        claimed: set[str] = set()  # pages the workers write into the stage themselves

        uses: dict[PageUse, PageUse] = {}  # a site's pages hold a dozen distinct uses, kept for every page

        def render(page: Page) -> tuple[tuple[PageUse | None, ReadsByPost], tuple[int, int]]:
            """In a worker: ((what the parent needs), where the spool holds the page's bytes, with
            asset URL placeholders). Pages share their uses and field lists: one object each, sent
            once in a batch of pages."""
            text, reads = pages.render_recorded(page)
            if opts.live_reload_script and page.output.endswith(".html"):
                text = text.replace("</body>", opts.live_reload_script + "</body>", 1)
            use = assets.use(text)
            held = spool.put(text.encode("utf-8"))
            return (uses.setdefault(use, use) if use is not None else None, by_post(reads)), held

        def finish(page: Page, held: tuple[int, int], urls: tuple[str, str]) -> Finished:
            """In a worker: the page with its asset URLs, checked for secrets and, when claimed,
            put in the stage; only a page the parent must write itself comes back whole."""
            data = assets.fill_page(spool.get(held), *urls)
            digest = hashlib.sha256(data).hexdigest()
            findings = scan_data(redactor, writer.stage / page.output, data)
            if page.output in claimed:
                return Finished(digest, findings, writer.put(page.output, data, digest), None)
            return Finished(digest, findings, False, data)

        def asset_urls(page: Page, use: PageUse | None, css: dict[str, dict[frozenset[str], str]]) -> tuple[str, str]:
            """(stylesheet URL, script URL) of a page; the parent makes them (and their files)."""
            return (css[page.kind][use.tokens], assets.script_url(use.scripts)) if use is not None else ("", "")

        # A page kept from the last build is reused when its shape and what it read are the same.
        shapes = {page.output: page_shape(page) for page in plan.pages}
        kept = {
            page.output: record
            for page in plan.pages
            if (record := page_cache.reusable(page, shapes[page.output])) is not None
            and writer.previous.get(page.output) == record.digest
        }
        todo = [page for page in plan.pages if page.output not in kept]
        claimed.update(writer.claim([page.output for page in todo]))
        # A kind's stylesheets are known once all its pages are rendered (or known from the last build).
        css: dict[str, dict[frozenset[str], str]] = {}
        urls: dict[str, tuple[str, str]] = {}  # page -> (stylesheet URL, script URL)

        def between(public: list[tuple[PageUse | None, ReadsByPost]]) -> list[tuple[str, str]]:
            by_kind: dict[str, list[frozenset[str]]] = {}
            used = [(page, use) for page, (use, _) in zip(todo, public, strict=True)]
            used += [(page, record.use) for page in plan.pages if (record := kept.get(page.output))]
            for page, use in used:
                if use is not None:
                    by_kind.setdefault(page.kind, []).append(use.tokens)
            css.update(assets.stylesheets(by_kind))
            urls.update((page.output, asset_urls(page, use, css)) for page, use in used)
            return [urls[page.output] for page in todo]

        public, finished = two_stage_map(
            lambda i: render(todo[i]),
            between,
            lambda i, held, page_urls: finish(todo[i], held, page_urls[i]),
            range(len(todo)),
            lambda n: progress.count("writing pages", n, len(plan.pages)),
        )
        results = {
            page.output: (uses.setdefault(use, use) if use is not None else None, reads, done)
            for page, (use, reads), done in zip(todo, public, finished, strict=True)
        }

        def again(page: Page) -> tuple[PageUse | None, ReadsByPost, Finished]:
            """A kept page rendered again, with the asset URLs its record's use has now (the parent writes it)."""
            (use, reads), held = render(page)
            return use, reads, finish(page, held, urls[page.output])

        # a kept page linking an asset that changed (another page of its kind needs more rules) is rendered again
        stale = [
            page
            for page in plan.pages
            if (record := kept.get(page.output))
            and record.use is not None
            and (record.css, record.js) != urls[page.output]
        ]
        claimed.clear()
        results.update(zip((page.output for page in stale), parallel_map(again, stale), strict=True))
        for page in plan.pages:
            rel = page.output
            if rel not in results and writer.reuse(rel, kept[rel].digest):
                page_cache.record(rel, kept[rel])
                continue
            use, reads, done = results[rel] if rel in results else again(page)
            if done.data is None:
                writer.record(rel, done.digest, done.linked)
            else:
                writer.write_bytes(rel, done.data)
            page_findings.extend(done.findings)
            page_scanned.add(rel)
            page_cache.record(rel, PageRecord(shapes[rel], reads, use, *urls[rel], done.digest))
        for out_path, asset in plan.assets:
            writer.copy_file(out_path, asset.source)
        if index is not None:
            for rel, digest, linked, findings in index.result():
                writer.adopt(rel, digest, linked)
                if findings is not None:
                    page_findings.extend(findings)
                    page_scanned.add(rel)
        scanned = (
            [writer.stage / rel for rel in sorted(writer.fresh) if rel not in page_scanned]
            if page_cache.scanned_with(scan_key)
            else [writer.stage]
        )
        _scan_secrets(
            scanned,
            report.secrets,
            site_dir / config.execution.freeze_dir,
            report.executed,
            writer.stage,
            {view.name: view.path for view in views},
            found=page_findings,
            skip=page_scanned,
        )
        writer.commit()
        page_cache.save(scan_key)
    except BaseException:
        if index is not None:
            index.cancel()  # before the stage it writes into is removed
        writer.abort()
        raise
    finally:
        spool.close()
        progress.stop()
    if not failures:
        stamp.save(
            declared,
            min(due) if due else None,
            tuple(site_dir / config.execution.freeze_dir / name for name in report.executed),
        )
    _report_failures(failures, shown)
    result = BuildResult(
        posts=len(plan.posts),
        posts_converted=converted,
        pages=len(plan.pages),
        files_written=len(writer.written) - writer.reused,
        files_reused=writer.reused,
        seconds=time.perf_counter() - start,
        executed=list(report.executed),
        stand_in_posts=stand_in_posts,
        warnings=list(report.warnings) + conversion_warnings,
        failures=failures,
    )
    log(
        opts,
        f"built {result.posts} posts ({result.posts_converted} converted), {result.pages} pages "
        f"in {result.seconds:.2f} s ({result.files_written} files written, {result.files_reused} unchanged)",
    )
    if result.stand_in_posts:
        log(opts, "on stand-in models (banner shown): " + ", ".join(result.stand_in_posts))
    return result


def _report_failures(failures: list[str], shown: set[str]) -> None:
    """Each failure once: the execution progress already printed its own."""
    for message in failures:
        if message not in shown:
            print(printable(f"error: {message}"), file=sys.stderr)


def _scan_secrets(
    paths: list[Path],
    secrets,
    freeze_dir: Path,
    executed: list[str],
    stage: Path | None = None,
    folders: Mapping[str, str] | None = None,
    found: list[SecretFinding] | None = None,
    skip: Collection[str] = (),
) -> None:
    """Last line of defence: no secret value may reach the site or the freeze.
    A freeze entry this build wrote (`executed`) whose entry or page folder
    (`folders`: post name -> its folder in `stage`, the site being written) holds
    one is removed: the freeze is committed, and the next build runs the post again.
    `found`: what the render workers found in the pages they wrote, the files of
    `stage` named in `skip` (left out of the scan here: their bytes were scanned as written)."""
    from execblog.execution.freeze import discard_entry
    from execblog.execution.redact import scan_for_secrets
    from execblog.fsutil import files_under
    from execblog.parallel import MIN_ITEMS, parallel_map

    # every other file of a full build is read: the files are scanned on every core, in order
    inside = os.path.join(stage, "") if stage is not None else None
    files = [
        Path(name)
        for p in [*paths, freeze_dir]
        for name, _ in files_under(p) or []
        if inside is None or not (name.startswith(inside) and name[len(inside) :] in skip)
    ]
    size = max(1, len(files) // MIN_ITEMS)
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    findings = sorted(
        {f for found in parallel_map(lambda chunk: scan_for_secrets(chunk, secrets), chunks) for f in found}
        | set(found or ()),
        key=lambda f: (str(f.path), f.line or 0, f.what),
    )
    if not findings:
        return
    folders = folders or {}

    def holds(name: str) -> bool:
        places = [freeze_dir / name] + ([stage / folders[name]] if stage is not None and name in folders else [])
        return any(f.path.is_relative_to(place) for f in findings for place in places)

    removed = [name for name in executed if holds(name)]
    for name in removed:
        discard_entry(freeze_dir, name)
    frozen_before = sorted(
        {f.path.relative_to(freeze_dir).parts[0] for f in findings if f.path.is_relative_to(freeze_dir)} - set(removed)
    )
    where = "\n  ".join(str(f) for f in findings[:10])
    hint = "the site was not written; remove the secret from the post's code or outputs"
    if removed:
        hint += f"; the new freeze entries of {', '.join(removed)} were removed and run again next time"
    if frozen_before:
        hint += (
            f"; entries frozen before ({', '.join(frozen_before)}) hold it too: "
            f"run them again with `execblog build --force --post NAME`"
        )
    raise BuildError(f"a secret value is still present in the output:\n  {where}", hint=hint)


def _select_posts(posts: list[SourcePost], opts: BuildOptions) -> list[SourcePost]:
    now = datetime.now(UTC)
    return [p for p in posts if (opts.drafts or not p.draft) and (opts.future or p.date <= now)]


def _markdown_options(config: SiteConfig, t: Translator) -> MarkdownOptions:
    from execblog.convert.markdown import CALLOUT_TYPES, MarkdownOptions

    m = config.markup
    return MarkdownOptions(
        unsafe_html=m.unsafe_html,
        typographer=m.typographer,
        math=m.math,
        highlight=m.highlight,
        code_styles=(m.light_style, m.dark_style),
        callout_titles={kind: t(f"callout_{kind}") for kind in CALLOUT_TYPES},
    )


def execution_settings(config: SiteConfig, opts: BuildOptions):
    """Map the site config and the command line onto the execution stage's settings."""
    from execblog.execution.execute import ExecutionSettings
    from execblog.models import resolve as models
    from execblog.models.standins import site_recipes

    name = opts.profile or config.default_profile
    if name not in config.profiles and name != "auto":
        known = ", ".join(sorted(set(config.profiles) | {"auto"}))
        raise BuildError(
            f"unknown profile `{name}`",
            config.site_dir / "site_config.yaml",
            hint=f"use one of: {known}, or define it under `profiles:`",
        )
    profile = config.profiles.get(name, Profile())
    ex = config.execution
    standins = config.site_dir / ex.standins_dir
    recipes = site_recipes(config)

    def resolve(post: SourcePost):
        resolution = models.resolve_models(
            list(post.run.models),
            profile.models,
            standins,
            recipes=recipes,
            bundled=config.bundled_models,
            size=profile.standin_size,
        )
        if profile.models == "offline" and resolution.unavailable:
            from execblog.content.read import front_matter_line

            missing = ", ".join(f"`{m}`" for m in resolution.unavailable)
            raise BuildError(
                f"post `{post.name}` declares {missing}, with no stand-in recipe, and profile `{name}` runs offline",
                post.path,
                front_matter_line(post, "models"),
                hint='add a recipe for it under `standins:` in site_config.yaml (README, "Profiles and '
                'models"), or run it with real models: `make models`, then a profile with models: auto '
                "or real",
            )
        return resolution

    force: frozenset[str] | Literal["all"] = frozenset()
    if opts.force:
        force = frozenset(opts.only_posts) if opts.only_posts else "all"
    return ExecutionSettings(
        site_dir=config.site_dir,
        freeze_dir=config.site_dir / ex.freeze_dir,
        kernel_name=ex.kernel,
        profile=name,
        profile_parameters=profile.parameters,
        profile_env=profile.env,
        cli_parameters=opts.parameters,
        cell_timeout=ex.cell_timeout,
        post_timeout=ex.post_timeout,
        jobs=opts.jobs or ex.jobs,
        gpu_slots=ex.gpu_slots,
        keep_going=opts.keep_going,
        force_posts=force,
        only_posts=frozenset(opts.only_posts) or None,
        allow_execution=opts.execute,
        # a profile that runs on stand-ins runs `requires: gpu` posts on the CPU too
        run_gpu_posts_without_gpu=profile.models == "offline",
        secret_env_names=ex.secret_env,
        provenance_packages=ex.provenance_packages,
        resolve_models=resolve,
        progress=not opts.quiet,
        spares=_spares(opts),
    ), profile


def _spares(opts: BuildOptions):
    if not opts.warm_kernels or not opts.execute:
        return None
    from execblog.execution.warm import shared_pool

    return shared_pool(opts.warm_kernels)


def _check_strict(profile: Profile, name: str) -> None:
    """A strict profile (the GPU publish) refuses to run where it cannot do its job."""
    if not profile.strict:
        return
    from execblog.execution.devices import cuda_status

    found = cuda_status()
    if not found.available:
        raise BuildError(
            f"profile `{name}` needs CUDA, but {found.detail}",
            hint="run it on the GPU runner, or use PROFILE=auto / PROFILE=offline here",
        )


def _execute(posts: list[SourcePost], config: SiteConfig, opts: BuildOptions):
    from execblog.execution.execute import execute_posts

    settings, profile = execution_settings(config, opts)
    name = settings.profile
    if any(p.executable and p.execute for p in posts) and opts.execute:
        _check_strict(profile, name)
    if opts.shard:  # a shard only executes; the merge job renders, strictly
        settings = replace(settings, only_posts=_shard_posts(posts, settings, opts.shard))
    else:  # nothing may deploy with outputs older than the code, or none at all
        settings = replace(settings, strict=profile.strict)
    report = execute_posts(posts, settings)
    failures = [f.message() for f in report.failures]
    shown = set() if opts.quiet else set(failures)  # the progress output printed these as they happened
    failures += report.refused
    for warning in report.warnings:
        log(opts, f"warning: {warning}")
    return report, failures, shown


def _shard_posts(posts: list[SourcePost], settings, shard: tuple[int, int]) -> frozenset[str]:
    """This shard's part (shards.assign) of the posts a build would execute
    (execute.posts_to_run: the decision the build and `make status` take)."""
    from execblog.execution.execute import posts_to_run
    from execblog.execution.freeze import CorruptEntryError
    from execblog.execution.shards import assign

    store = settings.store()
    durations = {}
    for name in posts_to_run(posts, settings):
        try:
            entry = store.load(name)
        except CorruptEntryError:
            entry = None
        durations[name] = float(entry.meta.get("duration_s") or 0) if entry else None
    index, total = shard
    return frozenset(n for n, k in assign(durations, total).items() if k == index)


def print_status(site_dir: Path, profile: str | None, parameters: dict[str, Any], as_json: bool = False) -> int:
    """The status table, or with `as_json` one object per post plus whether a
    publish would show it now (`published`: not a draft, not dated in the future)
    and its date, for the publish workflow's plan job."""
    from execblog.execution.execute import format_statuses, post_statuses

    config = load_config(site_dir.resolve())
    opts = BuildOptions(site_dir=site_dir, out_dir=site_dir / "public", profile=profile, parameters=parameters)
    settings, _ = execution_settings(config, opts)
    posts = read_posts(config.site_dir / "posts", config.zone, config.author, config.taxonomies.values())
    statuses = post_statuses(posts, settings)
    if not as_json:
        print(format_statuses(statuses))
        return 0
    published = {p.name for p in _select_posts(posts, opts)}
    dates = {p.name: p.date.isoformat() for p in posts}
    rows = [
        {
            "name": s.name,
            "path": s.path,
            "status": s.status,
            "detail": s.detail,
            "published": s.name in published,
            "date": dates[s.name],
        }
        for s in statuses
    ]
    print(json.dumps({"profile": settings.profile, "posts": rows}, ensure_ascii=False, indent=1))
    return 0


def _import_page_stages() -> None:
    """Import the modules that plan, render and write the pages (a tenth of a one-post build's
    time), while a process of its own converts the edited posts (_post_views' `meanwhile`)."""
    import execblog.incremental.pages
    import execblog.output.render
    import execblog.output.search_index
    import execblog.output.static_assets
    import execblog.output.write
    import execblog.pages.plan  # noqa: F401


def _post_views(
    executed: list[ExecutedPost],
    known: set[str],
    config: SiteConfig,
    t: Translator,
    store_path: Path,
    done=None,
    hold: bool = False,
    search: bool = True,
    edited: set[str] | frozenset[str] = frozenset(),
    meanwhile: Callable[[], None] | None = None,
) -> tuple[list[PostView], int, dict[str, str], dict[str, tuple[str, PostView]], Callable[[], None]]:
    """Each post converted to HTML and measured (stages 3 and 4), reusing the
    result of the last build for posts whose inputs did not change, so editing
    one post re-renders one post. Also returns each post's view key and, for the
    posts converted again, the view the cache held before (key, view): what the
    incremental renderer compares the new one with. `hold`: keep the views in
    this process for the next build (`serve`); `known`: the names of every post in the site;
    `search`: a post converted now gets its search record. The views returned hold neither their
    content nor their records: incremental/bodies keeps those, as each converted post arrives;
    `edited`: the posts read from their files again, which most likely convert again;
    `meanwhile`: the caller's work to do once the views are loaded, before waiting for those.
    Last, what saves the views for the next build: for the caller to call once it let go of the posts."""
    from execblog.incremental.bodies import BodyStore
    from execblog.incremental.views import ViewStore
    from execblog.parallel import MIN_ITEMS, Background, freeze_loaded, parallel_imap

    context = hashlib.sha256(repr((package_fingerprint(), config)).encode())
    context.update(t.path.read_bytes())
    keys = {item.source.name: _view_key(item, context) for item in executed}
    store = ViewStore(store_path, hold)
    early_items = [item for item in executed if item.source.name in edited]
    early: Background | None = None
    if early_items and len(early_items) < MIN_ITEMS and not store.held and store.path.exists():
        # A few edited posts: a process of its own converts them while the last build's views load
        # (the load takes as long as converting a post). A result is used once the keys say the post
        # needed converting, an error only then: the same views and errors as converting after the load.
        # That process makes the converter too: this one may then never import the Markdown stack.
        def convert_early() -> list[tuple[tuple[PostView, Row] | None, BaseException | None]]:
            convert = _converter(config, t, store_path.parent / "notebooks", search, context.hexdigest())
            return [_outcome(lambda item: convert(item, keys[item.source.name]), item) for item in early_items]

        early = Background(convert_early)
    try:
        saved = store.load()
        freeze_loaded()
        bodies = BodyStore.open(store_path.parent / "bodies.sqlite")
        stored = bodies.keys()

        def reusable(name: str) -> bool:
            if name not in saved:
                return False
            key, view = saved[name]
            return key == keys[name] and key in stored and all(a.source.exists() for a in view.assets)

        todo = [item for item in executed if not reusable(item.source.name)]
        if meanwhile is not None:
            meanwhile()
    except BaseException:
        if early is not None:
            early.cancel()  # (Ctrl+C) not left writing to a pipe nobody reads
        raise
    fresh: dict[str, PostView] = {}

    def keep(name: str, made: tuple[PostView, Row]) -> None:
        """A converted post's view, its row stored as it arrives: this process never holds all of them."""
        fresh[name] = made[0]
        bodies.put(keys[name], made[1])

    if early is not None:
        needed = {item.source.name for item in todo}
        for item, (made, error) in zip(early_items, early.result(), strict=True):
            if item.source.name in needed:
                if error is not None:
                    raise error
                assert made is not None
                keep(item.source.name, made)
    rest = [item for item in todo if item.source.name not in fresh]
    if rest:
        convert = _converter(config, t, store_path.parent / "notebooks", search, context.hexdigest())
        # a post converted for the first time gets no memo of its code blocks (see _converter)
        made_all = parallel_imap(lambda item: convert(item, keys[item.source.name], item.source.name in saved), rest)
        for item, made in zip(rest, made_all, strict=True):
            keep(item.source.name, made)
            if done:
                done(len(fresh))
    elif fresh and done:
        done(len(fresh))
    bodies.commit()
    names = [item.source.name for item in executed]
    views = [fresh[n] if n in fresh else saved[n][1] for n in names]
    # posts this build leaves out (drafts in a publish) keep their views for the next build that shows them
    current = {n: v for n, v in saved.items() if n in known} | {
        n: (keys[n], v) for n, v in zip(names, views, strict=True)
    }
    earlier = {name: saved[name] for name in fresh if name in saved}
    # The rows this build's views do not name; the earlier views' stay until the next build (the page
    # cache compares their content with the new views').
    bodies.remove_unused(
        stored - {key for key, _ in current.values()} - {key for key, _ in earlier.values()}, len(current)
    )

    changed = bool(todo) or current.keys() != saved.keys()

    def save() -> None:  # holds `current`, not the posts (`todo`): the caller lets go of those first
        if changed:
            store.save(current)

    return views, len(fresh), keys, earlier, save


def _converter(config: SiteConfig, t: Translator, notebooks_dir: Path, search: bool, context: str):
    """Stages 3 and 4 for one post: made only when some post needs converting (it imports nbconvert).
    It gives the post's view as the build's process holds it and the row the body store keeps
    (incremental.bodies.detach). `search`: the row holds the post's search record too; `context`:
    what the views are made in (package and site configuration), for the code blocks kept from a
    post's last conversion."""
    from execblog.convert.markdown import MarkdownRenderer
    from execblog.convert.notebook import DEFAULT_LABELS, ConverterOptions, NotebookConverter
    from execblog.incremental.bodies import detach
    from execblog.incremental.highlights import HighlightMemo
    from execblog.pages.plan import SiteUrls, post_view, with_search_record
    from execblog.pages.social_card import SocialCards

    renderer = MarkdownRenderer(_markdown_options(config, t))
    converter = NotebookConverter(
        renderer,
        ConverterOptions(
            show_stderr=config.execution.warnings,
            sanitize_html=config.execution.sanitize_html,
            cache_dir=notebooks_dir,
            labels={key: t(f"nb_{key}") for key in DEFAULT_LABELS},  # the theme's language
            repository=config.repository,
            freeze_dir=config.execution.freeze_dir,
        ),
    )
    urls = SiteUrls(config.base_url)
    highlighted = HighlightMemo(notebooks_dir / "highlight", context)
    cards = (
        SocialCards(notebooks_dir.parent / "cards", config.title, config.social_cards.figure)
        if config.social_cards.enabled
        else None
    )

    def convert(item: ExecutedPost, key: str, remember: bool = True) -> tuple[PostView, Row]:
        """`key`: the post's view key. `remember`: keep the post's code blocks for its next
        conversion. A post converted before is likely edited again; the memo of every post a first
        build converts would be a file per post (a tenth of a full build's time) for the few that change."""
        try:
            earlier = highlighted.load(item.source.name) if remember else {}
            with renderer.reusing(earlier) as blocks:
                view = post_view(converter.convert(item), config, t, urls, cards)
            if remember:
                highlighted.save(item.source.name, blocks, earlier)
            return detach(with_search_record(view) if search else view, key)
        except BuildError:
            raise
        except Exception as exc:  # a bug or an unexpected output: say which post
            raise BuildError(
                f"could not turn the post into HTML: {type(exc).__name__}: {exc}",
                item.source.path,
                hint="please report this with the post attached",
            ) from exc

    return convert


def _outcome(convert: Callable[[ExecutedPost], T], item: ExecutedPost) -> tuple[T | None, BaseException | None]:
    """(what `convert` made, None) or (None, the error converting `item` raised), for a conversion whose
    error counts only if the post turns out to need converting."""
    try:
        return convert(item), None
    except BuildError as exc:
        return None, exc


def _view_key(item: ExecutedPost, context) -> str:
    h = context.copy()
    post = item.source
    h.update(post.text.encode())
    h.update(repr((post.date, post.lastmod)).encode())  # may come from the file's time, not its text
    # A post run in this build converts as its freeze entry restored later does: the same status
    # for conversion (convert reads it only to show provenance), provenance in the entry's key order.
    status = "frozen" if item.status == "executed" else item.status
    h.update(repr((status, item.notice, item.stand_in_models)).encode())
    h.update(json.dumps(item.provenance, sort_keys=True, default=str).encode())
    if item.notebook is not None:
        h.update(json.dumps(item.notebook, sort_keys=True, default=str).encode())
    for resource in post.resources:  # bundle images are measured for width/height
        st = resource.stat()
        h.update(f"{resource}:{st.st_size}:{st.st_mtime_ns}".encode())
    frozen = sorted(item.asset_dir.iterdir()) if item.asset_dir is not None and item.asset_dir.is_dir() else []
    for file in frozen:  # a replaced freeze file is verified again (freeze.ref_file)
        st = file.lstat()
        h.update(f"{file}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()
