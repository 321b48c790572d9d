"""execblog.parallel.two_stage_map: two passes over items, the second in the process
that ran the first, with what the parent made of all first results in between."""

from __future__ import annotations

import os
import time

import pytest

from execblog import parallel
from execblog.errors import BuildError
from execblog.parallel import MIN_ITEMS, two_stage_map

SIZES = [3, MIN_ITEMS * 3]  # kept in this process, and forked workers


@pytest.fixture(params=["serial", "forked"])
def cores(request, monkeypatch):
    if request.param == "forked":
        if parallel.cpu_count() < 2:
            monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    else:
        monkeypatch.setattr(parallel, "cpu_count", lambda: 1)
    return request.param


@pytest.mark.parametrize("n", SIZES)
def test_results_in_order_with_the_parents_summary_of_all_first_passes(cores, n):
    seen = []

    def first(x):
        return x * 2, (x, os.getpid())  # public, private

    def between(public):
        assert public == [x * 2 for x in range(n)]
        return sum(public)

    def second(x, private, total):
        assert private[0] == x
        return x, total, private[1] == os.getpid()  # the same process as the first pass

    public, results = two_stage_map(first, between, second, list(range(n)), seen.append)
    assert public == [x * 2 for x in range(n)]
    assert results == [(x, n * (n - 1), True) for x in range(n)]
    assert seen[-1] == n and seen == sorted(seen)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("stage", ["first", "second"])
def test_an_error_in_either_pass_reaches_the_caller_as_raised(cores, n, stage):
    def fail(x):
        raise BuildError(f"item {x} is bad", hint="fix it")

    def first(x):
        return (fail(x) if stage == "first" and x == n - 1 else x), None

    def second(x, private, shared):
        return fail(x) if stage == "second" and x == 1 else x

    with pytest.raises(BuildError, match="is bad"):
        two_stage_map(first, lambda public: None, second, list(range(n)))


def test_the_private_part_never_leaves_its_worker(cores):
    """A private result that cannot be pickled is fine: it is never sent anywhere."""
    n = MIN_ITEMS * 2
    public, results = two_stage_map(
        lambda x: (x, lambda: x), lambda public: 1, lambda x, private, one: private() + one, list(range(n))
    )
    assert results == [x + 1 for x in range(n)]


