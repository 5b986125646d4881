"""The knowledge base as the app and CLI see it: answer() and document management.

``KnowledgeBase.open(settings)`` loads the index (building it from the
built-in documents on first use), and wires an :class:`Answerer` over it.
The UI calls only :meth:`answer`, :meth:`documents`, :meth:`add` and
:meth:`remove` (plus :meth:`chunks` / :meth:`original` for the document
pages); it never touches FAISS, jieba or prompts.

Changing the index never blocks answers and never loses a document:

* Parsing happens before any lock (:func:`parse_files`, or a caller's own
  isolated parser whose :class:`Parsed` result is passed to :meth:`add`).
* A change takes the cross-process writer lock (``index/lockfile.py``), loads
  the *newest* index from disk (so a document another process added is kept),
  adds or removes (embedding happens here, while questions keep being
  answered on the current index), saves atomically and then swaps the
  current ``(store, answerer)`` pair in one assignment.
* :meth:`refresh` reloads the index when another process (``policyqa add``)
  saved a newer generation; the web app calls it every few seconds.
* The original file of every added document is kept in
  ``$POLICYQA_HOME/uploads/`` (a replaced or removed one moves to
  ``uploads/.removed/``), and :func:`build_index` re-reads those originals
  with the built-in documents, so a rebuild loses nothing a user added.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterator, Sequence

from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.items import ItemCatalog
from policyqa.corpus.pipeline import builtin_corpus_dir, chunk_documents, load_corpus
from policyqa.corpus.readers import SUPPORTED
from policyqa.corpus.types import Chunk, DocMeta, Document, Skipped
from policyqa.index.backend import build_backend, load_backend
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.lockfile import IndexBusy, IndexLock, generation, manifest_signature
from policyqa.index.store import IndexCorrupt, IndexMismatch, IndexNotFound, IndexStore, IndexStoreError, rebuild_command
from policyqa.index.tokenize import JiebaTokenizer
from policyqa.index.types import Filters
from policyqa.qa.answerer import DEFAULT_TOP_K, Answerer
from policyqa.qa.compose import ExtractiveComposer
from policyqa.qa.parsed import Parsed, parse_files
from policyqa.qa.types import Answer
from policyqa.settings import Settings


# The product's retrieval default, chosen with the evaluation tool (README,
# "Results"): RRF with k=5 and BM25 weighted twice the dense list beat equal
# weights, RRF k=60, min-max fusion and either retriever alone on the team set
# (MRR@10 0.913 vs 0.897 equal weights) and on the external NCP set (0.726 vs 0.713).
DEFAULT_RETRIEVAL = RetrievalConfig(mode="hybrid", fusion="rrf", rrf_k=5, weights=(1.0, 0.5))

REMOVED_DIR = ".removed"  # inside uploads/: originals of removed or replaced documents


@dataclass(frozen=True)
class AddReport:
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    chunks_embedded: int = 0


def embedder_factory(settings: Settings) -> Callable:
    def make():
        from policyqa.index.embeddings import load_embedder

        return load_embedder(settings.embedding_model, settings.embedding_backend, cache=settings.embedding_cache_path)

    return make


def default_corpus(settings: Settings) -> list[Path]:
    """What a default build reads: the kept originals in ``uploads/`` and the built-in documents.

    An original whose name equals a built-in document's replaces it (the user
    uploaded a newer version under that name).
    """
    kept = []
    up = Path(settings.uploads_dir)
    if up.is_dir():
        kept = sorted(p for p in up.iterdir()
                      if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED)
    names = {p.name for p in kept}
    builtin = sorted(p for p in builtin_corpus_dir().iterdir() if p.is_file() and p.name not in names)
    return kept + builtin


def build_index(
    settings: Settings,
    corpus: Sequence[str | Path] | None = None,
    chunker: ChunkerConfig = ChunkerConfig(),
    retrieval: RetrievalConfig = DEFAULT_RETRIEVAL,
    progress: bool = True,
    embedder=None,
    tokenizer=None,
) -> tuple[IndexStore, tuple[Skipped, ...]]:
    """Load, chunk, embed and save the index for ``corpus``.

    The default corpus is :func:`default_corpus`: the built-in documents plus
    the originals of every document users added.  Holds the index's writer
    lock while building, so a running app never saves over it.
    """
    report = load_corpus(corpus or default_corpus(settings))
    if not report.documents:
        raise ValueError("no documents could be loaded: " + "; ".join(s.reason for s in report.skipped) if report.skipped else "no documents found")
    chunks = chunk_documents(report.documents, chunker)
    emb = embedder or embedder_factory(settings)()
    with IndexLock(settings.index_dir).exclusive():
        store = build_backend(
            settings.backend, report.documents, chunks, emb, tokenizer or JiebaTokenizer(), index_dir=settings.index_dir,
            milvus=settings.milvus() if settings.backend == "milvus" else None,
            chunker_settings=chunker.to_dict(), retrieval=retrieval, progress=progress,
        )
    return store, report.skipped


def make_answerer(store: IndexStore, retrieval: RetrievalConfig = DEFAULT_RETRIEVAL, llm=None, top_k: int = DEFAULT_TOP_K,
                  today: Callable[[], date] = date.today, models: str | None = None, threshold: float | None = None,
                  each_place: int | None = None) -> Answerer:
    """The one wiring of an :class:`Answerer` over an index, shared by the service
    and the evaluation: retriever, learned selector and answerability models
    (``qa/models``, or the folder ``models``), stored sentence vectors, top_k.
    ``threshold`` overrides the answerability threshold chosen on the tune halves
    (tests of answer shapes use 0: always answer); ``each_place`` the number of places a figure
    question naming no place is answered for (:class:`Answerer`; default ``EACH_PLACE``)."""
    from policyqa.qa.features import ANSWERABILITY_FEATURES, CANDIDATE_FEATURES
    from policyqa.qa.model import MODELS, load_model

    folder = str(models or MODELS)
    tok = store.tokenizer.tokenize
    from policyqa.qa.trim import default_trimmer

    composer = ExtractiveComposer(tok, model=load_model("selector", CANDIDATE_FEATURES, folder), trimmer=default_trimmer(folder))
    bm25 = getattr(store, "bm25", None)
    if callable(getattr(bm25, "document_frequencies", None)):
        # the IDF statistics of the keyword index itself: the same numbers as
        # tokenizing every chunk again (TermStats.from_texts), without the ~5 ms per chunk
        from policyqa.qa.features import TermStats

        composer.stats = TermStats(bm25.document_frequencies(), max(1, len(bm25)))
    answerable = load_model("answerable", ANSWERABILITY_FEATURES, folder)
    # dense similarities are on the scale of the model they were fitted with: with another
    # embedding model (or a test fake) they are treated as unknown (imputed), never misread
    built_with = ((getattr(store, "manifest", None) or {}).get("embedding") or {}).get("model", "")
    dense_ok = not answerable.embedding_model or built_with == answerable.embedding_model
    answerer = Answerer(store.retriever(retrieval), composer, store.docs, tok, top_k=top_k, llm=llm, today=today,
                        answerable=answerable, sentences=getattr(store, "sentences", None), dense_features=dense_ok,
                        items=_items_of(store), **({"each_place": each_place} if each_place is not None else {}))
    if threshold is not None:
        answerer.threshold = float(threshold)
    return answerer


def _items_of(store) -> Callable[[], ItemCatalog]:
    """The store's policy items, read when first asked: those stored with the index,
    else derived once from its chunks (an index without an item store)."""
    cache: list[ItemCatalog] = []

    def get() -> ItemCatalog:
        if not cache:
            stored = getattr(store, "items", None)
            cache.append(stored if isinstance(stored, ItemCatalog) else ItemCatalog.build(store.docs, store.chunks.values()))
        return cache[0]

    return get


def load_index(settings: Settings, embedder=None, tokenizer=None):
    """Open the configured backend's index, checked against the configured model and chunker."""
    return load_backend(settings.backend, index_dir=settings.index_dir,
                        milvus=settings.milvus() if settings.backend == "milvus" else None,
                        embedder=embedder, tokenizer=tokenizer, model=_model_name(settings),
                        embedding_backend=settings.embedding_backend, chunker_settings=ChunkerConfig().to_dict())


