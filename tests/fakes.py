"""Deterministic stand-ins for the embedding model, and a tiny policy corpus.

``KeywordEmbedder`` implements :class:`policyqa.index.types.Embedder` without
any model: one dimension per vocabulary keyword, the vector is the keyword
counts (substring counts) L2-normalised; a text with none of the keywords maps
to a fixed unit "unknown" dimension.  It records every call so tests can assert
which texts were embedded.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from policyqa.corpus.types import Chunk, DocMeta, Document, Period


class KeywordEmbedder:
    name = "fake-keyword"
    backend = "fake"

    def __init__(self, vocabulary: Sequence[str], name: str | None = None, backend: str | None = None) -> None:
        if not vocabulary:
            raise ValueError("KeywordEmbedder needs at least one keyword")
        self.vocabulary = list(vocabulary)
        self.dim = len(self.vocabulary) + 1  # last dimension = "unknown"
        if name is not None:
            self.name = name
        if backend is not None:
            self.backend = backend
        self.document_calls: list[list[str]] = []  # texts of each encode_documents call
        self.query_calls: list[list[str]] = []

    @property
    def embedded(self) -> list[str]:
        """Every document text embedded so far, in order."""
        return [t for call in self.document_calls for t in call]

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for j, kw in enumerate(self.vocabulary):
                out[i, j] = t.count(kw)
            norm = float(np.linalg.norm(out[i]))
            if norm == 0:
                out[i, -1] = 1.0
            else:
                out[i] /= norm
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.query_calls.append(list(texts))
        return self._encode(texts)

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.document_calls.append(list(texts))
        return self._encode(texts)


class SlowEmbedder:
    """Wraps an embedder; ``encode_documents`` touches ``marker`` then sleeps ``delay`` seconds.

    Used to kill a build while it is embedding: the test waits for the marker
    file, then sends SIGKILL.
    """

    def __init__(self, inner, delay: float = 30.0, marker: str | os.PathLike | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.backend = inner.backend
        self.dim = inner.dim
        self.delay = delay
        self.marker = Path(marker) if marker else None

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if self.marker is not None:
            self.marker.write_text("embedding\n", encoding="utf-8")
        time.sleep(self.delay)
        return self.inner.encode_documents(texts, progress=progress)


class CharTokenizer:
    """Cheap keyword tokenizer for tests that need no jieba: Han characters and their bigrams."""

    def tokenize(self, text: str) -> list[str]:
        han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff" or ch.isalnum()]
        return han + [a + b for a, b in zip(han, han[1:])]

    def settings(self) -> dict:
        return {"kind": "char-bigram"}


@lru_cache(maxsize=1)
def jieba_tokenizer():
    """One shared JiebaTokenizer per test session (it takes ~1 s to load)."""
    from policyqa.index.tokenize import JiebaTokenizer

    return JiebaTokenizer()


def folder_answerer(folder, vocabulary: Sequence[str], index_dir, **answerer_args):
    """The service's answerer (``make_answerer``) over the documents of ``folder``: BM25
    retrieval, a :class:`KeywordEmbedder` over ``vocabulary``, the shipped models;
    ``answerer_args`` go to ``make_answerer`` (``threshold=0.0`` for shape tests)."""
    from policyqa.corpus.chunk import ChunkerConfig
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.index.hybrid import RetrievalConfig
    from policyqa.index.store import IndexStore
    from policyqa.qa.service import make_answerer

    docs = list(load_corpus([folder]).documents)
    store = IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(list(vocabulary)), jieba_tokenizer(), index_dir,
                             chunker_settings=ChunkerConfig().to_dict(), progress=False)
    return make_answerer(store, RetrievalConfig(mode="bm25"), **answerer_args)



def body(answer) -> str:
    """An answer's text without its list of sources."""
    return answer.text.split("\n来源：", 1)[0]