class _Unrebuildable(Exception):
    """An exception pickle cannot rebuild: its __init__ wants more than its args."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


@pytest.mark.parametrize("n", SIZES)
def test_an_error_the_parent_cannot_rebuild_still_says_what_failed(cores, n):
    def first(x):
        if x == n - 1:
            raise _Unrebuildable("the template broke", 7)
        return x, None

    # in this process it is raised as it is; from a worker, as a RuntimeError that names it
    with pytest.raises((_Unrebuildable, RuntimeError), match="the template broke") as caught:
        two_stage_map(first, lambda public: None, lambda x, private, shared: x, list(range(n)))
    if isinstance(caught.value, RuntimeError):
        assert "_Unrebuildable" in str(caught.value)


def test_after_an_error_the_workers_end_on_their_own(monkeypatch):
    """Each worker closes the parent's pipe ends it inherited: when the parent lets go after an
    error, every worker sees its pipe closed and ends, none has to be killed."""
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    killed = []
    terminate = parallel.multiprocessing.process.BaseProcess.terminate
    monkeypatch.setattr(
        parallel.multiprocessing.process.BaseProcess, "terminate", lambda self: killed.append(self) or terminate(self)
    )
    n = MIN_ITEMS * 3

    def first(x):
        if x == n - 1:
            raise ValueError("the last item is bad")
        return x, None

    with pytest.raises(ValueError, match="the last item is bad"):
        two_stage_map(first, lambda public: None, lambda x, private, shared: x, list(range(n)))
    assert killed == []


def test_a_background_job_runs_in_its_own_process_while_the_caller_goes_on(cores, tmp_path):
    gate = tmp_path / "go"

    def job():
        for _ in range(500):  # waits for the caller's next step: it runs beside it, not after
            if gate.exists():
                break
            time.sleep(0.01)
        return os.getpid(), gate.exists()

    if cores == "serial":  # one core: at once, here
        gate.write_text("")
        assert parallel.Background(job).result() == (os.getpid(), True)
        return
    running = parallel.Background(job)
    gate.write_text("")
    pid, saw_gate = running.result()
    assert pid != os.getpid() and saw_gate


def test_a_background_error_is_raised_by_result(cores):
    def job():
        raise BuildError("the index broke", hint="fix it")

    running = parallel.Background(job)  # in this process or not, the error waits for result()
    with pytest.raises(BuildError, match="the index broke"):
        running.result()


def test_a_job_started_by_a_forked_job_runs_in_that_process(monkeypatch):
    """A forked job may start no process of its own (multiprocessing: it is daemonic)."""
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)

    def outer():
        inner = parallel.Background(os.getpid).result()
        return os.getpid(), inner, parallel.split_map(lambda x: os.getpid(), list(range(MIN_ITEMS * 2)))

    pid, inner, mapped = parallel.Background(outer).result()
    assert pid != os.getpid() and inner == pid and set(mapped) == {pid}


def test_a_cancelled_background_job_writes_nothing_after(monkeypatch, tmp_path):
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    late = tmp_path / "late"

    def job():
        time.sleep(1)
        late.write_text("written after the caller gave up")

    running = parallel.Background(job)
    running.cancel()
    time.sleep(1.5)
    assert not late.exists()


@pytest.mark.parametrize("n", SIZES)
def test_split_map_gives_results_in_order_with_this_process_doing_a_part(cores, n):
    found = parallel.split_map(lambda x: (x * x, os.getpid()), list(range(n)))
    assert [value for value, _ in found] == [x * x for x in range(n)]
    pids = {pid for _, pid in found}
    assert os.getpid() in pids and len(pids) == (1 if cores == "serial" or n < MIN_ITEMS else 2)


@pytest.mark.parametrize("bad", [5, MIN_ITEMS * 3 - 1])  # in this process's part, in a forked one's
def test_split_map_raises_the_first_error_in_item_order(cores, bad):
    def fn(x):
        if x in (bad, bad + 1):
            raise BuildError(f"item {x} is bad", hint="fix it")
        return x

    with pytest.raises(BuildError, match=f"item {bad} is bad"):
        parallel.split_map(fn, list(range(MIN_ITEMS * 3 + 1)))


def test_frozen_blocks_nest_and_the_outermost_unfreezes(monkeypatch):
    """A build freezes what it loads for the garbage collector; the page workers freeze and end
    within it, and nothing stays frozen after the build (a long-running `serve` collects)."""
    import gc

    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)
    assert gc.get_freeze_count() == 0
    with parallel.frozen():
        loaded = [[i] for i in range(1000)]
        parallel.freeze_loaded()
        assert gc.get_freeze_count() >= len(loaded)
        two_stage_map(lambda x: (x, None), lambda public: None, lambda x, p, s: x, list(range(MIN_ITEMS * 2)))
        assert gc.get_freeze_count() >= len(loaded)  # the workers' block did not unfreeze the build's
    assert gc.get_freeze_count() == 0
    parallel.freeze_loaded()  # outside a block: nothing is frozen
    assert gc.get_freeze_count() == 0


def test_memory_a_process_freed_is_given_back_before_it_forks():
    """A forked process counts every page it inherits: what the build freed (the posts' text, once
    converted) must be back with the system first, not kept by the allocator for later."""

    def rss_mib() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))

    held, kept = [], []
    for i in range(10_000):  # ~100 MB in the allocator's heap, between what stays in use
        held.append("走れメロス" * 1000 + str(i))
        if i % 10 == 9:
            kept.append("kept" * 2500 + str(i))
    before = rss_mib()
    del held
    parallel.release_freed()
    assert rss_mib() < before - 60 and len(kept) == 1000