def _local_dir(store, settings: Settings) -> Path:
    """The directory whose lock and manifest coordinate this process's writers and readers:
    the in-process index itself; for Milvus, the configured index directory (writers on this
    machine take turns; the manifest there stays absent, so ``refresh`` never reloads)."""
    return Path(store.path) if isinstance(store, IndexStore) else Path(settings.index_dir)


class _SharedEmbedder:
    """One embedder for every store a knowledge base loads (the model is loaded once).

    Passed to :meth:`IndexStore.load` as the lazy factory; resolves the first
    store's embedder on first use and then forgets that store.
    """

    def __init__(self, store: IndexStore) -> None:
        self._store: IndexStore | None = store
        self._emb = None
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            if self._emb is None:
                self._emb = self._store.embedder
                self._store = None
            return self._emb


@dataclass(frozen=True)
class _State:
    """What answers run on; replaced as a whole, never changed in place."""

    store: IndexStore
    answerer: Answerer
    make_items: Callable[[], ItemCatalog]  # policy items derived from the store's chunks, built on first use
    generation: str
    signature: tuple | None
    _items: list = dataclasses.field(default_factory=list, repr=False, compare=False)

    @property
    def items(self) -> ItemCatalog:
        if not self._items:  # answers never need the items: built when matching first asks
            self._items[:] = [self.make_items()]
        return self._items[0]


