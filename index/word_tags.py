"""Part-of-speech tags of jieba's main dictionary, for telling a question's topic words
(things: 残疾人, 所得税, 公积金) from the words around them (去年, 准备, 头一回, 大概).

jieba's ``dict.txt`` gives each word a tag (``n`` noun, ``v`` verb, ``t`` time, ``m``
numeral, ``d`` adverb, ``i`` idiom …).  :func:`word_tag` reads it from a
:class:`~policyqa.index.strtable.StringTable` written once into
``$POLICYQA_CACHE/jieba-tags/<key>/`` and memory-mapped after that, as
:mod:`policyqa.index.jieba_dict` does for the frequencies (reading ``dict.txt`` whole
takes about 0.5 s).  A word not in the dictionary (an HMM guess, a user-dictionary word)
has no tag.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from functools import lru_cache
from pathlib import Path

from policyqa.index.strtable import StringTable, cache_root, cached_dir

__all__ = ["word_tag", "TAGS"]

FORMAT = 1
_lock = threading.Lock()


def _dict_file() -> Path:
    import jieba

    return Path(jieba.__file__).resolve().parent / jieba.DEFAULT_DICT_NAME


def _read_tags(path: Path) -> dict[str, str]:
    tags: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                tags[parts[0]] = parts[2]
    return tags


# every tag of dict.txt, in a fixed order: a word's value in the table is its tag's index
TAGS = ("a", "ad", "ag", "an", "b", "bg", "c", "d", "df", "dg", "e", "f", "g", "h", "i", "j", "k", "l", "m", "mg", "mq",
        "n", "ng", "nr", "nrfg", "nrt", "ns", "nt", "nz", "o", "p", "q", "r", "rg", "rr", "rz", "s", "t", "tg", "u", "ud",
        "ug", "uj", "ul", "uv", "uz", "v", "vd", "vg", "vi", "vn", "vq", "x", "y", "yg", "z", "zg")
_INDEX = {t: i for i, t in enumerate(TAGS)}


@lru_cache(maxsize=2)
def _table(root: str) -> StringTable | dict[str, str]:
    path = _dict_file()
    st = path.stat()
    key = hashlib.sha256(json.dumps([FORMAT, str(path), st.st_size, st.st_mtime_ns]).encode("utf-8")).hexdigest()[:16]

    def build(tmp: Path) -> dict:
        items = [(w, _INDEX[t]) for w, t in _read_tags(path).items() if t in _INDEX]
        return {"lengths": StringTable.from_items(items).save(tmp, "tags")}

    try:
        return cached_dir(Path(root) / "jieba-tags" / key, build, lambda d, meta: StringTable.load(d, "tags", meta["lengths"]))
    except OSError as e:
        logging.getLogger("policyqa.tokenize").warning(f"jieba tag cache under {root} is not writable ({e}); reading dict.txt instead")
        return _read_tags(path)


def word_tag(word: str) -> str | None:
    """jieba's part-of-speech tag of ``word`` (``"n"``, ``"v"`` …), None when the main
    dictionary does not have it."""
    with _lock:
        table = _table(str(cache_root()))
    if isinstance(table, dict):
        return table.get(word)
    i = table.get(word)
    return TAGS[i] if i is not None and 0 <= i < len(TAGS) else None
