"""The knowledge base as the app and CLI see it: answer() and document management.

``KnowledgeBase.open(settings)`` loads the index (building it from the
built-in documents on first use), and wires an :class:`Answerer` over it.
The UI calls only :meth:`answer`, :meth:`documents`, :meth:`add` and
:meth:`remove`; it never touches FAISS, jieba or prompts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import builtin_corpus_dir, chunk_documents, load_corpus
from policyqa.corpus.types import DocMeta, Skipped
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexMismatch, IndexNotFound, IndexStore
from policyqa.index.tokenize import JiebaTokenizer
from policyqa.index.types import Filters
from policyqa.qa.answerer import Answerer, Gate
from policyqa.qa.compose import ExtractiveComposer
from policyqa.qa.types import Answer
from policyqa.settings import Settings


# The product's retrieval default, chosen with the evaluation tool (README,
# "Results"): RRF with k=5 and BM25 weighted twice the dense list beat equal
# weights, RRF k=60, min-max fusion and either retriever alone on the team set
# (MRR@10 0.913 vs 0.897 equal weights) and on the external NCP set (0.726 vs 0.713).
DEFAULT_RETRIEVAL = RetrievalConfig(mode="hybrid", fusion="rrf", rrf_k=5, weights=(1.0, 0.5))


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


def build_index(
    settings: Settings,
    corpus: Sequence[str | Path] | None = None,
    chunker: ChunkerConfig = ChunkerConfig(),
    retrieval: RetrievalConfig = DEFAULT_RETRIEVAL,
    progress: bool = True,
    embedder=None,
    tokenizer=None,
) -> tuple[IndexStore, tuple[Skipped, ...]]:
    """Load, chunk, embed and save the index for ``corpus`` (default: built-in)."""
    report = load_corpus(corpus or [builtin_corpus_dir()])
    if not report.documents:
        raise ValueError("no documents could be loaded: " + "; ".join(s.reason for s in report.skipped) if report.skipped else "no documents found")
    chunks = chunk_documents(report.documents, chunker)
    emb = embedder or embedder_factory(settings)()
    store = IndexStore.build(
        report.documents, chunks, emb, tokenizer or JiebaTokenizer(), settings.index_dir,
        chunker_settings=chunker.to_dict(), retrieval=retrieval, progress=progress,
    )
    return store, report.skipped


class KnowledgeBase:
    """An index plus an answerer; thread-safe for concurrent ``answer`` calls."""

    def __init__(self, store: IndexStore, settings: Settings, gate: Gate = Gate(), top_k: int = 8, retrieval: RetrievalConfig = DEFAULT_RETRIEVAL, llm=None):
        self.store = store
        self.settings = settings
        self.gate = gate
        self.top_k = top_k
        self.retrieval = retrieval
        self.llm = llm
        self._lock = threading.RLock()
        self._answerer = self._make_answerer()

    @classmethod
    def open(cls, settings: Settings | None = None, build_if_missing: bool = True, progress: bool = True, **kw) -> "KnowledgeBase":
        settings = settings or Settings.from_env()
        from policyqa.index.embeddings import BackgroundLoad

        factory = BackgroundLoad(embedder_factory(settings))  # loads while the index and jieba load
        try:
            store = IndexStore.load(settings.index_dir, factory, model=_model_name(settings), backend=settings.embedding_backend,
                                    chunker_settings=ChunkerConfig().to_dict())
        except IndexNotFound:
            if not build_if_missing:
                raise
            store, _ = build_index(settings, progress=progress, embedder=factory())
        except IndexMismatch:
            # An index of the built-in documents alone, built by another version
            # (other chunker or model), is rebuilt: nothing of the user's is lost.
            # An index with the user's own documents is left alone; the error
            # names the command that rebuilds it.
            if not build_if_missing or not _builtin_only(settings.index_dir):
                raise
            if progress:
                print(f"the index at {settings.index_dir} was built with other settings; rebuilding it", flush=True)
            store, _ = build_index(settings, progress=progress, embedder=factory())
        if "llm" not in kw:
            from policyqa.qa.llm import llm_from_settings

            kw["llm"] = llm_from_settings(settings)
        return cls(store, settings, **kw)

    def _reload(self) -> None:
        emb = self.store._embedder
        self.store = IndexStore.load(self.store.path, emb, tokenizer=self.store.tokenizer)
        self._answerer = self._make_answerer()

    def _make_answerer(self) -> Answerer:
        tok = self.store.tokenizer.tokenize
        return Answerer(self.store.retriever(self.retrieval), ExtractiveComposer(tok), self.store.docs, tok,
                        gate=self.gate, top_k=self.top_k, llm=self.llm)

    # -- the UI's verbs ---------------------------------------------------------

    def answer(self, question: str, history=None, filters: Filters | None = None, top_k: int | None = None) -> Answer:
        return self._answerer.answer(question, history=history, filters=filters, top_k=top_k)

    def documents(self) -> list[DocMeta]:
        return sorted(self.store.docs.values(), key=lambda m: m.doc_id)

    def add(self, paths: Sequence[str | Path], progress: bool = False) -> AddReport:
        """Add (or replace) documents; unreadable files are reported, nothing is half-added."""
        report = load_corpus(paths)
        if not report.documents:
            return AddReport(skipped=report.skipped)
        chunks = chunk_documents(report.documents, ChunkerConfig())
        with self._lock:
            existing = set(self.store.docs)
            try:
                n = self.store.add(report.documents, chunks, progress=progress)
                self.store.save()
            except BaseException:
                self._reload()  # memory back in line with the index on disk: nothing half-added
                raise
            self._answerer = self._make_answerer()
        ids = [d.doc_id for d in report.documents]
        return AddReport(tuple(i for i in ids if i not in existing), tuple(i for i in ids if i in existing), report.skipped, n)

    def stats(self) -> dict:
        """Sizes for a health check: documents, chunks, embedding model."""
        m = self.store.manifest
        return {"documents": len(self.store.docs), "chunks": len(self.store.chunks),
                "embedding_model": (m.get("embedding") or {}).get("model", ""), "built_at": m.get("built_at", "")}

    def content_hashes(self) -> dict[str, str]:
        """doc id -> SHA-256 of its cleaned text (to detect duplicate uploads)."""
        return dict(self.store.manifest.get("document_sha256") or {})

    def remove(self, doc_id: str) -> int:
        with self._lock:
            if doc_id not in self.store.docs:
                raise KeyError(f"no document '{doc_id}' in the knowledge base")
            try:
                n = self.store.remove(doc_id)
                self.store.save()
            except BaseException:
                self._reload()
                raise
            self._answerer = self._make_answerer()
        return n


def _builtin_only(index_dir: Path) -> bool:
    import json

    try:
        docs = json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8")).get("documents") or []
    except (OSError, ValueError):
        return False
    return set(docs) <= {p.name for p in builtin_corpus_dir().iterdir()}


def _model_name(settings: Settings) -> str | None:
    """The name the manifest records for the configured model (None: don't check)."""
    from policyqa.index.embeddings import DEFAULT_ALIASES, DEFAULT_MODEL

    m = settings.embedding_model.strip()
    return DEFAULT_MODEL if m.lower() in DEFAULT_ALIASES else m
