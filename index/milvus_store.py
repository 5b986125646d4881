"""The knowledge base in Milvus: Milvus Lite (a ``.db`` path) or a server/cluster URI.

One knowledge base is three collections named after ``MilvusConfig.collection``
(``C``); every one has ``doc_id``, so removing a document is one delete by
filter per collection:

``C`` (chunks)
    ``chunk_id`` (primary key), ``doc_id``, the document-level filter fields
    of :func:`doc_fields` (``jurisdiction``, ``jurisdiction_chain``,
    ``national``, ``doc_type``, ``date_year``, ``period_lo``, ``period_hi``,
    ``valid_to``), ``search_text`` (the indexed text as the policy tokenizer's
    tokens, analysed by jieba with the policy dictionary: :func:`search_text`)
    feeding a BM25 function into ``sparse``, the L2-normalised ``dense`` vector, and ``chunk`` (the
    whole :class:`Chunk` as JSON: section, header, spans, interview question,
    responsible units) so citations read back exactly what was indexed.
``C_docs``
    one row per document: ``doc_id``, ``meta`` (DocMeta JSON), ``sha256`` of
    its cleaned text, ``seq`` (insertion order) and the same filter fields.
``C_meta``
    ``key`` -> JSON; ``manifest`` holds the embedding model/backend/dim,
    chunker, tokenizer, analyzer, retrieval and dense-index settings.

Milvus requires a vector field in every collection; ``C_docs`` and ``C_meta``
carry a 2-d placeholder ``_v``.  Policy items live in ``C_items``
(:mod:`policyqa.index.milvus_items`, optional: created and filled on the
first load of an index written without it).  A later per-chunk side table (sentence
vectors for answer selection, policy items for matching) is one more
collection ``C_<suffix>``: a name in :meth:`MilvusConfig.names`, its schema in
``_create_collections`` (``chunk_id`` + ``doc_id`` + its own vector field and
payload), its rows written in ``add``/``_create_and_fill``, and its key in
``DOC_KEYED`` so that ``remove`` deletes its rows by ``doc_id`` with the rest.

Searching: BM25 and dense candidates come from Milvus (filters translated to
a Milvus expression by :func:`filter_expression`, applied inside the engine
before ranking) and are fused by :func:`policyqa.index.hybrid.fuse`, the same
code the in-process store uses, so both backends rank alike and every hit
keeps each retriever's score (the answerer's relevance gate reads the dense
similarity).  ``engine_fusion=True`` instead fuses inside Milvus with
``hybrid_search`` + ``RRFRanker`` (equal-weight RRF only: Milvus's RRF has no
list weights); the dense similarity of each hit is then recomputed from its
stored vector.

Pitfalls met with Milvus Lite 3.2 + pymilvus 2.6 and handled here: Lite
rejects filter templates (``{name}`` + ``filter_params``), so literals are
escaped by :func:`literal`; chained ranges are written ``a >= x and a <= y``;
BM25 distances come back negative from Lite (scores are taken as absolute
values, ranks do not care); a reopened collection is ``load_collection``-ed.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from policyqa import __version__
from policyqa.corpus.clean import normalize_query
from policyqa.corpus.types import Chunk, DocMeta, Document
from policyqa.index.dense import l2_normalize
from policyqa.corpus.jurisdiction import region_matches
from policyqa.corpus.versions import linked
from policyqa.index.hybrid import RetrievalConfig, _doc_years, fuse
from policyqa.index.store import (
    FORMAT,
    EmbedderLike,
    IndexCorrupt,
    IndexMismatch,
    IndexNotFound,
    IndexStore,
    IndexStoreError,
    _diff_settings,
    _sha256_text,
    _tokenizer_settings,
    corpus_fingerprint,
    first_use_embedder,
)
from policyqa.corpus.items import ItemCatalog
from policyqa.index.items import SyncReport, sync_items
from policyqa.index.milvus_items import SUFFIX as ITEMS_SUFFIX
from policyqa.index.milvus_items import MilvusItems
from policyqa.index.types import Embedder, Filters, Hit

__all__ = [
    "MilvusConfig",
    "MilvusStore",
    "MilvusRetriever",
    "IndexUnavailable",
    "doc_fields",
    "filter_expression",
    "literal",
    "analyzer_params",
    "search_text",
    "rebuild_command",
]

BATCH = 256  # rows per insert/upsert request
DOC_KEYED = ("chunks", "docs")  # collections whose rows belong to one document (deleted by doc_id on remove)
MAX_TEXT = 65_535  # Milvus VARCHAR limit (bytes)
PLACEHOLDER = [0.0, 0.0]  # the 2-d vector every non-chunk collection must have
PUNCTUATION_STOPS = tuple("，。、；：？！“”‘’（）《》【】〔〕—…·,.;:?!\"'()[]<>{}-_/\\|%#@&*+=~`^")

log = logging.getLogger(__name__)


class IndexUnavailable(IndexStoreError):
    """Milvus could not be reached or refused a request; ``str(e)`` is one line."""


def rebuild_command(config: "MilvusConfig | None" = None) -> str:
    return "policyqa build --backend milvus"


# --- configuration -------------------------------------------------------------------


@dataclass(frozen=True)
class MilvusConfig:
    """Where the knowledge base lives in Milvus.

    Attributes:
        uri: a ``.db`` path for Milvus Lite (embedded, for tests and one
            machine up to ~10k chunks) or a server/cluster URI
            (``http://host:19530``); nothing else changes between the two.
        token: ``user:password`` or an API key for a secured server.
        collection: collection name prefix of this knowledge base.
        dense_index: ``"auto"`` (exact ``FLAT`` on Milvus Lite, ``HNSW`` on a
            server), ``"FLAT"``, ``"HNSW"``, ``"IVF_SQ8"`` or any Milvus index type.
        hnsw_m, ef_construction, ef_search: HNSW parameters (as the in-process
            store's HNSW: M=32, efSearch=256).
        timeout: seconds per request.
    """

    uri: str
    token: str = ""
    collection: str = "policyqa"
    dense_index: str = "auto"
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 256
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if not str(self.uri or "").strip():
            raise ValueError("Milvus URI is empty; set POLICYQA_MILVUS_URI to a .db path or http://host:19530")
        object.__setattr__(self, "uri", str(self.uri).strip())
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", self.collection or ""):
            raise ValueError(f"invalid Milvus collection name {self.collection!r}: letters, digits and _ only, "
                             "not starting with a digit (setting POLICYQA_MILVUS_COLLECTION)")

    @property
    def is_lite(self) -> bool:
        """True for an embedded Milvus Lite database (a local path, not a URL)."""
        return not re.match(r"^[a-z][a-z0-9+.-]*://", self.uri, re.I)

    @property
    def label(self) -> str:
        """Where the index is, for messages (never includes the token)."""
        return f"{self.uri} (collection {self.collection})"

    def resolved_dense_index(self) -> str:
        if self.dense_index.lower() != "auto":
            return self.dense_index.upper()
        return "FLAT" if self.is_lite else "HNSW"

    def names(self) -> dict[str, str]:
        c = self.collection
        return {"chunks": c, "docs": f"{c}_docs", "meta": f"{c}_meta"}


# --- document-level filter fields and their expressions -----------------------------


def doc_fields(meta: DocMeta) -> dict[str, Any]:
    """The document-level fields stored on every row of a document, for filters.

    ``jurisdiction`` is the area the rules apply to (全国 for national
    documents) and ``jurisdiction_chain`` its ancestors (省, 省市, 省市区),
    ``national`` the issuer level; years as integers (0 = unknown):
    ``date_year``, the policy period ``period_lo``..``period_hi`` and
    ``valid_to`` (yyyymmdd of the stated validity end).
    """
    chain = [meta.province, meta.province + meta.city, meta.province + meta.city + meta.district]
    chain = list(dict.fromkeys(c for c in chain if c))
    spans = _doc_years(meta)
    m = re.match(r"(\d{4})", meta.date or "")
    date_year = int(m.group(1)) if m else 0
    period = spans[1:] if date_year else spans
    lo, hi = (int(period[0][0]), int(period[0][1])) if period else (0, 0)
    v = re.match(r"(\d{4})-(\d{2})-(\d{2})", meta.valid_to or "")
    return {
        "jurisdiction": (meta.jurisdiction or meta.region or "")[:500],
        "jurisdiction_chain": chain,
        "national": meta.issuer_level == "national" or meta.jurisdiction == "全国",
        "doc_type": meta.doc_type or "",
        "date_year": date_year,
        "period_lo": lo,
        "period_hi": hi,
        "valid_to": int("".join(v.groups())) if v else 0,
    }


def literal(value: str) -> str:
    """A Milvus string literal: double-quoted, backslash and quote escaped."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"value {value[:40]!r} contains a line break or NUL")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def filter_expression(filters: Filters | None, docs: Mapping[str, DocMeta] | None = None) -> str:
    """The Milvus boolean expression selecting exactly the documents
    :func:`policyqa.index.hybrid.doc_matches` selects ("" = no filter).

    The one place where :class:`Filters` are translated for Milvus.  Types and
    years are tested on the rows' fields inside Milvus.  A region is decided by
    the one region matcher, :func:`policyqa.corpus.jurisdiction.region_matches`
    (national documents, the region's own and its ancestors' documents, the
    documents of its parts, ambiguous names, parks), run over ``docs`` (doc
    id -> metadata, held in memory) and sent as the list of matching document
    ids.  ``tests/test_backends.py`` checks the equivalence on randomised
    metadata, so a change of ``doc_matches`` shows up there.
    """
    if filters is None or filters.is_empty():
        return ""
    parts = []
    ids = set(filters.doc_ids) if filters.doc_ids else None
    if filters.region:
        if docs is None:
            raise ValueError("a region filter needs the document metadata (docs=)")
        region = filters.region.strip()
        matching = {d for d, meta in docs.items() if region_matches(meta, region)}
        ids = matching if ids is None else ids & matching
    if ids is not None:
        parts.append(f"doc_id in {_list(sorted(ids))}")
    if filters.doc_types:
        parts.append(f"doc_type in {_list(filters.doc_types)}")
    if filters.years:
        lo, hi = sorted(int(y) for y in filters.years)
        parts.append(
            f"((date_year > 0 and date_year >= {lo} and date_year <= {hi}) or "
            f"(period_hi > 0 and period_lo <= {hi} and period_hi >= {lo}))"
        )
    return " and ".join(parts)


def analyzer_params(tokenizer) -> dict[str, Any]:
    """The Milvus analyzer of the BM25 field: jieba in exact mode with the policy dictionary.

    What Milvus analyses is :func:`search_text`: the in-process tokenizer's
    tokens joined by spaces (documents at insert, questions at search).
    jieba in exact mode, with the same user dictionary, cuts each such token
    back to itself, so BM25 in Milvus sees the same terms as the in-process
    BM25 (policy words, their sub-words of every length, stopwords and
    punctuation dropped) and the answerer's tokenizer stays the BM25 one.
    (jieba's own search mode directly on the text was measured too: it emits
    only 2- and 3-character sub-words, and it cost 0.011 MRR@10 on the team
    set; README "Scaling out".)  The stop filter and ``removepunct`` only
    matter for raw text sent by other clients; Milvus Lite ignores
    ``removepunct``, hence punctuation in the stop list.  Milvus Lite's
    analyzer adds the dictionary words to the global ``jieba`` of its process
    (policyqa's tokenizer uses a private instance).
    """
    words: list[str] = []
    stops: set[str] = set(PUNCTUATION_STOPS)
    userdict = getattr(tokenizer, "userdict", None)
    if userdict is not None and Path(userdict).is_file():
        for line in Path(userdict).read_text(encoding="utf-8").splitlines():
            w = line.split()[0] if line.split() else ""
            if w and not w.startswith("#"):
                words.append(w)
    stopwords = getattr(tokenizer, "stopwords", None)
    if stopwords:
        stops |= set(stopwords)
    return {
        "tokenizer": {"type": "jieba", "dict": ["_default_", *dict.fromkeys(words)], "mode": "exact",
                      "hmm": bool(getattr(tokenizer, "hmm", True))},
        "filter": ["removepunct", "lowercase", {"type": "stop", "stop_words": sorted(stops)}],
    }


def search_text(tokenizer, text: str) -> str:
    """What the BM25 field holds for ``text`` (and what a question is searched with):
    the tokenizer's tokens joined by spaces (``" "`` when there are none)."""
    return " ".join(tokenizer.tokenize(text)) or " "


def _utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _one_line(e: BaseException) -> str:
    msg = getattr(e, "message", None) or str(e)
    text = str(msg).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:240]


# --- the store ------------------------------------------------------------------------


class MilvusStore:
    """A knowledge base in Milvus with the same verbs as :class:`IndexStore`.

    Create with :meth:`build`, :meth:`from_store` (migration, no re-embedding)
    or :meth:`load`; change with :meth:`add` / :meth:`remove` (written to
    Milvus immediately, only the affected rows); :meth:`save` records the
    manifest.  ``docs`` (doc id -> DocMeta) is held in memory; chunks are not:
    read them with :meth:`get_chunks` / :meth:`chunks_of` or through hits.
    Thread-safe: searches may run while a document is added or removed; a
    removed document's hits are dropped from the moment :meth:`remove` starts.
    """

    def __init__(self, config: MilvusConfig, client, docs: dict[str, DocMeta], hashes: dict[str, str],
                 manifest: dict[str, Any], embedder: EmbedderLike, tokenizer, n_chunks: int, next_seq: int) -> None:
        self.config = config
        self.client = client
        self._docs = docs
        self._hashes = hashes
        self._manifest = manifest
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self.tokenizer = tokenizer
        self._n_chunks = n_chunks
        self._next_seq = next_seq
        self.names = config.names()
        self._items = None  # MilvusItems: policy items in the side collection C_items (index/milvus_items.py)
        self.items_report = SyncReport()  # what the last build/load/add derived

    # --- connection -------------------------------------------------------------------

    @staticmethod
    def connect(config: MilvusConfig):
        """A ``MilvusClient`` for ``config``; :class:`IndexUnavailable` with one line if it fails."""
        import jieba  # noqa: F401 - imported first: jieba sets its logger to DEBUG on import

        logging.getLogger("jieba").setLevel(logging.WARNING)  # Milvus Lite's analyzer initialises jieba
        try:
            from pymilvus import MilvusClient
        except ImportError:  # pragma: no cover - declared dependency
            raise IndexUnavailable("the Milvus backend needs pymilvus and milvus-lite: pip install 'pymilvus>=2.6,<2.7' milvus-lite") from None
        if config.is_lite:
            Path(config.uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            # Milvus Lite's in-process gRPC server logs a traceback for the one call it does not
            # implement (AllocTimestamp, which pymilvus tries while waiting for an index and then
            # does without); errors still reach the client as exceptions.
            logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        try:
            uri = str(Path(config.uri).expanduser()) if config.is_lite else config.uri
            return MilvusClient(uri=uri, token=config.token, timeout=config.timeout)
        except Exception as e:
            raise IndexUnavailable(f"cannot open Milvus at {config.label}: {_one_line(e)}") from None

    def _call(self, what: str, fn: Callable, *args, **kw):
        try:
            return fn(*args, **kw)
        except IndexStoreError:
            raise
        except Exception as e:
            raise IndexUnavailable(f"Milvus {what} failed at {self.config.label}: {_one_line(e)}") from None

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # pragma: no cover - closing is best effort
            pass

    # --- views ---------------------------------------------------------------------

    @property
    def path(self) -> str:
        return self.config.label

    @property
    def docs(self) -> Mapping[str, DocMeta]:
        return MappingProxyType(self._docs)

    @property
    def n_chunks(self) -> int:
        return self._n_chunks

    @property
    def chunks(self) -> Mapping[str, Chunk]:
        """A read-only view that fetches chunks from Milvus on access (not for hot loops)."""
        return _ChunkView(self)

    @property
    def manifest(self) -> dict[str, Any]:
        m = json.loads(json.dumps(self._manifest))
        m["document_sha256"] = {d: self._hashes[d] for d in self._docs if d in self._hashes}
        m["documents"] = list(self._docs)
        m["corpus_fingerprint"] = corpus_fingerprint(m["document_sha256"])
        m["n_chunks"] = self._n_chunks
        return m

    @property
    def items(self) -> ItemCatalog | None:
        """The policy items of every document (an :class:`ItemCatalog` snapshot), kept in ``C_items``."""
        return self._items.catalog() if self._items is not None else None

    def save_items(self) -> None:
        """Nothing to do: item rows are written to Milvus when they are derived."""

    @property
    def retrieval_config(self) -> RetrievalConfig:
        return RetrievalConfig.from_dict(self._manifest.get("retrieval") or {})

    def __repr__(self) -> str:
        return f"MilvusStore({self.config.label!r}, {len(self._docs)} docs, {self._n_chunks} chunks)"

    @property
    def embedder(self) -> Embedder:
        """The embedder, created on first use when a factory was given."""
        return first_use_embedder(
            self, lambda emb: IndexStore._check_embedding(self.config.label, self._manifest, emb.name, emb.backend, emb.dim,
                                                          command=rebuild_command()),
            "this index was opened without an embedder; pass embedder= to MilvusStore.load")

    # --- schema ----------------------------------------------------------------------

    def _doc_schema_fields(self, schema) -> None:
        from pymilvus import DataType

        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("jurisdiction", DataType.VARCHAR, max_length=1536)
        schema.add_field("jurisdiction_chain", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=16, max_length=512)
        schema.add_field("national", DataType.BOOL)
        schema.add_field("doc_type", DataType.VARCHAR, max_length=128)
        for name in ("date_year", "period_lo", "period_hi", "valid_to"):
            schema.add_field(name, DataType.INT64)

    def _create_collections(self, dim: int, analyzer: Mapping[str, Any], names: Mapping[str, str]) -> None:
        from pymilvus import DataType, Function, FunctionType

        c = self.client
        # chunks
        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=1024)
        self._doc_schema_fields(s)
        s.add_field("search_text", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True, analyzer_params=dict(analyzer))
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=int(dim))
        s.add_field("chunk", DataType.JSON)
        s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["search_text"],
                                output_field_names=["sparse"]))
        ip = c.prepare_index_params()
        kind = self.config.resolved_dense_index()
        params = {"M": self.config.hnsw_m, "efConstruction": self.config.ef_construction} if kind == "HNSW" else {}
        ip.add_index("dense", index_type=kind, metric_type="IP", params=params)
        ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": 1.5, "bm25_b": 0.75})  # = the in-process BM25 (bm25s, Lucene variant)
        self._make_collection(names["chunks"], s, ip)
        # documents
        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("doc_pk", DataType.VARCHAR, is_primary=True, max_length=1024)
        self._doc_schema_fields(s)
        s.add_field("seq", DataType.INT64)
        s.add_field("sha256", DataType.VARCHAR, max_length=64)
        s.add_field("meta", DataType.JSON)
        s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
        ip = c.prepare_index_params()
        ip.add_index("_v", index_type="FLAT", metric_type="L2")
        self._make_collection(names["docs"], s, ip)
        # manifest and other key -> JSON records
        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("key", DataType.VARCHAR, is_primary=True, max_length=256)
        s.add_field("value", DataType.JSON)
        s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
        ip = c.prepare_index_params()
        ip.add_index("_v", index_type="FLAT", metric_type="L2")
        self._make_collection(names["meta"], s, ip)

    def _make_collection(self, name: str, schema, index_params) -> None:
        """Create a collection and its indexes without pymilvus's polling wait (sleeps of 0.5 s);
        ``load_collection`` afterwards waits until the indexes are ready."""
        self.client.create_collection(name, schema=schema, consistency_level="Strong")
        self.client.create_index(name, index_params, sync=False)
        self.client.load_collection(name)

    # --- rows --------------------------------------------------------------------------

    def _chunk_row(self, chunk: Chunk, fields: Mapping[str, Any], vector: np.ndarray) -> dict[str, Any]:
        text = search_text(self.tokenizer, chunk.indexed_text())
        if len(text.encode("utf-8")) > MAX_TEXT:
            raise ValueError(f"chunk {chunk.chunk_id!r} is too long for Milvus ({len(text)} characters)")
        return {"chunk_id": chunk.chunk_id, "doc_id": chunk.doc_id, **fields, "search_text": text,
                "dense": [float(x) for x in vector], "chunk": chunk.to_dict()}

    def _doc_row(self, meta: DocMeta, sha: str, seq: int) -> dict[str, Any]:
        return {"doc_pk": meta.doc_id, "doc_id": meta.doc_id, **doc_fields(meta), "seq": seq, "sha256": sha,
                "meta": meta.to_dict(), "_v": PLACEHOLDER}

    def _write(self, op: str, collection: str, rows: Sequence[dict], progress: Callable[[str], None] | None = None) -> None:
        fn = getattr(self.client, op)
        for i in range(0, len(rows), BATCH):
            self._call(op, fn, collection, list(rows[i : i + BATCH]))
            if progress and (i // BATCH) % 40 == 39:
                progress(f"{min(i + BATCH, len(rows))}/{len(rows)} rows written")

    def _write_manifest(self) -> None:
        stored = {k: v for k, v in self._manifest.items() if k not in ("documents", "document_sha256")}
        stored["n_chunks"] = self._n_chunks
        stored["next_seq"] = self._next_seq
        self._call("manifest write", self.client.upsert, self.names["meta"],
                   [{"key": "manifest", "value": stored, "_v": PLACEHOLDER}])

    # --- build / migrate ---------------------------------------------------------------

    @classmethod
    def _fresh(cls, config: MilvusConfig, embedder: EmbedderLike, tokenizer, manifest: dict[str, Any]) -> "MilvusStore":
        client = cls.connect(config)
        return cls(config, client, {}, {}, manifest, embedder, tokenizer, 0, 1)

    def _create_and_fill(self, docs: Sequence[DocMeta], hashes: Mapping[str, str], chunks: Sequence[Chunk],
                         vectors: np.ndarray, progress: Callable[[str], None] | None) -> None:
        """Write everything into new collections under temporary names, then swap them in.

        An existing knowledge base under the same name stays searchable until
        the new one is complete; a failed build drops only the temporary collections.
        """
        final = self.config.names()
        tmp = {k: f"{v}__build" for k, v in final.items()}
        c = self.client
        for name in tmp.values():
            if self._call("has_collection", c.has_collection, name):
                self._call("drop_collection", c.drop_collection, name)
        self.names = tmp
        try:
            self._call("create_collection", self._create_collections, int(self._manifest["embedding"]["dim"]),
                       self._manifest["analyzer"], tmp)
            fields = {m.doc_id: doc_fields(m) for m in docs}
            rows = [self._chunk_row(ch, fields[ch.doc_id], v) for ch, v in zip(chunks, vectors)]
            self._write("insert", tmp["chunks"], rows, progress)
            self._write("insert", tmp["docs"], [self._doc_row(m, hashes.get(m.doc_id, ""), i + 1) for i, m in enumerate(docs)])
            self._docs = {m.doc_id: m for m in docs}
            self._hashes = dict(hashes)
            self._n_chunks = len(chunks)
            self._next_seq = len(docs) + 1
            self._write_manifest()  # last: marks the build complete
            for key in final:
                if self._call("has_collection", c.has_collection, final[key]):
                    self._call("drop_collection", c.drop_collection, final[key])
                self._call("rename_collection", c.rename_collection, tmp[key], final[key])
        except BaseException:
            for name in tmp.values():
                try:
                    if c.has_collection(name):
                        c.drop_collection(name)
                except Exception:  # pragma: no cover - cleanup is best effort
                    pass
            raise
        finally:
            self.names = final
        for name in final.values():
            self._call("load_collection", c.load_collection, name)
        by_doc: dict[str, list[Chunk]] = {}
        for ch in chunks:
            by_doc.setdefault(ch.doc_id, []).append(ch)
        self._items, _ = MilvusItems.open(self, fresh=True)
        self.items_report = sync_items(self._items, self._docs, lambda d: by_doc.get(d, []), self._hashes)

    @classmethod
    def build(
        cls,
        docs: Sequence[Document],
        chunks: Sequence[Chunk],
        embedder: Embedder,
        tokenizer,
        config: MilvusConfig,
        chunker_settings: Mapping[str, Any],
        retrieval: RetrievalConfig = RetrievalConfig(),
        progress: bool = True,
        vectors: np.ndarray | None = None,
    ) -> "MilvusStore":
        """Embed ``chunks`` (unless ``vectors`` are given) and write a new knowledge base to Milvus."""
        t0 = time.monotonic()
        IndexStore._validate(docs, chunks)
        vecs = IndexStore._embed(embedder, chunks, progress) if vectors is None else np.asarray(vectors, np.float32)
        if vecs.shape[0] != len(chunks):
            raise ValueError(f"{vecs.shape[0]} vectors for {len(chunks)} chunks")
        manifest = cls._new_manifest(embedder.name, embedder.backend, int(embedder.dim), chunker_settings, retrieval,
                                     tokenizer, config)
        store = cls._fresh(config, embedder, tokenizer, manifest)
        say = (lambda m: print(f"milvus: {m}", flush=True)) if progress else None
        store._create_and_fill(list(linked({d.doc_id: d.meta for d in docs}).values()),
                               {d.doc_id: _sha256_text(d.text) for d in docs}, chunks,
                               l2_normalize(vecs) if len(chunks) else vecs, say)
        store._manifest["build_seconds"] = round(time.monotonic() - t0, 3)
        store._write_manifest()
        return store

    @classmethod
    def from_store(cls, source: IndexStore, config: MilvusConfig, progress: Callable[[str], None] | None = None) -> "MilvusStore":
        """Copy an in-process index into Milvus: chunks, metadata, hashes and vectors (no re-embedding)."""
        t0 = time.monotonic()
        m = source.manifest
        emb = m.get("embedding") or {}
        manifest = cls._new_manifest(emb.get("model"), emb.get("backend"), int(emb.get("dim") or source.dense.dim),
                                     m.get("chunker") or {}, source.retrieval_config, source.tokenizer, config)
        manifest["migrated_from"] = {"path": str(source.path), "built_at": m.get("built_at", "")}
        store = cls._fresh(config, source._embedder, source.tokenizer, manifest)
        chunks = list(source.chunks.values())
        vectors = source.dense.vectors([c.chunk_id for c in chunks]) if chunks else np.zeros((0, manifest["embedding"]["dim"]), np.float32)
        store._create_and_fill(list(source.docs.values()), m.get("document_sha256") or {}, chunks, vectors, progress)
        store._manifest["build_seconds"] = round(time.monotonic() - t0, 3)
        store._write_manifest()
        return store

    @staticmethod
    def _new_manifest(model, backend, dim, chunker_settings, retrieval, tokenizer, config) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "backend": "milvus",
            "package_version": __version__,
            "embedding": {"model": model, "backend": backend, "dim": int(dim)},
            "chunker": dict(chunker_settings),
            "retrieval": retrieval.to_dict(),
            "tokenizer": _tokenizer_settings(tokenizer),
            "analyzer": analyzer_params(tokenizer),
            "dense": {"index_type": config.resolved_dense_index(), "metric": "IP"},
            "built_at": _utc_now(),
            "build_seconds": 0.0,
        }

    # --- load -------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        config: MilvusConfig,
        embedder: EmbedderLike = None,
        *,
        tokenizer=None,
        model: str | None = None,
        backend: str | None = None,
        chunker_settings: Mapping[str, Any] | None = None,
    ) -> "MilvusStore":
        """Open the knowledge base in Milvus and check it fits the configuration.

        Same arguments and errors as :meth:`IndexStore.load`: IndexNotFound,
        IndexCorrupt, IndexMismatch (with the rebuild command), plus
        :class:`IndexUnavailable` when Milvus cannot be reached.
        """
        hint = f"rebuild with: {rebuild_command(config)}"
        client = cls.connect(config)
        names = config.names()
        store = cls(config, client, {}, {}, {}, embedder, tokenizer, 0, 1)
        have = {n for n in names.values() if store._call("has_collection", client.has_collection, n)}
        if names["meta"] not in have:
            client.close()
            raise IndexNotFound(f"no index in Milvus at {config.label}; build one with: {rebuild_command(config)}")
        missing = [n for n in names.values() if n not in have]
        if missing:
            client.close()
            raise IndexCorrupt(f"index in Milvus at {config.label} is incomplete (missing collection {', '.join(missing)}); {hint}")
        for n in names.values():
            store._call("load_collection", client.load_collection, n)
        rows = store._call("query", client.query, names["meta"], filter='key == "manifest"', output_fields=["value"])
        manifest = rows[0]["value"] if rows else None
        if not isinstance(manifest, dict):
            client.close()
            raise IndexCorrupt(f"index in Milvus at {config.label} has no manifest (an interrupted build?); {hint}")
        if manifest.get("format") != FORMAT:
            client.close()
            raise IndexMismatch(f"index in Milvus at {config.label} has format {manifest.get('format')!r}, "
                                f"this version reads format {FORMAT}; {hint}")
        if isinstance(embedder, Embedder):
            IndexStore._check_embedding(config.label, manifest, embedder.name, embedder.backend, embedder.dim, command=rebuild_command())
        IndexStore._check_embedding(config.label, manifest, model, backend, None, command=rebuild_command())
        if chunker_settings is not None and dict(chunker_settings) != manifest.get("chunker"):
            client.close()
            raise IndexMismatch(f"index in Milvus at {config.label} was built with other chunker settings "
                                f"({_diff_settings(manifest.get('chunker') or {}, chunker_settings)}); {hint}")
        if tokenizer is None:
            from policyqa.index.tokenize import JiebaTokenizer

            tokenizer = JiebaTokenizer()
        store.tokenizer = tokenizer
        store._manifest = manifest
        try:
            docs, hashes, next_seq = store._read_docs()
        except (KeyError, TypeError, ValueError) as e:
            client.close()
            raise IndexCorrupt(f"index in Milvus at {config.label} has damaged document rows ({_one_line(e)}); {hint}") from None
        store._docs, store._hashes, store._next_seq = docs, hashes, next_seq
        store._n_chunks = store._count(names["chunks"], "")
        store._items, why = MilvusItems.open(store)
        store.items_report = sync_items(store._items, docs, store.chunks_of, hashes, reason=why)
        return store

    def _count(self, collection: str, expr: str) -> int:
        rows = self._call("count", self.client.query, collection, filter=expr, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def _read_docs(self, page: int = 4096) -> tuple[dict[str, DocMeta], dict[str, str], int]:
        """All document rows in insertion order, read in ``seq`` ranges (a query returns at most 16384 rows)."""
        bound = int(self._manifest.get("next_seq") or 1)
        fields = ["doc_id", "seq", "sha256", "meta"]
        rows: list[dict] = []
        top = 0
        while top < bound:
            rows.extend(self._call("query", self.client.query, self.names["docs"],
                                   filter=f"seq > {top} and seq <= {top + page}", output_fields=fields))
            top += page
        # rows written after the manifest last recorded next_seq (a writer stopped in between)
        rows.extend(self._call("query", self.client.query, self.names["docs"], filter=f"seq > {top}",
                               output_fields=fields, limit=16384))
        rows.sort(key=lambda r: int(r["seq"]))
        docs = {r["doc_id"]: DocMeta.from_dict(r["meta"]) for r in rows}
        hashes = {r["doc_id"]: r["sha256"] for r in rows if r.get("sha256")}
        return docs, hashes, max([int(r["seq"]) for r in rows] + [bound - 1]) + 1

    # --- chunk look-ups ---------------------------------------------------------------

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids that exist, read back from Milvus."""
        ids = list(dict.fromkeys(chunk_ids))
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 1000):
            rows = self._call("get", self.client.get, self.names["chunks"], ids=ids[i : i + 1000], output_fields=["chunk"])
            for r in rows:
                out[r["chunk_id"]] = Chunk.from_dict(r["chunk"])
        return out

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """Every chunk of one document, in document order (by ``start``)."""
        rows = self._call("query", self.client.query, self.names["chunks"], filter=f"doc_id == {literal(doc_id)}",
                          output_fields=["chunk"], limit=16384)
        return sorted((Chunk.from_dict(r["chunk"]) for r in rows), key=lambda c: (c.start, c.chunk_id))

    def vectors_of(self, doc_ids: Sequence[str]) -> dict[str, tuple[Chunk, np.ndarray]]:
        """chunk id -> (chunk, stored vector) for these documents (vector reuse on replace)."""
        if not doc_ids:
            return {}
        rows = self._call("query", self.client.query, self.names["chunks"], filter=f"doc_id in {_list(doc_ids)}",
                          output_fields=["chunk", "dense"], limit=16384)
        return {r["chunk_id"]: (Chunk.from_dict(r["chunk"]), np.asarray(r["dense"], np.float32)) for r in rows}

    # --- change -----------------------------------------------------------------------

    def add(self, docs: Sequence[Document], chunks: Sequence[Chunk], progress: bool = False) -> int:
        """Add or replace documents with their chunks; returns how many chunks were embedded.

        Writes only these documents' rows: new chunks are upserted (a chunk
        whose id and indexed text are unchanged keeps its stored vector), the
        replaced documents' other chunks are deleted by id, and the document
        rows are written last.
        """
        IndexStore._validate(docs, chunks)
        with self._write_lock:
            new_doc_ids = [d.doc_id for d in docs]
            existing = self.get_chunks([c.chunk_id for c in chunks])
            clash = [cid for cid, c in existing.items() if c.doc_id not in set(new_doc_ids)]
            if clash:
                raise ValueError(f"chunk id {clash[0]!r} already belongs to document {existing[clash[0]].doc_id!r}")
            old = self.vectors_of([d for d in new_doc_ids if d in self._docs])
            reuse = {cid: v for cid, (c, v) in old.items()}
            old_text = {cid: c.indexed_text() for cid, (c, _) in old.items()}
            to_embed = [c for c in chunks if old_text.get(c.chunk_id) != c.indexed_text()]
            vecs = IndexStore._embed(self.embedder, to_embed, progress) if to_embed else np.zeros((0, 1), np.float32)
            fresh = dict(zip((c.chunk_id for c in to_embed), l2_normalize(vecs) if to_embed else []))
            fields = {d.doc_id: doc_fields(d.meta) for d in docs}
            rows = [self._chunk_row(c, fields[c.doc_id], fresh[c.chunk_id] if c.chunk_id in fresh else reuse[c.chunk_id])
                    for c in chunks]
            self._write("upsert", self.names["chunks"], rows)
            stale = [cid for cid in old if cid not in {c.chunk_id for c in chunks}]
            if stale:
                self._call("delete", self.client.delete, self.names["chunks"], ids=stale)
            doc_rows = []
            for d in docs:
                seq = self._next_seq
                self._next_seq += 1
                doc_rows.append(self._doc_row(d.meta, _sha256_text(d.text), seq))
            self._write("upsert", self.names["docs"], doc_rows)
            new_docs = dict(self._docs)
            for d in docs:
                new_docs.pop(d.doc_id, None)
                new_docs[d.doc_id] = d.meta
            new_docs = linked(new_docs)  # version links derive from the whole set
            relinked = [m for k, m in new_docs.items() if k in self._docs and k not in set(new_doc_ids) and m != self._docs[k]]
            if relinked:
                self._rewrite_doc_rows(relinked)
            hashes = dict(self._hashes)
            hashes.update({d.doc_id: _sha256_text(d.text) for d in docs})
            self._n_chunks += len(chunks) - len(old)
            self._docs, self._hashes = new_docs, hashes  # swap: searches see the new documents from here on
            if self._items is not None:  # policy items: derived for the added documents only
                by_doc: dict[str, list[Chunk]] = {}
                for ch in chunks:
                    by_doc.setdefault(ch.doc_id, []).append(ch)
                self.items_report = sync_items(self._items, self._docs, lambda d: by_doc.get(d, []), hashes, only=new_doc_ids)
            self._manifest["updated_at"] = _utc_now()
            self._write_manifest()
            return len(to_embed)

    def remove(self, doc_id: str) -> int:
        """Remove a document: its chunks are deleted by filter; returns how many chunks went."""
        with self._write_lock:
            if doc_id not in self._docs:
                raise KeyError(f"document {doc_id!r} is not in the index at {self.config.label}")
            expr = f"doc_id == {literal(doc_id)}"
            n = self._count(self.names["chunks"], expr)
            new_docs = {k: m for k, m in self._docs.items() if k != doc_id}
            self._docs = new_docs  # swap first: from now on no search returns this document
            relinked_docs = linked(new_docs)  # version links derive from the whole set
            relinked = [m for k, m in relinked_docs.items() if m != new_docs[k]]
            for key in DOC_KEYED:
                self._call("delete", self.client.delete, self.names[key], filter=expr)
            if self._items is not None:
                self._items.delete(doc_id)
            hashes = dict(self._hashes)
            hashes.pop(doc_id, None)
            self._hashes = hashes
            if relinked:
                self._rewrite_doc_rows(relinked)
                self._docs = relinked_docs
            self._n_chunks -= n
            self._manifest["updated_at"] = _utc_now()
            self._write_manifest()
            return n

    def _rewrite_doc_rows(self, metas: Sequence[DocMeta]) -> None:
        """Upsert the document rows of ``metas`` (same seq and hash), e.g. after their version links changed."""
        rows = self._call("query", self.client.query, self.names["docs"], filter=f"doc_id in {_list([m.doc_id for m in metas])}",
                          output_fields=["doc_id", "seq", "sha256"])
        seq = {r["doc_id"]: (int(r["seq"]), r["sha256"]) for r in rows}
        self._write("upsert", self.names["docs"], [self._doc_row(m, seq[m.doc_id][1], seq[m.doc_id][0])
                                                    for m in metas if m.doc_id in seq])

    def save(self) -> None:
        """Record the manifest (row writes are already durable) and flush."""
        with self._write_lock:
            self._write_manifest()
            flush = getattr(self.client, "flush", None)
            if flush is not None:
                for name in self.names.values():
                    try:
                        flush(name)
                    except Exception as e:  # flushing is an optimisation; the writes are in the WAL
                        log.debug("flush %s failed: %s", name, e)

    def drop(self) -> None:
        """Delete this knowledge base's collections."""
        items = self.config.collection + ITEMS_SUFFIX  # the policy items' side collection
        if self._call("has_collection", self.client.has_collection, items):
            self._call("drop_collection", self.client.drop_collection, items)
        for name in self.names.values():
            if self._call("has_collection", self.client.has_collection, name):
                self._call("drop_collection", self.client.drop_collection, name)

    # --- retrieval --------------------------------------------------------------------

    def retriever(self, config: RetrievalConfig | None = None, engine_fusion: bool = False) -> "MilvusRetriever":
        """A :class:`MilvusRetriever` (``config`` defaults to the manifest's)."""
        config = config or self.retrieval_config
        if config.mode in ("dense", "hybrid") and self._embedder is None:
            raise ValueError(f"retrieval mode {config.mode!r} needs an embedder; pass embedder= to MilvusStore.load "
                             "or use mode 'bm25'")
        return MilvusRetriever(self, config, engine_fusion=engine_fusion)


