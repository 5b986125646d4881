"""The persisted index: one directory with everything retrieval needs.

Layout of ``DIR``::

    faiss.index     FAISS index over chunk vectors
    ids.txt         chunk id of each FAISS row, one per line
    vectors.npy     the stored vectors (removal/rebuild never re-embeds)
    chunks.jsonl    Chunk.to_dict() per line
    docs.jsonl      DocMeta.to_dict() per line
    items.jsonl     policy items per document (``index/items.py``; derived once when missing)
    bm25/           bm25s files, their own ids.txt and settings
    sentences/      sentence spans and vectors of every chunk (index.sentences;
                    optional: an index without it answers without them)
    manifest.json   format, package version, embedding model/backend/dim,
                    chunker and retrieval settings, corpus fingerprint,
                    document ids, chunk count, build time

Writes are atomic: :meth:`IndexStore.save` writes a sibling ``DIR.tmp-<pid>``
(``manifest.json`` last), renames the current ``DIR`` to ``DIR.old-<pid>``,
renames the new one to ``DIR`` and deletes the old one.  A build killed at any
moment therefore leaves the previous index loadable; if it died between the
two renames, :meth:`IndexStore.load` renames ``DIR.old-*`` back.

:meth:`IndexStore.load` refuses an index built with another embedding model,
backend or chunker settings (:class:`IndexMismatch`, naming the difference and
the rebuild command) and turns a missing or damaged directory into
:class:`IndexNotFound` / :class:`IndexCorrupt` with a one-line message.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Sequence, Union

import numpy as np

from policyqa import __version__
from policyqa.corpus.types import Chunk, DocMeta, Document
from policyqa.corpus.versions import linked
from policyqa.index.bm25 import BM25Index
from policyqa.index.dense import DenseIndex
from policyqa.index.hybrid import BM25Retriever, DenseRetriever, HybridRetriever, RetrievalConfig
from policyqa.index.items import ItemFile, SyncReport, sync_items
from policyqa.index.sentences import SENTENCES_DIR, SentenceIndex
from policyqa.index.tokenize import Tokenizer
from policyqa.index.types import Embedder

__all__ = [
    "FORMAT",
    "IndexStore",
    "StoreRetriever",
    "IndexStoreError",
    "IndexNotFound",
    "IndexCorrupt",
    "IndexMismatch",
    "corpus_fingerprint",
    "rebuild_command",
]

FORMAT = 1
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
DOCS = "docs.jsonl"
BM25_DIR = "bm25"
REQUIRED = ("faiss.index", "ids.txt", "vectors.npy", CHUNKS, DOCS, BM25_DIR)

EmbedderLike = Union[Embedder, Callable[[], Embedder], None]


def first_use_embedder(store, check: Callable[[Embedder], None], missing: str) -> Embedder:
    """``store._embedder`` as an :class:`Embedder`: a factory there is called once, on
    first use, under ``store._embedder_lock`` (concurrent first queries load the model
    once), and its result is ``check``-ed against the index before it replaces the
    factory.  Raises ``ValueError(missing)`` when the store was opened without one."""
    if store._embedder is None:
        raise ValueError(missing)
    with store._embedder_lock:
        if not isinstance(store._embedder, Embedder):
            emb = store._embedder()
            check(emb)
            store._embedder = emb
    return store._embedder


class IndexStoreError(Exception):
    """Base class of index-store errors; ``str(e)`` is a one-line user message."""


class IndexNotFound(IndexStoreError):
    pass


class IndexCorrupt(IndexStoreError):
    pass


class IndexMismatch(IndexStoreError):
    pass


def rebuild_command(path: str | Path) -> str:
    return f"policyqa build --index {path}"


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_fingerprint(doc_hashes: Mapping[str, str]) -> str:
    """sha256 over sorted (doc_id, sha256(text)) pairs."""
    h = hashlib.sha256()
    for doc_id, text_hash in sorted(doc_hashes.items()):
        h.update(f"{doc_id}\t{text_hash}\n".encode("utf-8"))
    return h.hexdigest()


def _utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


# --- file helpers (module level so tests can inject failures) --------------------


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _write_json(path: Path, obj: Any) -> None:
    _write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    _write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path.name} line {n} is not JSON ({e.msg})") from None
    return rows


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    return Path(f"/proc/{pid}").exists() if Path("/proc").is_dir() else True


def _sibling(path: Path, tag: str, pid: int | None = None) -> Path:
    return path.with_name(f"{path.name}.{tag}-{os.getpid() if pid is None else pid}")


def _siblings(path: Path, tag: str) -> list[Path]:
    prefix = f"{path.name}.{tag}-"
    if not path.parent.is_dir():
        return []
    return [p for p in path.parent.iterdir() if p.name.startswith(prefix)]


def _recover(path: Path) -> None:
    """If a save died between its two renames, put the previous index back."""
    if path.exists():
        return
    olds = [p for p in _siblings(path, "old") if (p / MANIFEST).is_file()]
    if olds:
        newest = max(olds, key=lambda p: p.stat().st_mtime)
        os.rename(newest, path)


def _clean_stale(path: Path) -> None:
    """Delete temp/old siblings left by processes that no longer run."""
    for tag in ("tmp", "old"):
        for p in _siblings(path, tag):
            try:
                pid = int(p.name.rsplit("-", 1)[1])
            except ValueError:
                continue
            if pid != os.getpid() and not _pid_alive(pid) and (tag == "tmp" or path.exists()):
                shutil.rmtree(p, ignore_errors=True)


def _diff_settings(built: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    keys = sorted(set(built) | set(wanted))
    parts = []
    for k in keys:
        if built.get(k) != wanted.get(k):
            parts.append(f"{k}={built.get(k)!r} (index) vs {wanted.get(k)!r} (configured)")
    return ", ".join(parts)


# --- the store -------------------------------------------------------------------


class IndexStore:
    """Chunks, document metadata, dense and BM25 indexes, and their manifest.

    Create with :meth:`build` or :meth:`load`; change with :meth:`add` /
    :meth:`remove` (in memory) and persist with :meth:`save`.
    """

    def __init__(
        self,
        path: Path,
        docs: dict[str, DocMeta],
        chunks: dict[str, Chunk],
        dense: DenseIndex,
        bm25: BM25Index,
        manifest: dict[str, Any],
        embedder: EmbedderLike,
        tokenizer: Tokenizer,
        items: ItemFile | None = None,
    ) -> None:
        self.path = Path(path)
        self._items = items if items is not None else ItemFile()
        self.items_report = SyncReport()  # what the last build/load/add derived
        self._docs = docs
        self._chunks = chunks
        self._dense = dense
        self._bm25 = bm25
        self._manifest = manifest
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._change_lock = threading.RLock()
        self.tokenizer = tokenizer
        self._snapshot = (docs, chunks, dense, bm25)
        self._sentences: SentenceIndex | None = None

    # --- views -------------------------------------------------------------------

    @property
    def docs(self) -> Mapping[str, DocMeta]:
        return MappingProxyType(self._docs)

    @property
    def chunks(self) -> Mapping[str, Chunk]:
        return MappingProxyType(self._chunks)

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._manifest))

    @property
    def items(self):
        """The policy items of every document (an :class:`ItemCatalog` snapshot)."""
        return self._items.catalog()

    @property
    def item_store(self) -> ItemFile:
        return self._items

    @property
    def n_chunks(self) -> int:
        return len(self._chunks)

    @property
    def dense(self) -> DenseIndex:
        return self._dense

    @property
    def bm25(self) -> BM25Index:
        return self._bm25

    @property
    def sentences(self) -> SentenceIndex | None:
        """Sentence spans and vectors of the chunks (None for an index built without them)."""
        return self._sentences

    def ensure_sentences(self, progress: bool = False) -> int:
        """Embed the sentences of chunks that have none stored (an index built by an
        older version); returns how many chunks were embedded.  Call :meth:`save` to persist."""
        if self._sentences is None:
            self._sentences = SentenceIndex(self.embedder.dim)
        self._sentences.retain(self._chunks)
        todo = self._sentences.missing(self._chunks)
        if todo:
            self._sentences.add(todo, self.embedder, progress=progress)
        return len(todo)

    @property
    def retrieval_config(self) -> RetrievalConfig:
        return RetrievalConfig.from_dict(self._manifest.get("retrieval") or {})

    def __repr__(self) -> str:
        return f"IndexStore({str(self.path)!r}, {len(self._docs)} docs, {len(self._chunks)} chunks)"

    # --- embedder ----------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedder, created on first use when a factory was given."""
        return first_use_embedder(
            self, lambda emb: self._check_embedding(self.path, self._manifest, emb.name, emb.backend, emb.dim),
            "this index was loaded without an embedder; pass embedder= to IndexStore.load")

    @staticmethod
    def _check_embedding(path, manifest: Mapping, name: str | None, backend: str | None, dim: int | None,
                         command: str | None = None) -> None:
        """Raise :class:`IndexMismatch` when the configured model, backend or dimension differ from the build's.

        Backends whose document vectors agree (torch == onnx fp32, see
        ``embeddings.compatible``) may search each other's index.  ``command``
        is the rebuild command named in the message (default ``policyqa build --index PATH``).
        """
        from policyqa.index.embeddings import compatible, vector_space

        command = command or rebuild_command(path)
        built = manifest.get("embedding") or {}
        b_name, b_backend, b_dim = built.get("model"), built.get("backend"), built.get("dim")
        if (name is not None and name != b_name) or (backend is not None and not compatible(b_backend, backend)):
            why = "" if name not in (None, b_name) else (
                f"; its {vector_space(b_backend)} document vectors do not match {backend}'s {vector_space(backend)} ones")
            raise IndexMismatch(
                f"index at {path} was built with embedding model {b_name!r} (backend {b_backend}), "
                f"but {name or b_name!r} (backend {backend or b_backend}) is configured{why}; "
                f"rebuild with: {command}"
            )
        if dim is not None and b_dim is not None and dim != b_dim:
            raise IndexMismatch(
                f"index at {path} holds {b_dim}-d vectors but embedder {name!r} makes {dim}-d vectors; "
                f"rebuild with: {command}"
            )

    # --- build -------------------------------------------------------------------

    @staticmethod
    def _validate(docs: Sequence[Document], chunks: Sequence[Chunk]) -> None:
        doc_ids = [d.doc_id for d in docs]
        if len(set(doc_ids)) != len(doc_ids):
            dup = sorted({d for d in doc_ids if doc_ids.count(d) > 1})
            raise ValueError(f"duplicate document ids: {', '.join(dup)}")
        known = set(doc_ids)
        seen: set[str] = set()
        for c in chunks:
            if c.doc_id not in known:
                raise ValueError(f"chunk {c.chunk_id!r} belongs to document {c.doc_id!r}, which was not given")
            if c.chunk_id in seen:
                raise ValueError(f"duplicate chunk id {c.chunk_id!r}")
            seen.add(c.chunk_id)

    @staticmethod
    def _embed(embedder: Embedder, chunks: Sequence[Chunk], progress: bool) -> np.ndarray:
        if not chunks:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        vecs = np.asarray(embedder.encode_documents([c.indexed_text() for c in chunks], progress=progress))
        if vecs.shape != (len(chunks), embedder.dim):
            raise ValueError(
                f"embedder {embedder.name!r} returned vectors of shape {vecs.shape}, "
                f"expected ({len(chunks)}, {embedder.dim})"
            )
        return vecs

    @classmethod
    def build(
        cls,
        docs: Sequence[Document],
        chunks: Sequence[Chunk],
        embedder: Embedder,
        tokenizer: Tokenizer,
        out_dir: str | Path,
        chunker_settings: Mapping[str, Any],
        retrieval: RetrievalConfig = RetrievalConfig(),
        progress: bool = True,
        dense_settings: Mapping[str, Any] | None = None,
        with_sentences: bool = True,
    ) -> "IndexStore":
        """Embed and index ``chunks`` of ``docs`` and save atomically to ``out_dir``.

        ``dense_settings`` are :class:`DenseIndex` constructor args other than
        ``dim`` (e.g. ``{"kind": "hnsw"}``); they are recorded in the manifest.
        ``with_sentences``: also embed every chunk's sentences (:mod:`index.sentences`,
        the answer stage's candidate vectors); off only for synthetic benchmarks.
        An existing index at ``out_dir`` stays in place until the new one is
        completely written.
        """
        t0 = time.monotonic()
        cls._validate(docs, chunks)
        dense_settings = dict(dense_settings or {})
        dense = DenseIndex(embedder.dim, **dense_settings)
        vecs = cls._embed(embedder, chunks, progress)
        dense.add([c.chunk_id for c in chunks], vecs)
        bm25 = BM25Index(tokenizer)
        bm25.index([c.chunk_id for c in chunks], [c.indexed_text() for c in chunks])
        doc_hashes = {d.doc_id: _sha256_text(d.text) for d in docs}
        manifest = {
            "format": FORMAT,
            "package_version": __version__,
            "embedding": {"model": embedder.name, "backend": embedder.backend, "dim": int(embedder.dim)},
            "chunker": dict(chunker_settings),
            "retrieval": retrieval.to_dict(),
            "tokenizer": _tokenizer_settings(tokenizer),
            "dense": dense_settings,
            "corpus_fingerprint": corpus_fingerprint(doc_hashes),
            "document_sha256": doc_hashes,
            "documents": [d.doc_id for d in docs],
            "n_chunks": len(chunks),
            "built_at": _utc_now(),
            "build_seconds": 0.0,
        }
        store = cls(
            Path(out_dir),
            linked({d.doc_id: d.meta for d in docs}),  # version links derive from the whole set
            {c.chunk_id: c for c in chunks},
            dense,
            bm25,
            manifest,
            embedder,
            tokenizer,
        )
        if with_sentences:
            store._sentences = SentenceIndex.build(chunks, embedder, progress=progress)
        store.items_report = sync_items(store._items, store._docs, _chunks_of(chunks), doc_hashes)
        manifest["build_seconds"] = round(time.monotonic() - t0, 3)
        store.save()
        return store

    # --- load --------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: str | Path,
        embedder: EmbedderLike = None,
        *,
        tokenizer: Tokenizer | None = None,
        model: str | None = None,
        backend: str | None = None,
        chunker_settings: Mapping[str, Any] | None = None,
    ) -> "IndexStore":
        """Load the index at ``path`` and check it fits the configuration.

        Args:
            embedder: an :class:`Embedder`, a zero-argument callable creating
                one on first use, or ``None`` (BM25-only use).
            tokenizer: keyword tokenizer; default :class:`JiebaTokenizer`.  If
                its settings differ from the build's, BM25 is re-indexed in
                memory from the stored chunks (cheap; no re-embedding).
            model, backend: the configured embedding model/backend, checked
                against the manifest without creating a lazy embedder.
            chunker_settings: the configured chunker settings, checked too.

        Raises:
            IndexNotFound, IndexCorrupt, IndexMismatch: one-line messages
            that name the rebuild command.
        """
        path = Path(path)
        hint = f"rebuild with: {rebuild_command(path)}"
        try:
            _recover(path)
        except OSError as e:
            raise IndexCorrupt(f"index at {path} could not be restored from its backup ({e}); {hint}") from None
        try:
            empty = not path.is_dir() or (not (path / MANIFEST).exists() and not any(path.iterdir()))
        except OSError as e:
            raise IndexCorrupt(f"index at {path} cannot be read ({e.strerror or e}); {hint}") from None
        if empty:
            raise IndexNotFound(f"no index at {path}; build one with: {rebuild_command(path)}")
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("manifest is not a JSON object")
        except FileNotFoundError:
            raise IndexCorrupt(f"index at {path} is incomplete (no {MANIFEST}); {hint}") from None
        except (OSError, ValueError) as e:
            raise IndexCorrupt(f"index at {path} has an unreadable {MANIFEST} ({e}); {hint}") from None
        if manifest.get("format") != FORMAT:
            raise IndexMismatch(
                f"index at {path} has format {manifest.get('format')!r}, this version reads format {FORMAT}; {hint}"
            )
        if isinstance(embedder, Embedder):
            cls._check_embedding(path, manifest, embedder.name, embedder.backend, embedder.dim)
        cls._check_embedding(path, manifest, model, backend, None)
        if chunker_settings is not None and dict(chunker_settings) != manifest.get("chunker"):
            raise IndexMismatch(
                f"index at {path} was built with other chunker settings "
                f"({_diff_settings(manifest.get('chunker') or {}, chunker_settings)}); {hint}"
            )
        missing = [name for name in REQUIRED if not (path / name).exists()]
        if missing:
            raise IndexCorrupt(f"index at {path} is incomplete (missing {', '.join(missing)}); {hint}")
        if tokenizer is None:
            from policyqa.index.tokenize import JiebaTokenizer

            tokenizer = JiebaTokenizer()
        try:
            docs = {m.doc_id: m for m in (DocMeta.from_dict(r) for r in _read_jsonl(path / DOCS))}
            chunks = {c.chunk_id: c for c in (Chunk.from_dict(r) for r in _read_jsonl(path / CHUNKS))}
            dense = DenseIndex.load(path, **(manifest.get("dense") or {}))
            if _tokenizer_settings(tokenizer) == manifest.get("tokenizer"):
                bm25 = BM25Index.load(path / BM25_DIR, tokenizer)
            else:  # tokenizer changed (e.g. edited user dictionary): re-index keywords
                bm25 = BM25Index(tokenizer).index(list(chunks), [c.indexed_text() for c in chunks.values()])
                manifest["tokenizer"] = _tokenizer_settings(tokenizer)
            problem = _consistency(manifest, docs, chunks, dense, bm25)
        except (OSError, ValueError, TypeError, KeyError, RuntimeError) as e:
            raise IndexCorrupt(f"index at {path} is damaged ({_one_line(e)}); {hint}") from None
        if problem:
            raise IndexCorrupt(f"index at {path} is inconsistent ({problem}); {hint}")
        items, why = ItemFile.load(path)
        store = cls(path, docs, chunks, dense, bm25, manifest, embedder, tokenizer, items)
        store._sentences = SentenceIndex.load(path / SENTENCES_DIR)
        store.items_report = sync_items(items, docs, _chunks_of(chunks.values()), manifest.get("document_sha256") or {},
                                        reason=why)
        return store

    # --- change ------------------------------------------------------------------

    def add(self, docs: Sequence[Document], chunks: Sequence[Chunk], progress: bool = False) -> int:
        """Add or replace documents with their chunks; returns how many chunks were embedded.

        A document id already in the index is replaced: its old chunks go.  A
        new chunk whose id and indexed text equal an old one reuses the stored
        vector; only the others are embedded.  Call :meth:`save` to persist.

        Copy-on-write: the new state is built beside the current one and
        swapped in at the end, so searches running meanwhile (through
        :meth:`retriever`) see either the old or the new index, never a mix.
        """
        self._validate(docs, chunks)
        with self._change_lock:
            new_doc_ids = {d.doc_id for d in docs}
            old_ids = [cid for cid, c in self._chunks.items() if c.doc_id in new_doc_ids]
            others = {cid for cid, c in self._chunks.items() if c.doc_id not in new_doc_ids}
            clash = [c.chunk_id for c in chunks if c.chunk_id in others]
            if clash:
                raise ValueError(f"chunk id {clash[0]!r} already belongs to document {self._chunks[clash[0]].doc_id!r}")
            reusable = {cid: self._chunks[cid].indexed_text() for cid in old_ids}
            to_embed = [c for c in chunks if reusable.get(c.chunk_id) != c.indexed_text()]
            vecs = self._embed(self.embedder, to_embed, progress) if to_embed else None

            new_chunk_ids = {c.chunk_id for c in chunks}
            dense = copy.copy(self._dense)  # DenseIndex replaces (never mutates) its arrays: a shallow copy is safe
            dense.remove([cid for cid in old_ids if cid not in new_chunk_ids])
            if to_embed:
                dense.add([c.chunk_id for c in to_embed], vecs)
            chunk_map = dict(self._chunks)
            doc_map = dict(self._docs)
            for cid in old_ids:
                del chunk_map[cid]
            for d in docs:
                doc_map.pop(d.doc_id, None)
                doc_map[d.doc_id] = d.meta
            for c in chunks:
                chunk_map[c.chunk_id] = c
            hashes = dict(self._manifest.get("document_sha256") or {})
            hashes.update({d.doc_id: _sha256_text(d.text) for d in docs})
            sentences = None
            if self._sentences is not None:  # on a copy; sentences of unchanged chunks keep their vectors
                sentences = self._sentences.copy()
                sentences.remove([cid for cid in old_ids if cid not in new_chunk_ids])
                fresh = {c.chunk_id for c in to_embed}
                stale = sentences.missing({c.chunk_id: c for c in chunks if c.chunk_id not in fresh})
                sentences.add(stale + to_embed, self.embedder)
            self._swap(doc_map, chunk_map, dense, hashes, old_ids, chunks)
            if sentences is not None:
                self._sentences = sentences
            # policy items: derived for the added documents only (on a copy, swapped in whole)
            items = self._items.copy()
            self.items_report = sync_items(items, self._docs, _chunks_of(chunks), hashes, only=[d.doc_id for d in docs])
            self._items = items
            return len(to_embed)

    def remove(self, doc_id: str) -> int:
        """Remove a document and its chunks; returns how many chunks went.  Call :meth:`save` to persist."""
        with self._change_lock:
            if doc_id not in self._docs:
                raise KeyError(f"document {doc_id!r} is not in the index at {self.path}")
            gone = [cid for cid, c in self._chunks.items() if c.doc_id == doc_id]
            dense = copy.copy(self._dense)
            dense.remove(gone)
            chunk_map = {cid: c for cid, c in self._chunks.items() if c.doc_id != doc_id}
            doc_map = {d: m for d, m in self._docs.items() if d != doc_id}
            hashes = dict(self._manifest.get("document_sha256") or {})
            hashes.pop(doc_id, None)
            sentences = None
            if self._sentences is not None:
                sentences = self._sentences.copy()
                sentences.remove(gone)
            self._swap(doc_map, chunk_map, dense, hashes, gone, ())
            if sentences is not None:
                self._sentences = sentences
            items = self._items.copy()
            items.delete(doc_id)
            self._items = items
            return len(gone)

    def _swap(self, docs: dict[str, DocMeta], chunks: dict[str, Chunk], dense: DenseIndex, hashes: dict[str, str],
              removed: Sequence[str], added: Sequence[Chunk]) -> None:
        """Update the keyword index (tokenising only ``added``) and make the new state current in one step."""
        docs = linked(docs)  # version links derive from the whole set
        if self._bm25.has_tokens:
            bm25 = self._bm25.updated(removed, [c.chunk_id for c in added], [c.indexed_text() for c in added])
        else:  # an index saved before token ids were stored: tokenise everything once
            bm25 = BM25Index(self.tokenizer, k1=self._bm25.k1, b=self._bm25.b)
            bm25.index(list(chunks), [c.indexed_text() for c in chunks.values()])
        m = json.loads(json.dumps(self._manifest))
        m["document_sha256"] = {d: hashes[d] for d in docs if d in hashes}
        m["corpus_fingerprint"] = corpus_fingerprint(m["document_sha256"])
        m["documents"] = list(docs)
        m["n_chunks"] = len(chunks)
        m["updated_at"] = _utc_now()
        self._docs, self._chunks, self._dense, self._bm25, self._manifest = docs, chunks, dense, bm25, m
        self._snapshot = (docs, chunks, dense, bm25)  # what retrievers read; assigned last, atomically

    # --- save --------------------------------------------------------------------

    def save(self) -> None:
        """Write the index to ``self.path`` atomically (temp dir, then rename)."""
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        _recover(path)
        _clean_stale(path)
        tmp = _sibling(path, "tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        try:
            tmp.mkdir()
            self._dense.save(tmp)
            self._bm25.save(tmp / BM25_DIR)
            if self._sentences is not None:
                self._sentences.save(tmp / SENTENCES_DIR)
            _write_jsonl(tmp / CHUNKS, (c.to_dict() for c in self._chunks.values()))
            _write_jsonl(tmp / DOCS, (m.to_dict() for m in self._docs.values()))
            self._items.save(tmp)
            _write_json(tmp / MANIFEST, self._manifest)  # last: marks the directory complete
            old = _sibling(path, "old")
            if path.exists():
                if old.exists():
                    shutil.rmtree(old)
                os.rename(path, old)
            os.rename(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            _recover(path)
            raise
        shutil.rmtree(old, ignore_errors=True)

    def save_items(self) -> None:
        """Write only ``items.jsonl`` into the saved index (after items were derived on load).

        Call under the index's lock (shared is enough: it keeps writers out);
        the file is replaced atomically and checked per document on load.
        """
        self._items.save_atomic(self.path)

    # --- retrieval ---------------------------------------------------------------

    def retriever(self, config: RetrievalConfig | None = None) -> "StoreRetriever":
        """A retriever over this store (``config`` defaults to the manifest's).

        It searches whatever state is current when each search starts (a
        :class:`HybridRetriever` per state), so it stays valid across
        :meth:`add` / :meth:`remove`.  The embedder is created lazily on the
        first dense search when a factory was given.
        """
        config = config or self.retrieval_config
        if config.mode in ("dense", "hybrid") and self._embedder is None:
            raise ValueError(
                f"retrieval mode {config.mode!r} needs an embedder; pass embedder= to IndexStore.load "
                "or use mode 'bm25'"
            )
        return StoreRetriever(self, config)

    def _hybrid(self, snapshot, config: RetrievalConfig) -> HybridRetriever:
        docs, chunks, dense_index, bm25 = snapshot
        dense = DenseRetriever(lambda: self.embedder, dense_index) if config.mode in ("dense", "hybrid") else None
        sparse = BM25Retriever(bm25) if config.mode in ("bm25", "hybrid") else None
        return HybridRetriever(dense, sparse, MappingProxyType(chunks), MappingProxyType(docs), config)


class StoreRetriever:
    """The :class:`HybridRetriever` of an :class:`IndexStore`'s current state.

    Each call reads the store's state once (one tuple, swapped atomically by
    ``add``/``remove``), so a search never sees half of a change.  Has the
    answer stage's interface: ``search``, ``batch_search``, ``docs``,
    ``get_chunks``, ``chunks_of`` (and ``chunks``, ``config``).
    """

    def __init__(self, store: IndexStore, config: RetrievalConfig) -> None:
        self.store = store
        self.config = config
        self._cached: tuple | None = None

    def current(self) -> HybridRetriever:
        snap = self.store._snapshot
        cached = self._cached
        if cached is None or cached[0] is not snap:
            cached = (snap, self.store._hybrid(snap, self.config))
            self._cached = cached
        return cached[1]

    def batch_search(self, queries: Sequence[str], k: int = 10, filters=None):
        return self.current().batch_search(queries, k, filters)

    def search(self, query: str, k: int = 10, filters=None):
        return self.current().search(query, k, filters)

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        return self.current().get_chunks(chunk_ids)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return self.current().chunks_of(doc_id)

    @property
    def docs(self) -> Mapping[str, DocMeta]:
        return self.current().docs

    @property
    def chunks(self) -> Mapping[str, Chunk]:
        return self.current().chunks

    @property
    def dense(self):
        return self.current().dense

    @property
    def sparse(self):
        return self.current().sparse


def _chunks_of(chunks: Iterable[Chunk]) -> Callable[[str], list[Chunk]]:
    """A document's chunks, grouped once."""
    groups: dict[str, list[Chunk]] = {}
    for c in chunks:
        groups.setdefault(c.doc_id, []).append(c)
    return lambda doc_id: groups.get(doc_id, [])


def _tokenizer_settings(tokenizer: Tokenizer) -> dict[str, Any]:
    settings = getattr(tokenizer, "settings", None)
    if callable(settings):
        return dict(settings())
    return {"kind": type(tokenizer).__name__}


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]


def _consistency(manifest, docs, chunks, dense, bm25) -> str:
    if list(docs) != list(manifest.get("documents") or []):
        return f"{DOCS} lists {len(docs)} documents, the manifest {len(manifest.get('documents') or [])}"
    if len(chunks) != manifest.get("n_chunks"):
        return f"{CHUNKS} holds {len(chunks)} chunks, the manifest says {manifest.get('n_chunks')}"
    ids = set(chunks)
    if set(dense.ids) != ids:
        return f"the FAISS ids ({len(dense)}) differ from the chunks ({len(chunks)})"
    if set(bm25.ids) != ids:
        return f"the BM25 ids ({len(bm25)}) differ from the chunks ({len(chunks)})"
    if len(dense) and dense.dim != (manifest.get("embedding") or {}).get("dim"):
        return f"vectors are {dense.dim}-d, the manifest says {(manifest.get('embedding') or {}).get('dim')}"
    stray = sorted({c.doc_id for c in chunks.values()} - set(docs))
    if stray:
        return f"chunks refer to unknown document {stray[0]!r}"
    return ""