class _Write:
    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self.undo: list[Callable[[], None]] = []


class KnowledgeBase:
    """An index plus an answerer; thread-safe for answers during adds and removes.

    Args:
        store: a loaded (saved) :class:`IndexStore`.
        settings: where the uploads folder is, among others.
        top_k, retrieval, llm, threshold: the answerer's configuration (see :func:`make_answerer`).
        lock_timeout: seconds a change waits for another process's change.
    """

    def __init__(self, store: IndexStore, settings: Settings, top_k: int = DEFAULT_TOP_K,
                 retrieval: RetrievalConfig = DEFAULT_RETRIEVAL, llm=None, lock_timeout: float = 600.0,
                 threshold: float | None = None):
        self.settings = settings
        self.top_k = top_k
        self.threshold = threshold
        self.retrieval = retrieval
        self.llm = llm
        self._path = _local_dir(store, settings)
        self._lock = IndexLock(self._path, timeout=lock_timeout)
        self._write_mutex = threading.Lock()
        self._embedder = _SharedEmbedder(store)
        self._state = self._state_for(store, generation(self._path))

    @classmethod
    def open(cls, settings: Settings | None = None, build_if_missing: bool = True, progress: bool = True, **kw) -> "KnowledgeBase":
        """Load the index (build it on first use); messages go to stderr.

        A built-in-only index built by another version (other chunker or
        model) is rebuilt; any other unusable index is an
        :class:`IndexStoreError` naming the rebuild command — never an
        automatic rebuild that could drop documents.
        """
        settings = settings or Settings.from_env()
        path = Path(settings.index_dir)
        problem = manifest_problem(path, settings) if settings.backend == "inprocess" else ""
        if problem:
            raise IndexCorrupt(problem)
        from policyqa.index.embeddings import BackgroundLoad

        factory = BackgroundLoad(embedder_factory(settings))  # loads while the index and jieba load
        load = lambda: load_index(settings, factory)  # noqa: E731
        try:
            with IndexLock(path).shared():
                store = load()
                keep_derived_items(store)  # said even when quiet: it happens once
        except IndexNotFound:
            if not build_if_missing:
                raise
            _say(f"first start: building the index of the built-in documents in {path} ...", progress)
            store, _ = build_index(settings, progress=progress, embedder=factory())
        except IndexMismatch:
            # An index of the built-in documents alone, built by another version
            # (other chunker or model), is rebuilt: nothing of the user's is lost.
            if not build_if_missing or settings.backend != "inprocess" or not _proven_builtin_only(path):
                raise
            _say(f"the index at {path} holds only the built-in documents and was built with other settings; rebuilding it", True)
            store, _ = build_index(settings, progress=progress, embedder=factory())
        if "llm" not in kw:
            from policyqa.qa.llm import llm_from_settings

            kw["llm"] = llm_from_settings(settings)
        return cls(store, settings, **kw)

    # -- state ------------------------------------------------------------------

    @property
    def store(self) -> IndexStore:
        """The index answers currently run on (replaced, never changed in place, by add/remove)."""
        return self._state.store

    @property
    def generation(self) -> str:
        return self._state.generation

    def _make_answerer(self, store: IndexStore) -> Answerer:
        return make_answerer(store, self.retrieval, llm=self.llm, top_k=self.top_k, threshold=self.threshold)

    @property
    def items(self) -> ItemCatalog:
        """Policy items of every document (rebuilt with each new index, never changed in place)."""
        return self._state.items

    @staticmethod
    def _make_items(store) -> ItemCatalog:
        """Policy items of every document: as stored with the in-process index (``index/items.py``);
        a backend without an item store (Milvus, until it keeps them in a side collection
        implementing ``ItemStore``) derives them from its chunks."""
        stored = getattr(store, "items", None)
        if isinstance(stored, ItemCatalog):
            return stored
        return ItemCatalog.build(store.docs, store.chunks.values())

    def _state_for(self, store: IndexStore, gen: str) -> _State:
        answerer = self._make_answerer(store)  # the chat and matching share one read of the items
        return _State(store, answerer, answerer.items or (lambda: self._make_items(store)), gen, manifest_signature(self._path))

    def _load_from_disk(self) -> IndexStore:
        """The index on disk (call under the index lock)."""
        cur = self._state.store
        emb = cur.manifest.get("embedding") or {}
        if not isinstance(cur, IndexStore):  # Milvus: the newest document list from the collections
            return type(cur).load(cur.config, self._embedder, tokenizer=cur.tokenizer, model=emb.get("model"),
                                  backend=emb.get("backend"), chunker_settings=cur.manifest.get("chunker"))
        store = IndexStore.load(cur.path, self._embedder, tokenizer=cur.tokenizer, model=emb.get("model"),
                                backend=emb.get("backend"), chunker_settings=cur.manifest.get("chunker"))
        keep_derived_items(store)
        return store

    def refresh(self) -> bool:
        """Reload the index if another process saved a newer generation; True when reloaded.

        Cheap when nothing changed (one ``stat``).  Skipped (False) while this
        process or another one is writing; the next call catches up.
        """
        st = self._state
        if manifest_signature(self._path) == st.signature:
            return False
        if not self._write_mutex.acquire(blocking=False):
            return False
        try:
            try:
                with self._lock.shared(timeout=0):
                    gen = generation(self._path)
                    if gen == self._state.generation:
                        self._state = dataclasses.replace(self._state, signature=manifest_signature(self._path))
                        return False
                    new = self._state_for(self._load_from_disk(), gen)
            except IndexStoreError as e:
                print(f"not reloading the index: {e}", file=sys.stderr, flush=True)
                return False
            except IndexBusy:  # a writer is at work; the next call catches up
                return False
            self._state = new
            return True
        finally:
            self._write_mutex.release()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[_Write]:
        """Writer lock -> newest index from disk -> caller changes it -> save -> swap.

        Answers keep running on the current state until the swap.  On any
        failure the undo steps run and neither memory nor disk change.
        """
        with self._write_mutex, self._lock.exclusive():
            w = _Write(self._load_from_disk())
            try:
                yield w
                w.store.save()
            except BaseException:
                for undo in reversed(w.undo):
                    with contextlib.suppress(Exception):
                        undo()
                raise
            self._state = self._state_for(w.store, generation(self._path))

    # -- the UI's verbs ---------------------------------------------------------

    def answer(self, question: str, history=None, filters: Filters | None = None, top_k: int | None = None) -> Answer:
        return self._state.answerer.answer(question, history=history, filters=filters, top_k=top_k)

    def match(self, profile: dict, today=None, include_unquantified: bool = False):
        """The items a profile (issue-13 JSON object) can claim: a :class:`policyqa.qa.match.MatchResult`.
        Raises :class:`policyqa.qa.match.ProfileError` for a value of the wrong type."""
        from policyqa.qa.match import match, parse_profile

        p, unknown = parse_profile(profile)
        st = self._state  # one consistent catalogue and document set even if a document is added meanwhile
        return match(p, st.items.all_items(), st.store.docs, today=today, unknown_fields=unknown,
                     include_unquantified=include_unquantified)

    def compare(self, topic: str, regions: Sequence[str] = (), today=None):
        """One kind of reward across regions, each cell cited: a :class:`policyqa.qa.compare.Comparison`."""
        from policyqa.qa.compare import compare

        st = self._state
        return compare(topic, st.items.all_items(), st.store.docs, st.store.chunks.values(), regions=regions, today=today)

    def items_of(self, doc_id: str):
        """One document's policy items (``PolicyItem``), in reading order; KeyError for an unknown document."""
        st = self._state
        if doc_id not in st.store.docs:
            raise KeyError(doc_id)
        try:
            return st.items.items_for(doc_id)
        except KeyError:
            return ()

    def documents(self) -> list[DocMeta]:
        return sorted(self._state.store.docs.values(), key=lambda m: m.doc_id)

    def chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document in reading order (KeyError when unknown)."""
        store = self._state.store
        if doc_id not in store.docs:
            raise KeyError(f"no document '{doc_id}' in the knowledge base")
        fetch = getattr(self._state.answerer.retriever, "chunks_of", None)  # one document's rows, on every backend
        if fetch is not None:
            return fetch(doc_id)
        return sorted((c for c in store.chunks.values() if c.doc_id == doc_id), key=lambda c: (c.start, c.end))

    def original(self, doc_id: str) -> Path | None:
        """The kept original file of a document (uploads folder, else the built-in folder), or None."""
        if doc_id not in self._state.store.docs or not _plain_name(doc_id):
            return None
        for folder in (Path(self.settings.uploads_dir), builtin_corpus_dir()):
            p = folder / doc_id
            if p.is_file():
                return p
        return None

    def add(self, paths: Sequence[str | Path] = (), progress: bool = False, parsed: Parsed | None = None,
            keep_originals: bool = True) -> AddReport:
        """Add (or replace) documents; unreadable files are reported, nothing is half-added.

        Args:
            paths: files to read with :func:`parse_files` (ignored when ``parsed`` is given).
            parsed: documents parsed by the caller (e.g. in a sandboxed worker).
            keep_originals: copy each document's original file into the uploads folder.
        """
        parsed = parsed if parsed is not None else parse_files(paths)
        if not parsed.documents:
            return AddReport(skipped=parsed.skipped)
        originals = {d: Path(p) for d, p in parsed.originals if _plain_name(d)} if keep_originals else {}
        up = Path(self.settings.uploads_dir)
        docs = [Document(dataclasses.replace(d.meta, source=str(up / d.doc_id)), d.text) if d.doc_id in originals else d
                for d in parsed.documents]
        with self._writing() as w:
            existing = set(w.store.docs)
            n = w.store.add(docs, list(parsed.chunks), progress=progress)
            w.undo.append(self._place_originals(originals))
        ids = [d.doc_id for d in docs]
        return AddReport(tuple(i for i in ids if i not in existing), tuple(i for i in ids if i in existing), parsed.skipped, n)

    def remove(self, doc_id: str) -> int:
        """Remove a document; its kept original moves to ``uploads/.removed/``."""
        with self._writing() as w:
            if doc_id not in w.store.docs:
                raise KeyError(f"no document '{doc_id}' in the knowledge base")
            n = w.store.remove(doc_id)
        self._retire_original(doc_id)
        return n

    def stats(self) -> dict:
        """Sizes for a health check: documents, chunks, embedding model."""
        store = self._state.store
        m = store.manifest
        return {"documents": len(store.docs), "chunks": len(store.chunks),
                "embedding_model": (m.get("embedding") or {}).get("model", ""), "built_at": m.get("built_at", "")}

    def content_hashes(self) -> dict[str, str]:
        """doc id -> SHA-256 of its cleaned text (to detect duplicate uploads)."""
        return dict(self._state.store.manifest.get("document_sha256") or {})

    # -- kept originals -----------------------------------------------------------

    def _place_originals(self, originals: dict[str, Path]) -> Callable[[], None]:
        """Copy originals into the uploads folder (an older one moves to .removed/); returns the undo."""
        up = Path(self.settings.uploads_dir)
        done: list[tuple[Path, Path | None]] = []  # (placed file, the older file it displaced)

        def undo() -> None:
            for dest, old in reversed(done):
                dest.unlink(missing_ok=True)
                if old is not None:
                    os.replace(old, dest)

        tmp = None
        try:
            for doc_id, src in originals.items():
                dest = up / doc_id
                if dest.exists() and src.resolve() == dest.resolve():
                    continue  # re-adding the kept original itself
                up.mkdir(parents=True, exist_ok=True)
                tmp = up / f".{doc_id}.part-{os.getpid()}"
                shutil.copyfile(src, tmp)
                done.append((dest, self._retire_original(doc_id)))
                os.replace(tmp, dest)
                tmp = None
        except BaseException:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            undo()
            raise
        return undo

    def _retire_original(self, doc_id: str) -> Path | None:
        """Move ``uploads/doc_id`` to ``uploads/.removed/`` (kept, not deleted); returns its new path."""
        up = Path(self.settings.uploads_dir)
        p = up / doc_id
        if not _plain_name(doc_id) or not p.is_file():
            return None
        trash = up / REMOVED_DIR
        trash.mkdir(parents=True, exist_ok=True)
        target = trash / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}-{doc_id}"
        os.replace(p, target)
        return target


def keep_derived_items(store, show: bool = True) -> None:
    """After a load that had to derive policy items (an index saved without them, or
    by another extractor version): say so once and store them beside the index.

    Call under the index's lock.  A failure to write is reported, never fatal:
    the items are in memory and are written with the next save.
    """
    report = getattr(store, "items_report", None)  # backends without an item store derive items in memory
    if report is None or not report.derived:
        return
    _say(report.message(str(store.path)), show)
    try:
        store.save_items()
    except OSError as e:
        _say(f"could not store the derived policy items in {store.path} ({e.strerror or e}); "
             "they are kept in memory and saved with the next change", show)


def _plain_name(doc_id: str) -> bool:
    """A document id usable as a file name in the uploads folder (no directories, not hidden)."""
    return bool(doc_id) and "/" not in doc_id and "\\" not in doc_id and not doc_id.startswith(".") and "\x00" not in doc_id


def _say(msg: str, show: bool = True) -> None:
    if show:
        print(msg, file=sys.stderr, flush=True)


def _read_manifest(index_dir: Path):
    try:
        return json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return ...


def manifest_problem(index_dir: Path, settings: Settings | None = None) -> str:
    """One line when the index's manifest exists but holds no valid document list ("" otherwise).

    Such an index is never rebuilt automatically: the message names the
    command that rebuilds it from the built-in documents and the kept originals.
    """
    m = _read_manifest(index_dir)
    if m is None or m is ...:
        return ""  # missing: first start; unreadable: IndexStore.load reports it
    docs = m.get("documents") if isinstance(m, dict) else None
    if isinstance(docs, list) and docs and all(isinstance(d, str) and d for d in docs):
        return ""
    uploads = Path(settings.uploads_dir) if settings else Path(index_dir).parent / "uploads"
    return (f"index at {index_dir} is damaged: its manifest.json has no valid document list, so nothing was "
            f"loaded, changed or rebuilt; rebuild it from the built-in documents and the originals kept in "
            f"{uploads} with: {rebuild_command(index_dir)}")


def _proven_builtin_only(index_dir: Path) -> bool:
    """True only when the manifest *and* docs.jsonl both list built-in documents and nothing else."""
    m = _read_manifest(index_dir)
    if not isinstance(m, dict):
        return False
    docs = m.get("documents")
    if not (isinstance(docs, list) and docs and all(isinstance(d, str) for d in docs)) or len(set(docs)) != len(docs):
        return False
    builtin = {p.name for p in builtin_corpus_dir().iterdir()}
    if not set(docs) <= builtin:
        return False
    try:
        rows = [json.loads(line) for line in (Path(index_dir) / "docs.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        listed = [r["doc_id"] for r in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return sorted(listed) == sorted(docs)


def _model_name(settings: Settings) -> str | None:
    """The name the manifest records for the configured model (None: don't check)."""
    from policyqa.index.embeddings import DEFAULT_ALIASES, DEFAULT_MODEL

    m = settings.embedding_model.strip()
    return DEFAULT_MODEL if m.lower() in DEFAULT_ALIASES else m