class _ChunkView(Mapping):
    """chunk id -> Chunk, read from Milvus on access."""

    def __init__(self, store: MilvusStore) -> None:
        self._store = store

    def __getitem__(self, key: str) -> Chunk:
        got = self._store.get_chunks([key])
        if key not in got:
            raise KeyError(key)
        return got[key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(self._store.get_chunks([key]))

    def __len__(self) -> int:
        return self._store.n_chunks

    def __iter__(self) -> Iterator[str]:
        for doc_id in list(self._store.docs):
            for c in self._store.chunks_of(doc_id):
                yield c.chunk_id

    def values(self):  # one query per document instead of one per chunk
        for doc_id in list(self._store.docs):
            yield from self._store.chunks_of(doc_id)


class MilvusRetriever:
    """``search``/``batch_search`` over a :class:`MilvusStore` (the answerer's view).

    BM25 and dense candidate lists (``config.candidates`` each) come from
    Milvus with the filter expression applied inside the engine; fusion is
    :func:`policyqa.index.hybrid.fuse`.  With ``engine_fusion`` the RRF runs
    inside Milvus (``hybrid_search``); only equal-weight RRF can.
    """

    def __init__(self, store: MilvusStore, config: RetrievalConfig, engine_fusion: bool = False) -> None:
        if engine_fusion and not (config.mode == "hybrid" and config.fusion == "rrf"
                                  and len(set(config.fusion_weights())) == 1):
            raise ValueError("engine fusion is Milvus's RRFRanker: hybrid mode, RRF, equal weights only")
        self.store = store
        self.config = config
        self.engine_fusion = engine_fusion

    @property
    def docs(self) -> Mapping[str, DocMeta]:
        return self.store.docs

    @property
    def chunks(self) -> Mapping[str, Chunk]:
        return self.store.chunks

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        return self.store.get_chunks(chunk_ids)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return self.store.chunks_of(doc_id) if doc_id in self.store.docs else []

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        return self.batch_search([query], k, filters)[0]

    def _ann(self, data, field: str, limit: int, expr: str, metric: str) -> list[list[tuple[str, str, float]]]:
        params: dict[str, Any] = {"metric_type": metric, "params": {}}
        if field == "dense" and self.store.config.resolved_dense_index() == "HNSW":
            params["params"] = {"ef": max(self.store.config.ef_search, limit)}
        res = self.store._call("search", self.store.client.search, self.store.names["chunks"], data=data,
                               anns_field=field, limit=limit, filter=expr, output_fields=["doc_id"], search_params=params)
        out = []
        for hits in res:
            out.append([(h["id"] if "id" in h else h["chunk_id"], h["entity"]["doc_id"], abs(float(h["distance"])))
                        for h in hits])
        return out

    def batch_search(self, queries: Sequence[str], k: int = 10, filters: Filters | None = None) -> list[list[Hit]]:
        """Top ``k`` hits per query (rank 1 = best); blank queries give no hits."""
        if isinstance(queries, str):
            raise TypeError("batch_search takes a list of queries; use search(q) for one")
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        results: list[list[Hit]] = [[] for _ in queries]
        live = [i for i, q in enumerate(queries) if q and q.strip()]
        if not live or k == 0:
            return results
        docs = self.store.docs  # one snapshot for the whole call
        if filters is not None and not filters.is_empty() and filters.doc_ids and not any(d in docs for d in filters.doc_ids):
            return results
        if filters is not None and filters.region and not any(region_matches(m, filters.region.strip()) for m in docs.values()):
            return results
        cfg = self.config
        expr = filter_expression(filters, docs)
        # like the in-process store: with a filter, every matching candidate up to filter_candidates
        # per list enters the fusion (Milvus filters before ranking; the pool only bounds the lists)
        pool = max(cfg.candidates if not expr else min(cfg.filter_candidates, max(self.store.n_chunks, 1)), k)
        texts = [normalize_query(queries[i]) for i in live]
        if self.engine_fusion:
            fused_lists = self._engine_fused(texts, pool, k, expr, docs)
        else:
            use_sparse = cfg.mode in ("bm25", "hybrid")
            use_dense = cfg.mode in ("dense", "hybrid")
            sparse = (self._ann([search_text(self.store.tokenizer, t) for t in texts], "sparse", pool, expr, "BM25")
                      if use_sparse else [[] for _ in texts])
            dense = []
            if use_dense:
                qvecs = l2_normalize(self.store.embedder.encode_queries(texts))
                dense = self._ann([[float(x) for x in v] for v in qvecs], "dense", pool, expr, "IP")
            else:
                dense = [[] for _ in texts]

            def keep(lst) -> list[tuple[str, float]]:
                # drop rows of documents not (or no longer) in the knowledge base; ties by chunk id
                return sorted(((cid, s) for cid, d, s in lst if d in docs), key=lambda p: (-p[1], p[0]))

            fused_lists = [fuse(cfg, keep(sp), keep(de), k) for sp, de in zip(sparse, dense)]
        wanted = [row[0] for fused in fused_lists for row in fused]
        chunks = self.store.get_chunks(wanted)
        for qi, fused in zip(live, fused_lists):
            results[qi] = [Hit(chunk=chunks[cid], score=score, rank=rank, dense_score=ds, dense_rank=dr,
                               sparse_score=ss, sparse_rank=sr)
                           for cid, score, rank, ss, sr, ds, dr in fused
                           if cid in chunks and chunks[cid].doc_id in docs]
            for i, h in enumerate(results[qi], 1):
                if h.rank != i:
                    results[qi][i - 1] = replace(h, rank=i)
        return results

    def _engine_fused(self, texts: Sequence[str], pool: int, k: int, expr: str, docs) -> list[list[tuple]]:
        from pymilvus import AnnSearchRequest, RRFRanker

        qvecs = l2_normalize(self.store.embedder.encode_queries(texts))
        dense_params: dict[str, Any] = {}
        if self.store.config.resolved_dense_index() == "HNSW":
            dense_params = {"ef": max(self.store.config.ef_search, pool)}
        out = []
        for text, qv in zip(texts, qvecs):
            reqs = [
                AnnSearchRequest(data=[search_text(self.store.tokenizer, text)], anns_field="sparse", param={"metric_type": "BM25", "params": {}},
                                 limit=pool, expr=expr or None),
                AnnSearchRequest(data=[[float(x) for x in qv]], anns_field="dense",
                                 param={"metric_type": "IP", "params": dense_params}, limit=pool, expr=expr or None),
            ]
            res = self.store._call("hybrid_search", self.store.client.hybrid_search, self.store.names["chunks"], reqs,
                                   ranker=RRFRanker(self.config.rrf_k), limit=pool, output_fields=["doc_id", "dense"])
            rows = [h for h in res[0] if h["entity"]["doc_id"] in docs][:k]
            fused = []
            for rank, h in enumerate(rows, 1):
                cid = h["id"] if "id" in h else h["chunk_id"]
                dense_score = float(np.dot(np.asarray(h["entity"]["dense"], np.float32), qv))
                fused.append((cid, float(h["distance"]), rank, None, None, dense_score, None))
            out.append(fused)
        return out
