"""A small GitHub Actions runner that runs a workflow's jobs from its YAML.

What it does as GitHub does: jobs in `needs` order, job and step `if:` (the
expression subset the publish workflow uses), matrix expansion, job outputs,
`${{ }}` interpolation, each `run:` step with `bash -eo pipefail` in the job's
own fresh workspace, as a non-root user when the tests run as root, with the
files and variables GitHub provides (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH,
GITHUB_STEP_SUMMARY, GITHUB_REF_NAME, GITHUB_SHA, GITHUB_WORKSPACE, RUNNER_TEMP...).
The workflow file is read from the pushed commit, as GitHub does.

`uses:` steps are replaced by their documented behaviour: checkout fetches
GITHUB_SHA at depth 1 from a local bare "origin"; upload-artifact v4 keeps one
folder per artifact name (a name used twice in a run fails) and
download-artifact with `pattern` puts each match in a folder of its own;
configure-pages returns the Pages URL given to the runner; upload-pages-artifact
makes `artifact.tar`; deploy-pages unpacks it as the live site; setup-python
is a no-op (the machine's Python 3.11 is on PATH).

To stay fast, nothing is installed: every checkout gets `.venv` pointing at one
prepared runner venv (the worktree's packages through a .pth file, with its
own kernel registration) and the Makefile's install stamps are made current,
so `make install-runtime` finds nothing to do.
"""

from __future__ import annotations

import fnmatch
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


# --- expressions --------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||<=|>=|[!<>(),])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_*][A-Za-z0-9_\-]*)*))"
)


def _truthy(v: Any) -> bool:
    return v not in (None, "", 0, False) and not (isinstance(v, float) and v == 0.0)


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if a is None or b is None:
        return a is b
    return a == b


class Expr:
    """Parse and evaluate one expression against contexts and status functions."""

    def __init__(self, text: str, ctx: dict[str, Any], status: dict[str, bool]):
        self.tokens, pos = [], 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot parse expression at {text[pos:]!r}")
            kind = m.lastgroup
            assert kind is not None  # every alternative of _TOKEN is a named group
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i, self.ctx, self.status = 0, ctx, status

    def value(self) -> Any:
        v = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"trailing tokens {self.tokens[self.i :]}")
        return v

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def _take(self, op=None):
        tok = self._peek()
        if op is not None and tok[1] != op:
            raise ValueError(f"expected {op}, got {tok}")
        self.i += 1
        return tok

    def _or(self):
        v = self._and()
        while self._peek()[1] == "||":
            self._take()
            rhs = self._and()
            v = v if _truthy(v) else rhs
        return v

    def _and(self):
        v = self._cmp()
        while self._peek()[1] == "&&":
            self._take()
            rhs = self._cmp()
            v = rhs if _truthy(v) else v
        return v

    def _cmp(self):
        v = self._unary()
        while self._peek()[1] in ("==", "!=", "<", ">", "<=", ">="):
            op = self._take()[1]
            rhs = self._unary()
            if op == "==":
                v = _eq(v, rhs)
            elif op == "!=":
                v = not _eq(v, rhs)
            else:
                v = {"<": v < rhs, ">": v > rhs, "<=": v <= rhs, ">=": v >= rhs}[op]
        return v

    def _unary(self):
        if self._peek()[1] == "!":
            self._take()
            return not _truthy(self._unary())
        return self._atom()

    def _atom(self):
        kind, tok = self._take()
        if kind == "str":
            return tok[1:-1].replace("''", "'")
        if kind == "num":
            return float(tok) if "." in tok else int(tok)
        if tok == "(":
            v = self._or()
            self._take(")")
            return v
        if kind != "name":
            raise ValueError(f"unexpected {tok!r}")
        if tok in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[tok]
        if self._peek()[1] == "(":
            self._take("(")
            args = []
            while self._peek()[1] != ")":
                args.append(self._or())
                if self._peek()[1] == ",":
                    self._take()
            self._take(")")
            return self._call(tok, args)
        value: Any = self.ctx
        for part in tok.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def _call(self, name: str, args: list) -> Any:
        name = name.lower()
        if name in self.status:
            return self.status[name]
        if name == "fromjson":
            return json.loads(args[0])
        if name == "tojson":
            return json.dumps(args[0])
        if name == "format":
            return re.sub(r"\{(\d+)\}", lambda m: _text(args[1 + int(m.group(1))]), args[0])
        if name == "contains":
            hay, needle = args
            return (
                any(_eq(x, needle) for x in hay) if isinstance(hay, list) else str(needle).lower() in str(hay).lower()
            )
        raise ValueError(f"function {name}() is not simulated")


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v)


