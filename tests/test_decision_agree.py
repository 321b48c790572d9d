"""Build, `make status` and sharding take the same decision (execution/decision.py) on a real post run in the
project kernel: a frozen real-model run with unchanged code, on a machine that has only stand-ins, is kept by all
three; once the code changes, all three run it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from execblog.execution.execute import ExecutionSettings, execute_posts, post_statuses, posts_to_run
from execblog.execution.kernel import install_kernelspec
from execblog.pipeline import _shard_posts

from conftest_exec import read_posts

FRONT = (
    "---\ntitle: M\ndate: 2025-01-01\nmodels: org/model\njupyter:\n  kernelspec:\n"
    "    {name: python3, display_name: Python 3, language: python}\n---\n"
)


@pytest.fixture(scope="module")
def kernel():
    install_kernelspec()


def _settings(site: Path, *stand_ins: str) -> ExecutionSettings:
    def resolve(post):
        assert post.run.models == ("org/model",)  # one id, though written as a string
        return SimpleNamespace(
            env={}, stand_ins=stand_ins, unavailable=(), reasons={}, parameters={}, key="+".join(stand_ins) or "real"
        )

    return ExecutionSettings(
        site_dir=site, progress=False, post_timeout=60, cell_timeout=60, gpu_available=False, resolve_models=resolve
    )


def _views(site: Path, settings: ExecutionSettings) -> tuple[str, list[str], frozenset[str]]:
    posts = read_posts(site / "posts")
    [status] = post_statuses(posts, settings)
    return status.status, posts_to_run(posts, settings), _shard_posts(posts, settings, (1, 1))


def test_status_shards_and_build_agree_on_a_kept_real_model_run(kernel, tmp_path):
    site = tmp_path / "site"
    (site / "posts").mkdir(parents=True)
    path = site / "posts" / "m.md"
    path.write_text(FRONT + "```python\nprint('from the model')\n```\n")
    assert execute_posts(read_posts(site / "posts"), _settings(site)).executed == ["m"]  # the GPU publish

    laptop = _settings(site, "org/model")
    status, to_run, shard = _views(site, laptop)
    assert (status, to_run, shard) == ("fresh", [], frozenset())
    build = execute_posts(read_posts(site / "posts"), laptop)
    assert build.executed == [] and build.posts[0].status == "frozen" and not build.held_back

    path.write_text(FRONT + "```python\nprint('changed code')\n```\n")
    status, to_run, shard = _views(site, laptop)
    assert (status, to_run, shard) == ("stale", ["m"], frozenset({"m"}))
    assert execute_posts(read_posts(site / "posts"), laptop).executed == ["m"]
    assert _views(site, laptop) == ("fresh", [], frozenset())