def converse(answerer, *questions):
    """The answers to ``questions`` asked in turn, each with the turns before it as history."""
    from policyqa.qa.types import Turn

    history, answers = [], []
    for q in questions:
        a = answerer.answer(q, history=list(history) or None)
        history.append(Turn(q, a.text, a.resolved_question))
        answers.append(a)
    return answers

# --- a four-document corpus ---------------------------------------------------------

VOCABULARY = (
    "专精特新",
    "小巨人",
    "奖励",
    "智能车间",
    "技术改造",
    "设备",
    "绿色工厂",
    "上云",
    "规上",
    "首台套",
    "保险",
)

CHUNKER_SETTINGS = {"max_chars": 448, "min_chars": 145, "overlap": 0}


def _doc(doc_id: str, text: str, **meta) -> Document:
    return Document(meta=DocMeta(doc_id=doc_id, **meta), text=text)


def _chunks(doc: Document, passages: Sequence[tuple[str, str]]) -> list[Chunk]:
    out = []
    for ordinal, (section, passage) in enumerate(passages, 1):
        start = doc.text.index(passage)
        out.append(
            Chunk(
                chunk_id=f"{doc.doc_id}#{ordinal}",
                doc_id=doc.doc_id,
                section=section,
                text=passage,
                start=start,
                end=start + len(passage),
            )
        )
    return out


D1_TEXT = "对新认定的国家级专精特新小巨人企业给予一次性奖励50万元。\n支持中小企业建设示范智能车间，按设备投资给予补助。"
D2_TEXT = "实施企业技术改造攻坚，对技术改造项目按设备投资额给予补助。\n推进工业绿色化改造，创建绿色工厂。"
D3_TEXT = "亭湖区鼓励企业星级上云，对五星级上云企业给予奖励。"
D4_TEXT = "培育规上工业企业，推动小升规，新增规上企业100家。\n开展首台套首批次产品认定，落实首台套保险补偿。"


def corpus() -> tuple[list[Document], list[Chunk]]:
    """Four documents, seven chunks: ``d1#1 d1#2 d2#1 d2#2 d3#1 d4#1 d4#2``."""
    d1 = _doc(
        "d1",
        D1_TEXT,
        title="徐州市专精特新企业培育通知",
        date="2023-03-19",
        region="江苏省徐州市",
        province="江苏省",
        city="徐州市",
        doc_type="notice",
    )
    d2 = _doc(
        "d2",
        D2_TEXT,
        title="漯河市工业转型升级实施意见",
        date="2017-10-24",
        region="河南省漯河市",
        province="河南省",
        city="漯河市",
        doc_type="plan",
        period=Period(2017, 2020, "2017-2020年"),
    )
    d3 = _doc(
        "d3",
        D3_TEXT,
        title="亭湖区访谈",
        date="2023-04-10",
        region="江苏省盐城市亭湖区",
        province="江苏省",
        city="盐城市",
        district="亭湖区",
        doc_type="interview",
    )
    d4 = _doc(
        "d4",
        D4_TEXT,
        title="宿州市2023年工作要点",
        date="2023-02-01",
        region="安徽省宿州市",
        province="安徽省",
        city="宿州市",
        doc_type="work-points",
    )
    passages = {
        "d1": [("一、", D1_TEXT.split("\n")[0]), ("二、", D1_TEXT.split("\n")[1])],
        "d2": [("一、", D2_TEXT.split("\n")[0]), ("二、", D2_TEXT.split("\n")[1])],
        "d3": [("", D3_TEXT)],
        "d4": [("一、", D4_TEXT.split("\n")[0]), ("二、", D4_TEXT.split("\n")[1])],
    }
    docs = [d1, d2, d3, d4]
    chunks = [c for d in docs for c in _chunks(d, passages[d.doc_id])]
    return docs, chunks


def make_chunks(doc: Document, passages: Sequence[str]) -> list[Chunk]:
    """Chunks ``<doc_id>#1..n`` for passages that occur in ``doc.text``."""
    return _chunks(doc, [("", p) for p in passages])