def evaluate(text: str, ctx: dict, status: dict) -> Any:
    text = text.strip()
    if text.startswith("${{") and text.endswith("}}") and text.count("${{") == 1:
        text = text[3:-2]
    return Expr(text, ctx, status).value()


def interpolate(value: Any, ctx: dict, status: dict) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", value, re.S)
        if whole and value.count("${{") == 1:
            return Expr(whole.group(1), ctx, status).value()
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _text(Expr(m.group(1), ctx, status).value()), value, flags=re.S)
    if isinstance(value, dict):
        return {k: interpolate(v, ctx, status) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, ctx, status) for v in value]
    return value


# --- the runner ---------------------------------------------------------------------------------
@dataclass
class JobRun:
    name: str
    result: str = "skipped"  # success, failure, skipped
    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""
    seconds: float = 0.0
    runs_on: Any = None


@dataclass
class RunResult:
    jobs: dict[str, JobRun]
    annotations: list[str]
    summary: str

    @property
    def conclusion(self) -> str:
        return "failure" if any(j.result == "failure" for j in self.jobs.values()) else "success"

    def log(self) -> str:
        return "\n".join(f"=== {name}: {j.result}\n{j.log}" for name, j in self.jobs.items())


class Machine:
    """The runner machines (one user, one HOME kept between jobs like a persistent
    runner), the bare origin, artifact storage and the live Pages site."""

    def __init__(self, root: Path, venv: Path, pages_url: str):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        self.pages_url = pages_url
        self.user = _runner_user()
        self.home = self._dir("home")
        self.origin = root / "origin.git"
        self.artifacts = root / "artifacts"
        self.live = root / "live"
        self.runs = 0
        self.venv = venv

    def _dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        self.own(path)
        return path

    def own(self, path: Path) -> None:
        if self.user:
            subprocess.run(["chown", "-R", f"{self.user[0]}:{self.user[1]}", str(path)], check=True)

    def sh(self, args: list[str], cwd: Path, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
        """A command as the runner user."""
        base = {"PATH": BASE_PATH, "HOME": str(self.home), "LANG": "C.UTF-8"}
        extra: dict[str, Any] = {"user": self.user[0], "group": self.user[1], "extra_groups": []} if self.user else {}
        return subprocess.run(args, cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True, **extra, **kw)

    def git(self, cwd: Path, *args: str) -> str:
        out = self.sh(["git", *args], cwd)
        if out.returncode:
            raise RuntimeError(f"git {' '.join(args)}: {out.stderr}")
        return out.stdout.strip()

    def link_venv(self, workspace: Path) -> None:
        (workspace / ".venv").symlink_to(self.venv)
        later = time.time() + 3600  # stamps newer than any checked-out file: nothing to install
        for i, stamp in enumerate((".torch-pypi", ".torch-cpu", ".deps", ".pkg")):
            path = self.venv / stamp
            path.touch()
            os.utime(path, (later + i, later + i))

    # -- origin ----------------------------------------------------------------------------------
    def create_origin(self, seed: Path) -> str:
        """origin.git with `seed`'s files as the first commit on main."""
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.origin)], check=True)
        self.own(self.origin)
        self.own(seed)
        self.git(seed, "init", "-q", "-b", "main")
        self.commit(seed, "site")
        self.git(seed, "remote", "add", "origin", str(self.origin))
        self.git(seed, "push", "-q", "origin", "main")
        return self.git(seed, "rev-parse", "HEAD")

    def commit(self, clone: Path, message: str) -> str:
        self.git(clone, "add", "-A")
        self.git(clone, "-c", "user.name=Author", "-c", "user.email=author@example.org", "commit", "-q", "-m", message)
        return self.git(clone, "rev-parse", "HEAD")

    def clone(self, name: str) -> Path:
        path = self.root / "clones" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.own(path.parent)
        self.git(path.parent, "clone", "-q", str(self.origin), name)
        return path

    # -- a workflow run --------------------------------------------------------------------------
    def run(
        self,
        event: str,
        sha: str,
        ref: str = "refs/heads/main",
        inputs: dict | None = None,
        env_override: dict | None = None,
        after_job: Callable[[str], None] | None = None,
    ) -> RunResult:
        """Run `.github/workflows/publish.yml` as committed at `sha`."""
        self.runs += 1
        text = self.git(self.origin, "show", f"{sha}:.github/workflows/publish.yml")
        wf = yaml.safe_load(text)
        wf_env = {**{k: _text(v) for k, v in (wf.get("env") or {}).items()}, **(env_override or {})}
        github = {
            "event_name": event,
            "ref": ref,
            "ref_name": ref.rsplit("/", 1)[-1],
            "sha": sha,
            "repository": "owner/notes",
            "run_id": str(1000 + self.runs),
            "run_attempt": "1",
            "event": {"repository": {"default_branch": "main"}},
            "workspace": "",
        }
        run_dir = self._dir(f"run{self.runs}")
        jobs: dict[str, JobRun] = {}
        annotations: list[str] = []
        summary: list[str] = []
        pending = list(wf["jobs"])
        while pending:
            ready = [j for j in pending if all(n in jobs for n in _needs(wf["jobs"][j]))]
            assert ready, f"needs cycle among {pending}"
            for job_id in ready:
                pending.remove(job_id)
                jobs[job_id] = self._job(
                    job_id, wf["jobs"][job_id], wf_env, github, inputs or {}, jobs, run_dir, annotations, summary
                )
                if after_job:
                    after_job(job_id)
        return RunResult(jobs, annotations, "".join(summary))

    def _job(self, job_id, job, wf_env, github, inputs, done, run_dir, annotations, summary) -> JobRun:
        needs = {n: {"result": done[n].result, "outputs": done[n].outputs} for n in _needs(job)}
        ctx = {"github": github, "inputs": inputs, "needs": needs, "env": dict(wf_env), "vars": {}, "secrets": {}}
        ok = all(n["result"] == "success" for n in needs.values())
        status = {
            "success": ok,
            "failure": any(n["result"] == "failure" for n in needs.values()),
            "always": True,
            "cancelled": False,
        }
        run = JobRun(job_id)
        if not _truthy(evaluate(job.get("if", "success()"), ctx, status)):
            return run
        matrix = {k: interpolate(v, ctx, status) for k, v in ((job.get("strategy") or {}).get("matrix") or {}).items()}
        combos = [{}] if not matrix else [{k: v} for k, values in matrix.items() for v in values]
        assert len(matrix) <= 1, "one matrix axis is simulated"
        if not combos:
            raise AssertionError(f"job {job_id}: empty matrix (GitHub fails the run here)")
        run.runs_on = interpolate(job.get("runs-on"), ctx, status)
        results = []
        start = time.perf_counter()
        for index, combo in enumerate(combos):
            results.append(self._instance(job_id, index, job, {**ctx, "matrix": combo}, run_dir, annotations, summary))
        run.seconds = time.perf_counter() - start
        run.log = "\n".join(r[2] for r in results)
        run.result = "failure" if any(r[0] == "failure" for r in results) else "success"
        run.outputs = results[-1][1]
        return run

    def _instance(self, job_id, index, job, ctx, run_dir, annotations, summary):
        base = run_dir / f"{job_id}-{index + 1}"
        workspace, temp = base / "work", base / "tmp"
        for path in (workspace, temp):
            path.mkdir(parents=True)
        self.own(base)
        github = {**ctx["github"], "workspace": str(workspace)}
        env = dict(ctx["env"])
        status0 = {"success": True, "failure": False, "always": True, "cancelled": False}
        job_env = interpolate(job.get("env") or {}, {**ctx, "github": github, "env": env}, status0)
        env.update({k: _text(v) for k, v in job_env.items()})
        steps_ctx: dict[str, dict] = {}
        extra_path: list[str] = []
        log: list[str] = []
        failed = False
        for n, step in enumerate(job.get("steps") or []):
            sctx = {
                **ctx,
                "github": github,
                "env": env,
                "steps": steps_ctx,
                "runner": {"temp": str(temp), "os": "Linux"},
            }
            status = {"success": not failed, "failure": failed, "always": True, "cancelled": False}
            if not _truthy(evaluate(step.get("if", "success()"), sctx, status)):
                if step.get("id"):
                    steps_ctx[step["id"]] = {"outcome": "skipped", "conclusion": "skipped", "outputs": {}}
                continue
            step_env = {k: _text(v) for k, v in interpolate(step.get("env") or {}, sctx, status).items()}
            name = interpolate(
                step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0], sctx, status
            )
            files = {
                key: temp / f"_{key.lower()}_{n}"
                for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
            }
            for path in files.values():
                path.touch()
            self.own(temp)
            outputs: dict[str, str] = {}
            if "uses" in step:
                action = step["uses"].split("@")[0]
                with_ = {k: _text(v) for k, v in interpolate(step.get("with") or {}, sctx, status).items()}
                try:
                    outputs, text = self._action(action, with_, workspace, github, ctx)
                    code = 0
                except ActionFailed as exc:
                    code, text = 1, str(exc)
            else:
                script = temp / f"step{n}.sh"
                script.write_text(interpolate(step["run"], sctx, status))
                self.own(script)
                variables = {
                    "CI": "true",
                    "GITHUB_ACTIONS": "true",
                    "GITHUB_EVENT_NAME": github["event_name"],
                    "GITHUB_REF": github["ref"],
                    "GITHUB_REF_NAME": github["ref_name"],
                    "GITHUB_SHA": github["sha"],
                    "GITHUB_REPOSITORY": github["repository"],
                    "GITHUB_RUN_ID": github["run_id"],
                    "GITHUB_RUN_ATTEMPT": github["run_attempt"],
                    "GITHUB_WORKSPACE": str(workspace),
                    "GITHUB_JOB": job_id,
                    "RUNNER_TEMP": str(temp),
                    "RUNNER_OS": "Linux",
                    **{k: str(v) for k, v in files.items()},
                }
                path = ":".join([*reversed(extra_path), BASE_PATH])
                proc = self.sh(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                    workspace,
                    env={**env, **step_env, **variables, "PATH": path},
                )
                code, text = proc.returncode, proc.stdout + proc.stderr
                outputs = _read_kv(files["GITHUB_OUTPUT"])
                env.update(_read_kv(files["GITHUB_ENV"]))
                extra_path += [p for p in files["GITHUB_PATH"].read_text().splitlines() if p]
                summary.append(files["GITHUB_STEP_SUMMARY"].read_text())
            annotations += [
                f"{job_id}: {line}" for line in text.splitlines() if line.startswith(("::error", "::warning"))
            ]
            log.append(f"--- {name} (exit {code})\n{text}")
            if step.get("id"):
                result = "success" if code == 0 else "failure"
                steps_ctx[step["id"]] = {"outcome": result, "conclusion": result, "outputs": outputs}
            failed = failed or code != 0
        octx = {**ctx, "github": github, "env": env, "steps": steps_ctx}
        job_outputs = {k: _text(interpolate(v, octx, status0)) for k, v in (job.get("outputs") or {}).items()}
        return ("failure" if failed else "success"), job_outputs, f"[{job_id} #{index + 1}]\n" + "\n".join(log)

    # -- actions -----------------------------------------------------------------------------------
    def _action(self, action: str, with_: dict, workspace: Path, github: dict, ctx: dict) -> tuple[dict, str]:
        if action == "actions/checkout":
            branch = github["ref_name"]
            self.git(workspace, "init", "-q")
            self.git(workspace, "remote", "add", "origin", str(self.origin))
            self.git(workspace, "fetch", "-q", "--depth=1", "origin", f"+{github['sha']}:refs/remotes/origin/{branch}")
            self.git(workspace, "checkout", "-q", "-B", branch, f"refs/remotes/origin/{branch}")
            self.link_venv(workspace)
            return {}, f"checked out {github['sha'][:8]}"
        if action == "actions/setup-python":
            return {"python-version": with_.get("python-version", "")}, "using the machine's Python"
        if action == "actions/configure-pages":
            url = self.pages_url.rstrip("/")
            host = url.split("/")[2]
            return {
                "base_url": url,
                "origin": f"https://{host}",
                "host": host,
                "base_path": "/" + url.split("/", 3)[3] if url.count("/") > 2 else "",
            }, f"Pages at {url}"
        if action == "actions/upload-artifact":
            return self._upload(with_["name"], workspace / with_["path"], with_.get("if-no-files-found", "warn"))
        if action == "actions/download-artifact":
            dest = Path(with_.get("path") or workspace)
            dest = dest if dest.is_absolute() else workspace / dest
            names = sorted(p.name for p in self.artifacts.glob("*")) if self.artifacts.is_dir() else []
            chosen = [n for n in names if fnmatch.fnmatch(n, with_.get("pattern", "*"))]
            for name in chosen:  # no merge-multiple: one folder per artifact
                shutil.copytree(self.artifacts / name, dest / name)
            self.own(dest) if dest.exists() else None
            return {"download-path": str(dest)}, f"downloaded {', '.join(chosen) or 'nothing'}"
        if action == "actions/upload-pages-artifact":
            name = with_.get("name") or "github-pages"
            tar_path = workspace.parent / "tmp" / "artifact.tar"
            site = workspace / with_.get("path", "_site")
            with tarfile.open(tar_path, "w") as tar:
                for path in sorted(site.rglob("*")):
                    rel = path.relative_to(site).as_posix()
                    if path.is_file() and not rel.startswith((".git/", ".github/")):
                        tar.add(path, arcname="./" + rel)
            return self._upload(name, tar_path, "error")
        if action == "actions/deploy-pages":
            tar_path = self.artifacts / (with_.get("artifact_name") or "github-pages") / "artifact.tar"
            if not tar_path.is_file():
                raise ActionFailed(f"no Pages artifact {tar_path.parent.name}")
            staging = self.root / "live.new"
            shutil.rmtree(staging, ignore_errors=True)
            with tarfile.open(tar_path) as tar:
                tar.extractall(staging, filter="data")
            shutil.rmtree(self.live, ignore_errors=True)
            staging.rename(self.live)
            return {"page_url": self.pages_url}, f"deployed to {self.pages_url}"
        raise AssertionError(f"{action} is not simulated")

    def _upload(self, name: str, path: Path, if_none: str) -> tuple[dict, str]:
        target = self.artifacts / name
        if target.exists():
            raise ActionFailed(f"an artifact named {name} already exists in this run")
        if not path.exists():
            if if_none == "error":
                raise ActionFailed(f"no files at {path}")
            return {}, "no files, nothing uploaded"
        if path.is_dir():  # v4: the folder's contents, hidden files left out
            shutil.copytree(path, target, ignore=lambda d, names: [n for n in names if n.startswith(".")])
        else:
            target.mkdir(parents=True)
            shutil.copy2(path, target / path.name)
        return {"artifact-id": name}, f"uploaded {name}"


