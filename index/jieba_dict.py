"""jieba's word dictionary, whole in memory or looked up per text.

jieba cuts a text with ``FREQ`` (word -> frequency; every prefix of a word is
a key too, with frequency 0 when it is not a word itself) and ``total``.  The
whole dictionary (about 500,000 keys with the policy user dictionary) takes
about 1 s of CPU to load, all of it holding Python's GIL, so a background
thread cannot hide it: it was the largest single cost of ``policyqa ask``.

But cutting a text only ever looks up *substrings of that text*: the word
graph (``get_DAG``: ``sentence[k:i+1]``), the best route
(``sentence[idx:x+1]``), the check before the HMM joins single characters
(``FREQ.get(buf)``) and our search-mode sub-words (``word[i:i+size]``).  So
:meth:`WordFrequencies.view` returns exactly the entries of ``FREQ`` that are
substrings of a text, looked up in sorted arrays (:class:`StringTable`), and
a ``jieba.Tokenizer`` given that small dict and the same ``total`` cuts the
text exactly as it would with the whole dictionary.  Because every prefix of
a key is a key, the search extends only the substrings found one character
shorter (a few lookups per character: ~0.3 ms for a question).

* :func:`memory_tokenizer` — the whole dictionary plus a user dictionary in a
  ``jieba.Tokenizer`` (once per process and user dictionary);
* :func:`cached_frequencies` — the same dictionary as arrays, written once
  into ``$POLICYQA_CACHE/jieba/<key>/`` (the key covers jieba's version and
  dictionary file and the user dictionary's SHA-256) and memory-mapped after
  that in a few milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from policyqa.corpus.words import main_tokenizer
from policyqa.index.strtable import StringTable, cache_root, cached_dir

__all__ = ["WordFrequencies", "memory_tokenizer", "cached_frequencies", "text_tokenizer", "FORMAT"]

FORMAT = 1
_load_lock = threading.RLock()


@lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's main dictionary (FREQ, total), loaded once per process (~1 s) and shared with
    the place-name check (:func:`policyqa.corpus.words.main_tokenizer`)."""
    tk = main_tokenizer()
    return tk.FREQ, tk.total


def _force_split_words(userdict: Path | None) -> tuple[str, ...]:
    """User-dictionary words with frequency 0: jieba's ``add_word`` tells its
    HMM never to join them (a process-wide setting of ``jieba.finalseg``)."""
    if userdict is None:
        return ()
    import jieba

    out = []
    for line in Path(userdict).read_text(encoding="utf-8").lstrip("\ufeff").splitlines():
        line = line.strip()
        if line:
            word, freq, _ = jieba.re_userdict.match(line).groups()
            if freq is not None and freq.strip() and int(freq) == 0:
                out.append(word)
    return tuple(out)


@lru_cache(maxsize=8)
def _memory_tokenizer(userdict: str | None, userdict_sha256: str):
    import jieba

    freq, total = _base_dictionary()
    tk = jieba.Tokenizer()
    # A private copy of the main dictionary: user words added here never reach
    # jieba's global tokenizer or tokenizers with another user dictionary.
    tk.FREQ, tk.total = dict(freq), total
    tk.initialized = True
    if userdict is not None:
        tk.load_userdict(userdict)
    return tk


def memory_tokenizer(userdict: Path | None, userdict_sha256: str = ""):
    """A ``jieba.Tokenizer`` with the whole main dictionary and ``userdict`` in
    memory (built once per process and user dictionary; never changed after)."""
    with _load_lock:
        return _memory_tokenizer(str(userdict) if userdict is not None else None, userdict_sha256)


class WordFrequencies:
    """jieba's ``FREQ`` and ``total`` as a :class:`StringTable`.

    Args:
        table: word (or word prefix) -> frequency.
        total: jieba's ``total`` (sum of the frequencies, user words included).
        prefix_closed: every prefix of a key is a key (true for jieba's
            dictionaries; lets :meth:`view` extend only found substrings).
        force_split: user words of frequency 0 (see :func:`_force_split_words`).
    """

    def __init__(self, table: StringTable, total: int, prefix_closed: bool = True, force_split: tuple[str, ...] = ()) -> None:
        self.table = table
        self.total = int(total)
        self.prefix_closed = bool(prefix_closed)
        self.force_split = tuple(force_split)

    @classmethod
    def from_freq(cls, freq: Mapping[str, int], total: int, force_split: tuple[str, ...] = ()) -> "WordFrequencies":
        closed = all(k[:-1] in freq for k in freq if len(k) > 1)
        return cls(StringTable.from_items(freq.items()), total, closed, force_split)

    def __len__(self) -> int:
        return len(self.table)

    def view(self, text: str) -> dict[str, int]:
        """Every key of the dictionary that is a substring of ``text``, with its frequency."""
        out: dict[str, int] = {}
        n = len(text)
        starts = range(n)
        for size in range(1, self.table.max_length + 1):
            if self.prefix_closed:
                starts = [k for k in starts if k + size <= n]
            else:
                starts = range(n - size + 1)
            if not starts:
                break
            subs = [text[k : k + size] for k in starts]
            hit, values = self.table.find(subs, size)
            for j, v in zip(hit.tolist(), values.tolist()):
                out[subs[j]] = v
            if self.prefix_closed:
                starts = [starts[j] for j in hit.tolist()]
        return out

    # -- files -------------------------------------------------------------------

    def save(self, directory: Path) -> dict:
        lengths = self.table.save(directory, "words")
        return {"format": FORMAT, "kind": "jieba-frequencies", "total": self.total, "prefix_closed": self.prefix_closed,
                "force_split": list(self.force_split), "lengths": {str(k): v for k, v in lengths.items()}}

    @classmethod
    def load(cls, directory: Path, meta: Mapping) -> "WordFrequencies":
        if meta.get("format") != FORMAT or meta.get("kind") != "jieba-frequencies":
            raise ValueError("not a jieba frequency table of this version")
        table = StringTable.load(directory, "words", meta["lengths"])
        return cls(table, int(meta["total"]), bool(meta["prefix_closed"]), tuple(meta.get("force_split") or ()))


def _cache_key(userdict_sha256: str) -> str:
    import jieba

    d = Path(jieba.__file__).resolve().parent / jieba.DEFAULT_DICT_NAME
    st = d.stat()
    ident = [FORMAT, getattr(jieba, "__version__", ""), str(d), st.st_size, st.st_mtime_ns, userdict_sha256]
    return hashlib.sha256(json.dumps(ident).encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=8)
def _cached(userdict: str | None, userdict_sha256: str, root: str) -> WordFrequencies:
    path = Path(userdict) if userdict is not None else None
    target = Path(root) / "jieba" / _cache_key(userdict_sha256)

    def build(tmp: Path) -> dict:
        tk = memory_tokenizer(path, userdict_sha256)
        return WordFrequencies.from_freq(tk.FREQ, tk.total, _force_split_words(path)).save(tmp)

    words = cached_dir(target, build, WordFrequencies.load)
    if words.force_split:  # what load_userdict would have told jieba's HMM
        from jieba import finalseg

        for w in words.force_split:
            finalseg.add_force_split(w)
    return words


def cached_frequencies(userdict: Path | None, userdict_sha256: str, cache: Path | None = None) -> WordFrequencies | None:
    """The dictionary of :func:`memory_tokenizer` as arrays from the cache
    (built there on first use, which loads the whole dictionary once); None
    when the cache cannot be written (the caller then keeps the dictionary in memory)."""
    root = str(Path(cache) if cache is not None else cache_root())
    with _load_lock:
        try:
            return _cached(str(userdict) if userdict is not None else None, userdict_sha256, root)
        except OSError as e:
            logging.getLogger("policyqa.tokenize").warning(
                f"jieba dictionary cache under {root} is not writable ({e}); loading the whole dictionary instead")
            return None


def text_tokenizer(words: WordFrequencies, text: str):
    """A ``jieba.Tokenizer`` that cuts ``text`` (and its substrings) exactly as
    the whole dictionary would, holding only the entries ``text`` contains."""
    import jieba

    tk = jieba.Tokenizer()
    tk.FREQ = words.view(text)
    tk.total = words.total
    tk.initialized = True
    return tk
