"""Command line: `execblog build|serve|new|status ...` (the Makefile calls these)."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

from execblog.errors import BuildError, printable

DEBUG_VAR = "EXECBLOG_DEBUG"  # set to 1 to see the traceback of an internal error


def _parameters(values: list[str]) -> dict[str, Any]:
    """`-p name=value` options, typed like YAML scalars (execution.keys.parse_assignments)."""
    if not values:
        return {}
    from execblog.execution.keys import parse_assignments

    try:
        return parse_assignments(values)
    except ValueError as exc:
        raise BuildError(str(exc)) from None  # the message shows the form


def _shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise BuildError(f"--shard {text}: expected i/n, e.g. 1/2") from None
    if not 1 <= i <= n:
        raise BuildError(f"--shard {text}: i must be between 1 and n")
    return i, n


def _site_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--source", default=".", type=Path, help="site folder (site_config.yaml, posts/, theme/)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="execblog", description="Build a blog whose posts are executable notebooks.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="execute stale posts and write the site")
    _site_args(b)
    b.add_argument("-d", "--destination", default=None, type=Path, help="output folder (default: SITE/public)")
    b.add_argument("-D", "--drafts", action="store_true", help="include drafts")
    b.add_argument("-F", "--future", action="store_true", help="include posts dated in the future")
    b.add_argument("--base-url", help="override base_url from the config")
    b.add_argument("--no-search", action="store_true", help="skip the search index")
    b.add_argument("--no-execute", action="store_true", help="render executable posts from the freeze only")
    b.add_argument("--profile", help="execution profile (default: the config's default_profile)")
    b.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a post parameter (typed like YAML: 20, 1e-3, true, [1, 2], text)",
    )
    b.add_argument("--post", action="append", default=[], metavar="NAME", help="(re)execute only these posts")
    b.add_argument("--force", action="store_true", help="re-execute the selected posts even if fresh")
    b.add_argument("--keep-going", action="store_true", help="run the other posts when one fails")
    b.add_argument("-j", "--jobs", type=int, help="CPU posts to run in parallel")
    b.add_argument("--shard", help="execute only share i of n of the stale posts (i/n), no site written")

    s = sub.add_parser("serve", help="build with drafts and future posts, serve with live reload")
    _site_args(s)
    s.add_argument("--port", type=int, default=1313)
    s.add_argument("--bind", default="127.0.0.1")
    s.add_argument("-d", "--destination", default=None, type=Path)
    s.add_argument(
        "--no-warm",
        action="store_true",
        help="no spare kernels: a code edit re-runs its post in a cold kernel, as publish does",
    )

    n = sub.add_parser("new", help="scaffold a post")
    _site_args(n)
    n.add_argument("title")
    n.add_argument("--notebook", action="store_true", help="make it an executable (Jupytext) post")

    m = sub.add_parser("models", help="download every model the posts declare (front matter `models:`)")
    _site_args(m)
    m.add_argument("--list", action="store_true", help="only print the declared model ids, one per line")

    mf = sub.add_parser("merge-freeze", help="merge freeze entries uploaded by shard jobs")
    _site_args(mf)
    mf.add_argument("sources", nargs="+", type=Path, help="folders holding the shards' freeze entries")

    st = sub.add_parser("status", help="list each executable post as fresh / stale / never run / failed")
    _site_args(st)
    st.add_argument("--profile")
    st.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    st.add_argument("--json", action="store_true", help="machine-readable: one object per post, with its date")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        if not args.source.is_dir():
            raise BuildError(f"site folder not found: {args.source}", hint="pass an existing folder with -s DIR")
        if args.command == "build":
            return _build(args)
        if args.command == "serve":
            from execblog.commands.serve import serve

            return serve(args.source, args.destination, args.bind, args.port, warm=not args.no_warm)
        if args.command == "new":
            from execblog.commands.new import new_post

            path = new_post(args.source, args.title, notebook=args.notebook)
            print(path)
            return 0
        if args.command == "models":
            return _models(args)
        if args.command == "merge-freeze":
            return _merge_freeze(args)
        if args.command == "status":
            from execblog.pipeline import print_status

            return print_status(args.source, args.profile, _parameters(args.param), as_json=args.json)
    except BuildError as exc:
        print(printable(f"error: {exc.format()}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: one line, the traceback on request
        if os.environ.get(DEBUG_VAR):
            traceback.print_exc()
        print(printable(f"error: internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        print(
            f"  this is a bug in execblog: please report it with the command you ran "
            f"(rerun with {DEBUG_VAR}=1 for the traceback)",
            file=sys.stderr,
        )
        return 70
    return 2


def _models(args) -> int:
    from execblog.config import load_config
    from execblog.content.readers import read_posts
    from execblog.models.resolve import ModelsUnavailableError, download_models

    config = load_config(args.source.resolve())
    posts = read_posts(config.site_dir / "posts", config.zone, config.author, config.taxonomies.values())
    ids = sorted({m for p in posts for m in p.run.models})
    if args.list:
        print("\n".join(ids))
        return 0
    print(f"models declared by the posts: {', '.join(ids) or 'none'}", file=sys.stderr)
    try:
        done = download_models(ids, bundled=config.bundled_models)
    except ModelsUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for model_id, path in sorted(done.items()):
        print(f"{model_id}: {path}", file=sys.stderr)
    return 0


def _merge_freeze(args) -> int:
    from execblog.config import load_config
    from execblog.execution.shards import merge_freezes

    config = load_config(args.source.resolve())
    missing = [str(p) for p in args.sources if not p.is_dir()]
    if missing:
        raise BuildError(
            f"no such folder: {', '.join(missing)}", hint="pass the folder the shard artifacts were downloaded to"
        )
    from execblog.execution.secret_env import secret_env_values

    secrets = secret_env_values(os.environ, config.execution.secret_env)
    merged = merge_freezes(list(args.sources), config.site_dir / config.execution.freeze_dir, secrets)
    print(
        f"merged {len(merged)} freeze entr{'y' if len(merged) == 1 else 'ies'}: {', '.join(merged) or '-'}",
        file=sys.stderr,
    )
    return 0


def _build(args) -> int:
    from execblog.pipeline import BuildOptions, build_site

    opts = BuildOptions(
        site_dir=args.source,
        out_dir=args.destination or args.source / "public",
        drafts=args.drafts,
        future=args.future,
        base_url=args.base_url,
        search_index=not args.no_search,
        execute=not args.no_execute,
        profile=args.profile,
        parameters=_parameters(args.param),
        only_posts=frozenset(args.post),
        force=args.force,
        keep_going=args.keep_going,
        jobs=args.jobs,
        shard=_shard(args.shard),
    )
    result = build_site(opts)
    return 1 if result.failures else 0


def run() -> NoReturn:
    """`main` as a process: its exit code, without tearing the interpreter down (freeing a
    build's objects one by one takes longer than rendering a one-post edit). The exit
    handlers still run first: they stop any kernel left running."""
    try:
        code = main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1 if exc.code else 0
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or coverage tool writes its results at the interpreter's exit
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