class ActionFailed(Exception):
    pass


def _needs(job: dict) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def _read_kv(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `key=value` lines and `key<<DELIM` blocks."""
    out, lines = {}, path.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[key] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
        i += 1
    return out


def runner_venv(root: Path, source: Path) -> Path:
    """A venv the runner user can run: a Python it may execute, the worktree's
    packages through a .pth file, the kernel registered for this Python."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    venv = root / "venv"
    user = _runner_user()
    extra: dict[str, Any] = {"user": user[0], "group": user[1], "extra_groups": []} if user else {}
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for python in (getattr(sys, "_base_executable", ""), f"/usr/bin/python{minor}", sys.executable):
        try:
            if (
                python
                and subprocess.run([python, "-c", "import sys"], cwd="/", capture_output=True, **extra).returncode == 0
            ):
                break
        except PermissionError:
            continue
    else:
        raise RuntimeError(f"no Python {minor} the runner user may execute")
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(source.glob("lib/python3*/site-packages"))
    (next(venv.glob("lib/python3*/site-packages")) / "worktree.pth").write_text(str(site) + "\n")
    (venv / "share" / "jupyter").mkdir(parents=True, exist_ok=True)
    (venv / "share" / "jupyter" / "nbconvert").symlink_to(source / "share" / "jupyter" / "nbconvert")
    subprocess.run([str(venv / "bin" / "python"), "-m", "execblog.execution.kernel"], check=True, capture_output=True)
    return venv


def _runner_user() -> tuple[int, int] | None:
    """Runners run as an ordinary user: `nobody` when the tests run as root."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid
