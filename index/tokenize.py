"""Keyword tokenisation for BM25: jieba search-mode cut over normalised text.

Queries and documents go through exactly the same steps:

1. :func:`policyqa.corpus.clean.normalize_query` (traditional -> simplified,
   full-width -> half-width, whitespace collapsed), so 「專精特新」 and
   「２５％」 match 「专精特新」 and 「25%」;
2. jieba search-mode cut with a policy user dictionary (专精特新, 小巨人,
   智改数转, 规上工业企业 ... stay whole, and search mode also emits their
   dictionary sub-words);
3. lower-casing; stopwords, whitespace and punctuation/symbol tokens dropped.
   Numbers and Latin words are kept.

Each :class:`JiebaTokenizer` owns its ``jieba.Tokenizer`` instance, so no
global jieba state is touched (apart from silencing jieba's logger while it
initialises).
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, Sequence

from policyqa.corpus.clean import normalize_query

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_USERDICT = DATA_DIR / "userdict.txt"
DEFAULT_STOPWORDS = DATA_DIR / "stopwords.txt"

__all__ = ["Tokenizer", "JiebaTokenizer", "DEFAULT_USERDICT", "DEFAULT_STOPWORDS", "load_stopwords"]


class Tokenizer(Protocol):
    """Anything with ``tokenize(text) -> list[str]`` can feed :class:`BM25Index`."""

    def tokenize(self, text: str) -> list[str]: ...


def load_stopwords(path: Path) -> frozenset[str]:
    """Read one stopword per line; blank lines and ``#`` comments are ignored."""
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        w = line.split("#", 1)[0].strip().lower()
        if w:
            words.add(w)
    return frozenset(words)


def _is_junk(token: str) -> bool:
    """True for tokens made only of whitespace, punctuation or symbols."""
    return all(ch.isspace() or unicodedata.category(ch)[0] in "PSZC" for ch in token)


@lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's main dictionary (word -> frequency, total), loaded once per process.

    Loading takes ~0.7 s; every :class:`JiebaTokenizer` copies it (~10 ms).
    jieba logs "Building prefix dict ..." to stderr while loading; that is
    silenced for the duration.
    """
    import jieba

    logger = logging.getLogger("jieba")
    old_level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        tk = jieba.Tokenizer()
        tk.initialize()
    finally:
        logger.setLevel(old_level)
    return tk.FREQ, tk.total


def _sha256(path: Path | None) -> str:
    if path is None:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


class JiebaTokenizer:
    """jieba search-mode tokenizer with a policy user dictionary and stopwords.

    Args:
        userdict: jieba user dictionary (``word freq [tag]`` lines); ``None``
            loads no user dictionary.  Defaults to ``index/data/userdict.txt``.
        stopwords: stopword file; ``None`` drops no words (punctuation is still
            dropped).  Defaults to ``index/data/stopwords.txt``.
        hmm: let jieba's HMM join unknown character runs into words (jieba's
            default).

    The main jieba dictionary is loaded once per process (about 0.7 s,
    silently); each instance gets its own copy plus the user dictionary.
    """

    def __init__(
        self,
        userdict: Path | None = DEFAULT_USERDICT,
        stopwords: Path | None = DEFAULT_STOPWORDS,
        hmm: bool = True,
    ) -> None:
        import jieba

        self.userdict = Path(userdict) if userdict is not None else None
        self.stopwords_path = Path(stopwords) if stopwords is not None else None
        self.hmm = hmm
        for label, p in (("user dictionary", self.userdict), ("stopword file", self.stopwords_path)):
            if p is not None and not p.is_file():
                raise FileNotFoundError(f"jieba {label} not found: {p}")
        self.stopwords = load_stopwords(self.stopwords_path) if self.stopwords_path else frozenset()
        freq, total = _base_dictionary()
        self._jieba = jieba.Tokenizer()
        # A private copy of the main dictionary: user words added here never
        # reach jieba's global tokenizer or other JiebaTokenizer instances.
        self._jieba.FREQ, self._jieba.total = dict(freq), total
        self._jieba.initialized = True
        if self.userdict is not None:
            self._jieba.load_userdict(str(self.userdict))

    def tokenize(self, text: str) -> list[str]:
        """Normalise ``text`` and cut it into search tokens (order kept, repeats kept)."""
        if not text:
            return []
        norm = normalize_query(text)
        out = []
        for tok in self._search_cut(norm):
            tok = tok.strip().lower()
            if not tok or _is_junk(tok) or tok in self.stopwords:
                continue
            out.append(tok)
        return out

    def _search_cut(self, text: str):
        """jieba search mode, generalised to sub-words of every length.

        ``jieba.cut_for_search`` emits only the 2- and 3-character dictionary
        words inside a long word; this also emits longer ones, so 示范智能车间
        yields 智能车间 and 专精特新小巨人 yields 专精特新 and 小巨人.
        """
        freq = self._jieba.FREQ
        for word in self._jieba.cut(text, HMM=self.hmm):
            n = len(word)
            for size in range(2, n):
                for i in range(n - size + 1):
                    sub = word[i : i + size]
                    if freq.get(sub):
                        yield sub
            yield word

    def batch_tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        return [self.tokenize(t) for t in texts]

    def settings(self) -> dict[str, Any]:
        """What the keyword index depends on, recorded in the index manifest."""
        return {
            "kind": "jieba-search",
            "hmm": self.hmm,
            "userdict_sha256": _sha256(self.userdict),
            "stopwords_sha256": _sha256(self.stopwords_path),
        }

    def __repr__(self) -> str:
        return f"JiebaTokenizer(userdict={self.userdict}, stopwords={self.stopwords_path}, hmm={self.hmm})"
