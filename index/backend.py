"""The index backends behind one interface, chosen by one setting.

Two implementations:

* ``"inprocess"`` (default) - :class:`policyqa.index.store.IndexStore`: FAISS +
  bm25s in this process, persisted to a directory.  Fastest on one machine.
* ``"milvus"`` - :class:`policyqa.index.milvus_store.MilvusStore`: one Milvus
  collection per knowledge base (Milvus Lite ``.db`` file or a server/cluster
  URI), BM25 with jieba and dense search inside the engine.

What the answer stage sees is :class:`SearchBackend` (a retriever): ``search``
/ ``batch_search`` returning :class:`Hit` lists, the ``docs`` map, and two
chunk look-ups (``get_chunks`` by id, ``chunks_of`` a document) - never the
whole chunk table, which a Milvus deployment cannot hold in memory.

What the service and CLI see is :class:`IndexBackend`: ``add`` / ``remove`` /
``save`` / ``retriever(config)`` plus ``docs``, ``manifest``, ``tokenizer``,
``embedder`` and ``n_chunks``.  :func:`load_backend` and :func:`build_backend`
open or build either one from :class:`policyqa.settings.Settings`-like
arguments; :func:`migrate` copies an index (chunks, metadata *and* vectors, so
nothing is re-embedded) from one backend into another.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

from policyqa.corpus.types import Chunk, DocMeta, Document
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.types import Filters, Hit

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "SearchBackend",
    "IndexBackend",
    "check_backend",
    "load_backend",
    "build_backend",
    "migrate",
]

BACKENDS = ("inprocess", "milvus")
DEFAULT_BACKEND = "inprocess"


@runtime_checkable
class SearchBackend(Protocol):
    """What the answerer may use: hits, document metadata and chunk look-ups.

    ``search(q, k, filters)`` is ``batch_search([q], k, filters)[0]``; hits
    carry chunk ids (never row numbers) and full :class:`Chunk` objects, so
    citations work the same on every backend.
    """

    docs: Mapping[str, DocMeta]

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]: ...

    def batch_search(self, queries: Sequence[str], k: int = 10, filters: Filters | None = None) -> list[list[Hit]]: ...

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids that exist (missing ids are left out)."""
        ...

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """Every chunk of one document, in document order (by ``start``)."""
        ...


@runtime_checkable
class IndexBackend(Protocol):
    """A persisted index that can be changed document by document.

    ``add`` inserts only the given documents' rows (replacing a document id
    already present) and ``remove`` deletes one document's rows; neither
    rewrites the whole index.  ``save`` makes the changes durable (the
    in-process store writes files; Milvus writes are durable on return and
    ``save`` records the manifest).
    """

    @property
    def docs(self) -> Mapping[str, DocMeta]: ...

    @property
    def manifest(self) -> dict[str, Any]: ...

    @property
    def n_chunks(self) -> int: ...

    def add(self, docs: Sequence[Document], chunks: Sequence[Chunk], progress: bool = False) -> int: ...

    def remove(self, doc_id: str) -> int: ...

    def save(self) -> None: ...

    def retriever(self, config: RetrievalConfig | None = None) -> SearchBackend: ...


def check_backend(name: str) -> str:
    """The canonical backend name; a one-line error naming the choices otherwise."""
    n = (name or DEFAULT_BACKEND).strip().lower()
    aliases = {"faiss": "inprocess", "local": "inprocess", "in-process": "inprocess", "milvus-lite": "milvus"}
    n = aliases.get(n, n)
    if n not in BACKENDS:
        raise ValueError(f"unknown index backend {name!r}; choose one of {', '.join(BACKENDS)} (setting POLICYQA_BACKEND)")
    return n


def load_backend(
    backend: str,
    *,
    index_dir=None,
    milvus=None,
    embedder=None,
    tokenizer=None,
    model: str | None = None,
    embedding_backend: str | None = None,
    chunker_settings: Mapping[str, Any] | None = None,
) -> IndexBackend:
    """Open an existing index of ``backend``; raises IndexNotFound/IndexCorrupt/IndexMismatch.

    ``index_dir`` is the in-process store's directory; ``milvus`` a
    :class:`policyqa.index.milvus_store.MilvusConfig`.
    """
    backend = check_backend(backend)
    if backend == "milvus":
        from policyqa.index.milvus_store import MilvusStore

        return MilvusStore.load(milvus, embedder, tokenizer=tokenizer, model=model, backend=embedding_backend,
                                chunker_settings=chunker_settings)
    from policyqa.index.store import IndexStore

    return IndexStore.load(index_dir, embedder, tokenizer=tokenizer, model=model, backend=embedding_backend,
                           chunker_settings=chunker_settings)


def build_backend(
    backend: str,
    docs: Sequence[Document],
    chunks: Sequence[Chunk],
    embedder,
    tokenizer,
    *,
    index_dir=None,
    milvus=None,
    chunker_settings: Mapping[str, Any],
    retrieval: RetrievalConfig = RetrievalConfig(),
    progress: bool = True,
) -> IndexBackend:
    """Embed and index ``chunks`` into a new index of ``backend`` (replacing one that exists)."""
    backend = check_backend(backend)
    if backend == "milvus":
        from policyqa.index.milvus_store import MilvusStore

        return MilvusStore.build(docs, chunks, embedder, tokenizer, milvus, chunker_settings=chunker_settings,
                                 retrieval=retrieval, progress=progress)
    from policyqa.index.store import IndexStore

    return IndexStore.build(docs, chunks, embedder, tokenizer, index_dir, chunker_settings=chunker_settings,
                            retrieval=retrieval, progress=progress)


def migrate(source, to: str, *, index_dir=None, milvus=None, progress: Callable[[str], None] | None = None) -> IndexBackend:
    """Copy ``source`` (an :class:`IndexStore`) into a new index of backend ``to``.

    Chunks, document metadata, content hashes and the stored vectors are
    copied, so nothing is re-embedded; the manifest's embedding model,
    chunker, tokenizer and retrieval settings carry over.
    """
    to = check_backend(to)
    if to != "milvus":
        raise ValueError("migrate copies an in-process index into Milvus; use 'policyqa build' for the other way")
    from policyqa.index.milvus_store import MilvusStore

    return MilvusStore.from_store(source, milvus, progress=progress)
