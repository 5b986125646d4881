"""Policy items stored with the index, document by document.

Items (``corpus/items.py``) are a pure function of one document's metadata
and chunks, so they are computed when a document is indexed and kept beside
it: :meth:`IndexStore.build` derives them for every document,
:meth:`IndexStore.add` only for the documents added (or replaced),
:meth:`IndexStore.remove` drops one document's, and :meth:`IndexStore.load`
reads them back instead of re-extracting.

Storage sits behind one small interface, :class:`ItemStore` — four verbs
keyed by document id — so every backend keeps items the same way:

* :class:`ItemFile` (the in-process index): a dict in memory, saved as
  ``items.jsonl`` in the index directory with the other files (so a save
  stays atomic): a header line ``{"format", "extractor", "documents":
  {doc_id: sha256}}`` and then one ``PolicyItem.to_dict()`` per line.
* a Milvus side collection would implement the same verbs on rows
  ``(item_id primary key, doc_id, doc_sha256, extractor, payload JSON)``:
  ``put`` = delete ``doc_id == x`` + insert, ``delete`` = delete by
  expression, ``documents`` / ``catalog`` = one query (items are few:
  a few per policy clause).

:func:`sync_items` is the one place that decides what to (re)derive: a
document the store does not hold, or holds from other text (its SHA-256
differs) or from another extractor version (:func:`extractor_version`: a
hash of the extractor's code and word lists), gets its items derived; a
document no longer indexed loses them.  Version links (``supersedes`` /
``superseded_by``) are not read by the extractor, so adding a new version of
a policy never re-derives the old one's items; matching reads the links from
the current metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Mapping, Protocol, Sequence, runtime_checkable

from policyqa.corpus import items as _items_module
from policyqa.corpus.items import DATA as VOCABULARY_FILE
from policyqa.corpus.items import ItemCatalog, PolicyItem, Vocabulary, extract_items, vocabulary
from policyqa.corpus.types import Chunk, DocMeta

__all__ = ["ITEMS_FILE", "ItemFile", "ItemStore", "SyncReport", "extractor_version", "sync_items"]

ITEMS_FILE = "items.jsonl"
FORMAT = 1


@lru_cache(maxsize=1)
def extractor_version() -> str:
    """A short hash of what items depend on besides the documents: the
    extractor's code (``corpus/items.py``) and its word lists (``data/items.json``)."""
    h = hashlib.sha256(f"items-format-{FORMAT}\n".encode())
    for p in (Path(_items_module.__file__), Path(VOCABULARY_FILE)):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@runtime_checkable
class ItemStore(Protocol):
    """Where an index keeps its policy items, per document."""

    extractor: str  # extractor_version() of the stored items ("" when none are stored)

    def documents(self) -> Mapping[str, str]:
        """doc id -> SHA-256 of the document text its stored items were read from."""
        ...

    def put(self, doc_id: str, sha256: str, items: Sequence[PolicyItem]) -> None:
        """Store (replace) one document's items."""
        ...

    def delete(self, doc_id: str) -> None:
        """Drop one document's items (no error when it has none)."""
        ...

    def catalog(self) -> ItemCatalog:
        """The read view matching uses (a snapshot: later changes do not alter it)."""
        ...


class ItemsInMemory:
    """What both item stores keep in memory: doc id -> items (``_by_doc``), doc id -> the
    SHA-256 they were read from (``_shas``), and the catalog built from them on first use."""

    _by_doc: dict[str, tuple[PolicyItem, ...]]
    _shas: dict[str, str]
    _catalog: ItemCatalog | None

    def documents(self) -> Mapping[str, str]:
        return dict(self._shas)

    def catalog(self) -> ItemCatalog:
        if self._catalog is None:
            self._catalog = ItemCatalog(self._by_doc)
        return self._catalog

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_doc.values())


