"""Where jieba's main dictionary begins words, without loading the whole dictionary.

Place-name checks (:mod:`policyqa.corpus.regions`) ask whether a word of a text
begins at a given character: in 「国家级示范县」 jieba cuts 示范县, so the county
范县 is not named; in 「人力资源」 no word begins at 资, so 资源县 is not either.

Loading jieba's dictionary takes about 1 s of CPU, more than answering a question.
But cutting a short window only ever looks up substrings of that window (the
word graph and its best route), so the dictionary — jieba's ``FREQ``: word ->
frequency, every prefix of a word a key too — is kept in an SQLite file in the
policyqa cache (``$POLICYQA_CACHE`` or ``~/.cache/policyqa``, ``jieba-words/``),
built once (about 2 s), and a cut reads only the entries of its window's
substrings: a ``jieba.Tokenizer`` given that small dict and the same ``total``
cuts the window exactly as the whole dictionary would.  When the cache cannot be
written, the whole dictionary is loaded in memory instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from policyqa.corpus.cache import cache_root

__all__ = ["word_starts_at", "quiet_jieba"]

WINDOW = 6  # characters cut either side of the position: longer than nearly every dictionary word
_FORMAT = 1
_lock = threading.Lock()


def word_starts_at(text: str, pos: int) -> bool:
    """Whether jieba (main dictionary, no HMM) begins a word at ``text[pos]`` when it cuts
    the text around it."""
    lo = max(0, pos - WINDOW)
    at = lo
    for w in _tokenizer_for(text[lo : pos + WINDOW]).cut(text[lo : pos + WINDOW], HMM=False):
        if at >= pos:
            return at == pos
        at += len(w)
    return at == pos


def _tokenizer_for(window: str):
    import jieba

    store = _store()
    if store is None:
        return main_tokenizer()
    subs = list(dict.fromkeys(window[i:j] for i in range(len(window)) for j in range(i + 1, len(window) + 1)))
    tk = jieba.Tokenizer()
    tk.FREQ = store.view(subs)
    tk.total = store.total
    tk.initialized = True
    return tk


class _Store:
    """jieba's ``FREQ`` in an SQLite file (read only once built)."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.total = int(self.conn.execute("SELECT value FROM meta WHERE key = 'total'").fetchone()[0])

    def view(self, words: list[str]) -> dict[str, int]:
        with _lock:
            rows = self.conn.execute(f"SELECT word, f FROM freq WHERE word IN ({','.join('?' * len(words))})", words).fetchall()
        return dict(rows)


def _dict_file() -> Path:
    import jieba

    return Path(jieba.__file__).resolve().parent / jieba.DEFAULT_DICT_NAME


@lru_cache(maxsize=1)
def _store() -> _Store | None:
    import jieba

    d = _dict_file()
    st = d.stat()
    key = hashlib.sha256(json.dumps([_FORMAT, getattr(jieba, "__version__", ""), str(d), st.st_size, st.st_mtime_ns]).encode()).hexdigest()[:16]
    path = cache_root() / "jieba-words" / f"{key}.sqlite3"
    try:
        if not path.exists():
            _build(path)
        try:
            return _Store(path)
        except sqlite3.Error:  # damaged (a disk error, a foreign file): built again once
            _build(path)
            return _Store(path)
    except (OSError, sqlite3.Error) as e:
        logging.getLogger("policyqa.corpus").warning(f"jieba word cache {path} is not usable ({e}); loading the whole dictionary instead")
        return None


def _build(path: Path) -> None:
    """Write jieba's FREQ (as ``jieba.Tokenizer.gen_pfdict`` makes it) to ``path``, atomically."""
    import jieba

    with open(_dict_file(), "rb") as f:
        freq, total = jieba.Tokenizer().gen_pfdict(f)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp)
        with conn:
            conn.execute("CREATE TABLE freq (word TEXT PRIMARY KEY, f INTEGER NOT NULL) WITHOUT ROWID")
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.executemany("INSERT INTO freq VALUES (?, ?)", freq.items())
            conn.execute("INSERT INTO meta VALUES ('total', ?)", (str(total),))
        conn.close()
        os.replace(tmp, path)  # readers never see half a file; of two builders, the last rename wins
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@lru_cache(maxsize=1)
def main_tokenizer():
    """A ``jieba.Tokenizer`` with the whole main dictionary in memory (about 1 s), loaded once
    per process: used when no cache file can be used, and the base of the index's tokenizers
    (:mod:`policyqa.index.jieba_dict`).  Never changed after loading."""
    import jieba

    undo = quiet_jieba()
    try:
        tk = jieba.Tokenizer()
        tk.initialize()
    finally:
        undo()
    return tk


def quiet_jieba():
    """jieba logs "Building prefix dict ..." while loading; silence it (returns the undo)."""
    logger = logging.getLogger("jieba")
    old = logger.level
    logger.setLevel(logging.WARNING)
    return lambda: logger.setLevel(old)
