"""The one atomic writer and the one folder swap (fsutil): what a reader of the
file or folder can see while they work and after they fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from execblog.fsutil import atomic_write, swap_in


def test_atomic_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path):
    path = tmp_path / "cache" / "deep" / "stamp.json"
    atomic_write(path, "première")  # text is UTF-8; missing folders are made
    assert path.read_bytes() == "première".encode()
    atomic_write(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert path.stat().st_mode & 0o777 == 0o644  # shared caches, a kernel run as another user
    assert [p.name for p in path.parent.iterdir()] == ["stamp.json"]


def test_a_failed_atomic_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("last good", encoding="utf-8")
    with pytest.raises(TypeError):
        atomic_write(path, 12)  # fails after the temporary file exists
    assert path.read_text(encoding="utf-8") == "last good"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_swap_in_replaces_a_folder_and_hands_back_the_old_one(tmp_path):
    final, new = tmp_path / "entry", tmp_path / ".entry.tmp"
    assert swap_in(_folder(new, "first"), final) is None  # nothing was there
    old = swap_in(_folder(new, "second"), final)
    assert (final / "f").read_text() == "second"
    assert old is not None and old.parent == tmp_path and old.name.startswith(".entry.old-")
    assert (old / "f").read_text() == "first"  # the caller decides when to delete it


def test_a_failed_swap_puts_the_old_folder_back(tmp_path):
    final = _folder(tmp_path / "public", "last good site")
    with pytest.raises(FileNotFoundError):
        swap_in(tmp_path / ".public.staging-gone", final)
    assert (final / "f").read_text() == "last good site"
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def _folder(path, text):
    path.mkdir()
    (path / "f").write_text(text)
    return path


def test_atomic_write_streams_through_a_function_and_keeps_the_old_file_when_it_fails(tmp_path):
    import pickle

    path = tmp_path / "cache" / "big.pickle"
    atomic_write(path, lambda f: pickle.dump({"n": list(range(1000))}, f))
    assert pickle.loads(path.read_bytes()) == {"n": list(range(1000))}

    def broken(f):
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, broken)
    assert pickle.loads(path.read_bytes()) == {"n": list(range(1000))}
    assert [p.name for p in path.parent.iterdir()] == ["big.pickle"]  # no temporary file left


def test_files_under_lists_the_files_rglob_lists_with_their_stat(tmp_path):
    from execblog.fsutil import files_under

    for rel in ["b/z.txt", "a/x/1.html", "a/x/2.html", "a-b/c", "a.txt", "a/x y/é.json", ".hidden/f"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    (tmp_path / "linked-file").symlink_to(tmp_path / "a.txt")
    (tmp_path / "linked-folder").symlink_to(tmp_path / "b")  # not entered, as rglob does not
    (tmp_path / "dangling").symlink_to(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    found = [Path(name) for name, _ in files_under(tmp_path) or []]
    assert set(found) == {p for p in tmp_path.rglob("*") if p.is_file()} and tmp_path / "linked-file" in found
    assert found == sorted(found, key=str) and files_under(tmp_path / "a.txt") == [
        (str(tmp_path / "a.txt"), (tmp_path / "a.txt").stat())
    ]
    assert files_under(tmp_path / "missing") is None
