"""HybridRetriever on the four-document fake corpus (jieba BM25 + KeywordEmbedder)."""

import math

import pytest

from fakes import VOCABULARY, KeywordEmbedder, corpus, jieba_tokenizer
from policyqa.corpus.types import DocMeta, Period
from policyqa.index.bm25 import BM25Index
from policyqa.index.dense import DenseIndex
from policyqa.index.hybrid import (
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    RetrievalConfig,
    doc_matches,
)
from policyqa.index.types import Filters


@pytest.fixture(scope="module")
def parts():
    docs, chunks = corpus()
    emb = KeywordEmbedder(VOCABULARY)
    ids = [c.chunk_id for c in chunks]
    texts = [c.indexed_text() for c in chunks]
    bm25 = BM25Index(jieba_tokenizer()).index(ids, texts)
    dense = DenseIndex(emb.dim, kind="flat")
    dense.add(ids, emb.encode_documents(texts))
    return {
        "emb": emb,
        "bm25": bm25,
        "dense": dense,
        "chunks": {c.chunk_id: c for c in chunks},
        "docs": {d.doc_id: d.meta for d in docs},
    }


def retriever(parts, **config):
    return HybridRetriever(
        DenseRetriever(parts["emb"], parts["dense"]),
        BM25Retriever(parts["bm25"]),
        parts["chunks"],
        parts["docs"],
        RetrievalConfig(**config),
    )


def ids(hits):
    return [h.chunk.chunk_id for h in hits]


def test_default_config_is_rrf_k5():
    cfg = RetrievalConfig()
    assert (cfg.mode, cfg.fusion, cfg.rrf_k, cfg.candidates) == ("hybrid", "rrf", 5, 50)
    assert cfg.fusion_weights() == (1.0, 1.0)
    assert RetrievalConfig(fusion="minmax").fusion_weights() == (0.3, 0.7)
    assert RetrievalConfig.from_dict(RetrievalConfig(weights=(1, 2)).to_dict()) == RetrievalConfig(weights=(1.0, 2.0))


def test_hybrid_rrf_exact_ids_scores_and_ranks(parts):
    hits = retriever(parts).search("专精特新小巨人奖励", 3)
    # BM25: d1#1, d3#1.  Dense: d1#1 (cos 1), d3#1 (cos 1/sqrt(15)), then zero-cosine chunks by id.
    assert ids(hits) == ["d1#1", "d3#1", "d1#2"]
    assert [h.score for h in hits] == pytest.approx([2 / 6, 2 / 7, 1 / 8])
    assert [h.rank for h in hits] == [1, 2, 3]
    top, second, third = hits
    assert (top.sparse_rank, top.dense_rank) == (1, 1)
    assert top.dense_score == pytest.approx(1.0)
    assert second.dense_score == pytest.approx(1 / math.sqrt(15))
    assert (third.sparse_rank, third.sparse_score, third.dense_rank) == (None, None, 3)


def test_hybrid_minmax_hand_computed(parts):
    hits = retriever(parts, fusion="minmax").search("上云奖励", 2)
    # sparse: d3#1 -> 1, d1#1 -> 0; dense: d3#1 3/sqrt(10) -> 1, d1#1 1/sqrt(6) -> 0.4303, rest 0
    assert ids(hits) == ["d3#1", "d1#1"]
    ratio = (1 / math.sqrt(6)) / (3 / math.sqrt(10))
    assert [h.score for h in hits] == pytest.approx([1.0, 0.7 * ratio])


def test_single_retriever_modes(parts):
    bm = retriever(parts, mode="bm25").search("首台套保险", 5)
    assert ids(bm) == ["d4#2"] and bm[0].score == pytest.approx(bm[0].sparse_score) and bm[0].dense_rank is None
    de = retriever(parts, mode="dense").search("首台套保险", 2)
    assert ids(de) == ["d4#2", "d1#1"] and de[0].score == pytest.approx(3 / math.sqrt(10)) and de[0].sparse_rank is None


def test_traditional_query_uses_normalised_text_for_both_retrievers(parts):
    hits = retriever(parts).search("設備投資補助", 2)
    assert ids(hits) == ["d1#2", "d2#1"]
    assert (hits[0].sparse_rank, hits[0].dense_rank) == (1, 1)


