"""Cross-process coordination for one index directory: a writer lock and the generation.

Every process that changes an index (the web app, ``policyqa add``/``remove``,
``policyqa build``) takes :meth:`IndexLock.exclusive`; a process that reads
the files from disk (opening the knowledge base, reloading a newer
generation) takes :meth:`IndexLock.shared`, so it never reads a directory
while another process swaps it.

The lock file sits *beside* the index directory (``DIR.lock``), not inside
it: :meth:`IndexStore.save` replaces the directory by a rename, and a lock on
a file inside the old directory would no longer exclude anyone.  The lock is
``fcntl.flock`` on an open file description, so it is released when the
process dies (``kill -9`` included) and it also excludes two
:class:`IndexLock` objects of one process (tests use that).

:func:`generation` identifies what is on disk: the SHA-256 of
``manifest.json``, which the store writes last on every save and which
records the documents, their text hashes, the chunk count and the time.  Two
processes compare generations to notice that the other one saved.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import time
from pathlib import Path
from typing import Iterator

__all__ = ["IndexLock", "IndexBusy", "generation", "manifest_signature"]

MANIFEST = "manifest.json"


class IndexBusy(RuntimeError):
    """Another process held the index lock for longer than the timeout; ``str(e)`` is one line."""


def lock_path(index_dir: str | os.PathLike) -> Path:
    d = Path(index_dir)
    return d.with_name(d.name + ".lock")


class IndexLock:
    """``with IndexLock(dir).exclusive(): ...`` for writers, ``.shared()`` for readers of the files.

    Args:
        index_dir: the index directory (it need not exist yet).
        timeout: seconds to wait for the lock before :class:`IndexBusy`
            (writers wait for another writer's embedding, so the default is
            generous).
        poll: seconds between attempts while waiting.
    """

    def __init__(self, index_dir: str | os.PathLike, timeout: float = 600.0, poll: float = 0.05) -> None:
        self.index_dir = Path(index_dir)
        self.path = lock_path(self.index_dir)
        self.timeout = timeout
        self.poll = poll

    @contextlib.contextmanager
    def exclusive(self, timeout: float | None = None) -> Iterator[None]:
        with self._hold(fcntl.LOCK_EX, self.timeout if timeout is None else timeout, write_pid=True):
            yield

    @contextlib.contextmanager
    def shared(self, timeout: float | None = None) -> Iterator[None]:
        with self._hold(fcntl.LOCK_SH, self.timeout if timeout is None else timeout, write_pid=False):
            yield

    @contextlib.contextmanager
    def _hold(self, mode: int, timeout: float, write_pid: bool) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + max(0.0, timeout)
            while True:
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                if time.monotonic() >= deadline:
                    holder = _read_pid(fd)
                    raise IndexBusy(
                        f"the index at {self.index_dir} is being changed by another process"
                        + (f" (pid {holder})" if holder else "")
                        + f"; waited {timeout:g} s — try again when it has finished"
                    )
                time.sleep(self.poll)
            if write_pid:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        return str(int(os.pread(fd, 32, 0).decode().strip() or "0") or "")
    return ""


def manifest_signature(index_dir: str | os.PathLike) -> tuple[int, int, int] | None:
    """A cheap change detector: (inode, mtime_ns, size) of ``manifest.json``, None when missing."""
    try:
        st = (Path(index_dir) / MANIFEST).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def generation(index_dir: str | os.PathLike) -> str:
    """The generation of the index on disk: SHA-256 of its ``manifest.json`` ("" when there is none)."""
    try:
        data = (Path(index_dir) / MANIFEST).read_bytes()
    except OSError:
        return ""
    return hashlib.sha256(data).hexdigest()