class ItemFile(ItemsInMemory):
    """The in-process :class:`ItemStore`: items in memory, saved as ``items.jsonl``.

    Args:
        by_doc: doc id -> its items.
        shas: doc id -> SHA-256 of the text they were read from.
        extractor: the extractor version they were read with.
    """

    def __init__(self, by_doc: Mapping[str, Sequence[PolicyItem]] | None = None,
                 shas: Mapping[str, str] | None = None, extractor: str = "") -> None:
        self._by_doc = {d: tuple(v) for d, v in (by_doc or {}).items()}
        self._shas = dict(shas or {})
        self.extractor = extractor
        self._catalog: ItemCatalog | None = None

    # -- ItemStore ---------------------------------------------------------------

    def put(self, doc_id: str, sha256: str, items: Sequence[PolicyItem]) -> None:
        self._by_doc[doc_id] = tuple(items)
        self._shas[doc_id] = sha256
        self._catalog = None

    def delete(self, doc_id: str) -> None:
        self._by_doc.pop(doc_id, None)
        self._shas.pop(doc_id, None)
        self._catalog = None

    def copy(self) -> "ItemFile":
        """A copy to change while readers keep this one (the index swaps stores whole)."""
        return ItemFile(self._by_doc, self._shas, self.extractor)

    # -- files ----------------------------------------------------------------------

    def save(self, directory: str | Path) -> None:
        """Write ``items.jsonl`` into ``directory`` (the caller makes the directory's save atomic)."""
        _write(Path(directory) / ITEMS_FILE, self._lines())

    def save_atomic(self, directory: str | Path) -> None:
        """Write ``items.jsonl`` into an existing index directory through a temporary file."""
        path = Path(directory) / ITEMS_FILE
        tmp = path.with_name(f".{ITEMS_FILE}.tmp-{os.getpid()}")
        try:
            _write(tmp, self._lines())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _lines(self) -> Iterable[str]:
        head = {"format": FORMAT, "extractor": self.extractor, "documents": self._shas}
        yield json.dumps(head, ensure_ascii=False)
        for d in self._by_doc:
            for it in self._by_doc[d]:
                yield json.dumps(it.to_dict(), ensure_ascii=False)

    @classmethod
    def load(cls, directory: str | Path) -> tuple["ItemFile", str]:
        """The items saved in ``directory`` and "" — or an empty store and a one-line
        reason (no file, unreadable, another format) when there is nothing usable;
        :func:`sync_items` then derives what is missing."""
        path = Path(directory) / ITEMS_FILE
        if not path.exists():
            return cls(), f"no {ITEMS_FILE} (an index written before policy items were stored with it)"
        try:
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            head = json.loads(lines[0]) if lines else {}
            if not isinstance(head, dict) or head.get("format") != FORMAT:
                return cls(), f"{ITEMS_FILE} has format {head.get('format') if isinstance(head, dict) else '?'!r}, not {FORMAT}"
            shas = {str(k): str(v) for k, v in (head.get("documents") or {}).items()}
            by_doc: dict[str, list[PolicyItem]] = {d: [] for d in shas}
            for ln in lines[1:]:
                it = PolicyItem.from_dict(json.loads(ln))
                if it.doc_id in by_doc:
                    by_doc[it.doc_id].append(it)
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as e:
            return cls(), f"{ITEMS_FILE} is unreadable ({type(e).__name__}: {str(e)[:80]})"
        return cls(by_doc, shas, str(head.get("extractor") or "")), ""


def _write(path: Path, lines: Iterable[str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for ln in lines:
            f.write(ln + "\n")


# --- keeping a store up to date -----------------------------------------------------------


class SyncReport:
    """What :func:`sync_items` did: the documents whose items were derived, and why."""

    def __init__(self, derived: Sequence[str] = (), dropped: Sequence[str] = (), reason: str = "") -> None:
        self.derived = tuple(derived)
        self.dropped = tuple(dropped)
        self.reason = reason  # non-empty when stored items were missing or stale as a whole

    @property
    def changed(self) -> bool:
        return bool(self.derived or self.dropped)

    def message(self, where: str) -> str:
        """One line for users ("" when nothing was derived)."""
        if not self.derived:
            return ""
        why = self.reason or "documents whose stored items were missing or out of date"
        return (f"index at {where}: {why}; derived the policy items of {len(self.derived)} document(s) once "
                f"(they are stored with the index from now on)")


def sync_items(
    store: ItemStore,
    docs: Mapping[str, DocMeta],
    chunks_of: Callable[[str], Sequence[Chunk]],
    shas: Mapping[str, str],
    only: Iterable[str] | None = None,
    vocab: Vocabulary | None = None,
    reason: str = "",
) -> SyncReport:
    """Bring ``store`` in line with the indexed documents.

    Args:
        store: any :class:`ItemStore`.
        docs: doc id -> metadata of every indexed document.
        chunks_of: a document's chunks.
        shas: doc id -> SHA-256 of its text (the manifest's ``document_sha256``).
        only: look only at these documents (those just added); None: all.
        reason: why the store is being filled as a whole (for the message).

    Derives items for documents the store lacks, holds from other text or
    from another extractor version; drops documents no longer indexed.
    """
    version = extractor_version()
    v = vocab or vocabulary()
    stale_all = store.extractor != version
    if stale_all and store.documents() and not reason:
        reason = f"stored policy items were read by another extractor version ({store.extractor or '?'})"
    store.extractor = version
    held = store.documents()
    whole = only is None or stale_all  # another extractor version: every document, whatever was asked
    derived, dropped = [], []
    for d in (docs if whole else [d for d in dict.fromkeys(only) if d in docs]):
        sha = shas.get(d, "")
        if not whole or stale_all or d not in held or held[d] != sha:
            store.put(d, sha, extract_items(docs[d], chunks_of(d), v))
            derived.append(d)
    if whole:
        for d in list(held):
            if d not in docs:
                store.delete(d)
                dropped.append(d)
    return SyncReport(derived, dropped, reason)