def test_search_equals_batch_search_and_blank_queries(parts):
    r = retriever(parts)
    qs = ["上云奖励", "", "首台套"]
    batch = r.batch_search(qs, 3)
    assert batch[1] == []
    assert batch[0] == r.search("上云奖励", 3) and batch[2] == r.search("首台套", 3)
    assert r.search("奖励", 0) == []


@pytest.mark.parametrize(
    "filters, expected_docs",
    [
        (Filters(region="江苏省"), {"d1", "d3"}),
        (Filters(region="亭湖区"), {"d3"}),
        (Filters(region="江苏省盐城市亭湖区"), {"d3"}),
        (Filters(doc_ids=("d2", "d4")), {"d2", "d4"}),
        (Filters(doc_types=("plan",)), {"d2"}),
        (Filters(years=(2018, 2019)), {"d2"}),  # d2's period 2017-2020
        (Filters(years=(2023, 2023)), {"d1", "d3", "d4"}),
        (Filters(region="江苏省", years=(2023, 2023), doc_types=("interview",)), {"d3"}),
        (Filters(region="北京市"), set()),
    ],
)
def test_filters(parts, filters, expected_docs):
    hits = retriever(parts).search("企业奖励补助", 10, filters)
    assert {h.chunk.doc_id for h in hits} == expected_docs
    assert retriever(parts).search("企业奖励补助", 10, Filters()) == retriever(parts).search("企业奖励补助", 10)


def test_filtered_results_are_still_top_k_with_tiny_candidate_pool(parts):
    # With 1 candidate per retriever, unfiltered dense search for 奖励 returns only d1#1;
    # the filter widens the pool so d3#1 is found by both retrievers.
    assert [c for c, _ in DenseRetriever(parts["emb"], parts["dense"]).batch_search(["奖励"], 1)[0]] == ["d1#1"]
    r = retriever(parts, candidates=1)
    hits = r.search("奖励", 1, Filters(region="亭湖区"))
    assert ids(hits) == ["d3#1"]
    assert (hits[0].sparse_rank, hits[0].dense_rank) == (1, 1)


def test_lazy_embedder_factory(parts):
    made = []

    def factory():
        made.append(1)
        return parts["emb"]

    r = HybridRetriever(DenseRetriever(factory, parts["dense"]), BM25Retriever(parts["bm25"]),
                        parts["chunks"], parts["docs"])
    assert made == []
    assert ids(r.search("上云", 1)) == ["d3#1"]
    r.search("奖励", 1)
    assert made == [1]


def test_bad_config_and_missing_retrievers(parts):
    with pytest.raises(ValueError, match="unknown retrieval mode 'vector'"):
        RetrievalConfig(mode="vector")
    with pytest.raises(ValueError, match="unknown fusion"):
        RetrievalConfig(fusion="sum")
    with pytest.raises(ValueError, match="weights"):
        RetrievalConfig(weights=(1.0,))
    with pytest.raises(ValueError, match="needs a dense retriever"):
        HybridRetriever(None, BM25Retriever(parts["bm25"]), parts["chunks"], parts["docs"])
    with pytest.raises(ValueError, match="needs a BM25 retriever"):
        HybridRetriever(None, None, parts["chunks"], parts["docs"], RetrievalConfig(mode="bm25"))
    with pytest.raises(TypeError, match="list of queries"):
        retriever(parts).batch_search("奖励")


def test_doc_matches_edge_cases():
    province_doc = DocMeta(doc_id="p", region="江苏省", date="2020-01-01")
    assert doc_matches(province_doc, Filters(region="江苏省盐城市亭湖区"))
    split_fields = DocMeta(doc_id="s", province="江苏省", city="徐州市")
    assert doc_matches(split_fields, Filters(region="徐州市"))
    assert not doc_matches(DocMeta(doc_id="n"), Filters(region="江苏省"))
    until = DocMeta(doc_id="u", date="2017-05-01", period=Period(None, 2020, "到2020年"))
    assert doc_matches(until, Filters(years=(2019, 2019)))
    assert not doc_matches(until, Filters(years=(2021, 2022)))
    assert not doc_matches(DocMeta(doc_id="x"), Filters(years=(2020, 2020)))
    assert doc_matches(DocMeta(doc_id="y", date="2023-01-01"), Filters(years=(2024, 2022)))  # reversed range
