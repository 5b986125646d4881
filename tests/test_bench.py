"""The index benchmark: synthetic corpus/vectors and a tiny end-to-end run with a fake embedder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from policyqa.eval import bench
from policyqa.eval.bench import BenchConfig, cn_number, recall_at_k, synthetic_corpus, synthetic_vectors
from fakes import VOCABULARY, CharTokenizer, KeywordEmbedder


@pytest.fixture(scope="module")
def builtin():
    return bench._builtin()


def test_synthetic_corpus_is_distinct_consistent_and_deterministic(builtin):
    docs, chunks = builtin
    before = [c.text for c in chunks]
    sdocs, schunks = synthetic_corpus(docs, chunks, 2_050, seed=3, chunks_per_doc=100)
    assert len(schunks) == 2_050
    assert len(sdocs) == 21  # 20 full documents + one of 50 chunks
    assert len({c.text for c in schunks}) == 2_050
    assert len({c.chunk_id for c in schunks}) == 2_050
    by_id = {d.doc_id: d for d in sdocs}
    for c in schunks:
        assert by_id[c.doc_id].text[c.start:c.end] == c.text
        assert c.header.startswith(by_id[c.doc_id].meta.region)
        assert 0 < len(c.text) <= 400
    assert sum(c.doc_id == sdocs[-1].doc_id for c in schunks) == 50
    assert [c.text for c in chunks] == before  # inputs untouched
    again = synthetic_corpus(docs, chunks, 2_050, seed=3, chunks_per_doc=100)[1]
    assert [c.text for c in again] == [c.text for c in schunks]
    assert [c.text for c in synthetic_corpus(docs, chunks, 50, seed=4)[1]] != [c.text for c in schunks[:50]]


def test_synthetic_corpus_rejects_bad_input(builtin):
    docs, chunks = builtin
    with pytest.raises(ValueError, match="n must be"):
        synthetic_corpus(docs, chunks, -1)
    with pytest.raises(ValueError, match="no sentences"):
        synthetic_corpus(docs, [], 10)


def test_synthetic_vectors_keep_base_rows_and_are_unit():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((5, 16)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    copy = base.copy()
    v = synthetic_vectors(1_000, base, seed=1)
    assert v.shape == (1_000, 16) and v.dtype == np.float32
    assert np.allclose(v[:5], base)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(base, copy)
    assert len(np.unique(v.round(5), axis=0)) == 1_000
    # every synthetic vector stays close to the base vectors it was mixed from
    best = (v[5:] @ base.T).max(axis=1)
    assert float(best.min()) > 0.3 and float(best.mean()) > 0.7
    assert np.array_equal(v, synthetic_vectors(1_000, base, seed=1))


def test_helpers():
    assert [cn_number(n) for n in (1, 10, 12, 20, 37)] == ["一", "十", "十二", "二十", "三十七"]
    assert recall_at_k([["a", "b", "x"]], [["a", "b", "c"]], 3) == pytest.approx(2 / 3, abs=1e-4)
    assert recall_at_k([["a"], ["z"]], [["a"], ["b"]], 1) == 0.5
    stats = bench.latency_stats([0.001, 0.002, 0.003, 0.004])
    assert stats["n"] == 4 and stats["p50_ms"] == pytest.approx(2.5) and stats["max_ms"] == pytest.approx(4.0)
    with pytest.raises(ValueError):
        BenchConfig(n_synthetic=10, sample=20)


def test_tiny_bench_with_fake_embedder(tmp_path):
    cfg = BenchConfig(mode="custom", n_synthetic=2_000, sample=50, queries=10, hnsw_ef=(16, 64), ivf_nprobe=(2, 8))
    res = bench.run_bench(cfg, tmp_path, make_embedder=lambda: KeywordEmbedder(VOCABULARY), make_tokenizer=CharTokenizer)
    b, s = res["builtin"], res["synthetic"]
    assert set(res) >= {"config", "machine", "builtin", "synthetic", "total_s"}
    assert res["machine"]["nproc"] >= 1 and res["machine"]["cpu_model"]

    assert b["build"]["n_chunks"] > 100
    assert b["build"]["build_chunks_per_s"] > 0 and b["build"]["index_bytes"] > 0
    assert s["sample"]["sample"] == 50 and s["sample"]["embed_chunks_per_s"] > 0
    assert s["sample"]["extrapolated_embed_s"] > 0
    assert s["build"]["n_chunks"] == 2_000 and s["build"]["dense_kind"] == "flat"
    assert s["build"]["index_bytes"] > b["build"]["index_bytes"]
    for q in (b["query"], s["query"]):
        for mode in ("bm25", "dense", "hybrid", "dense_encode", "dense_search"):
            assert q[mode]["n"] == 10
            assert 0 < q[mode]["p50_ms"] <= q[mode]["p95_ms"] <= q[mode]["max_ms"]
    for phase in (b["build"], b["query"], s["sample"], s["build"], s["query"], s["ann"]):
        assert phase["peak_rss_mb"] > 0 and phase["isolated"] is False

    ann = s["ann"]
    assert ann["n_vectors"] == 2_000 and ann["k"] == 10
    kinds = [(r["kind"], r["param"]) for r in ann["results"]]
    assert [k for k, _ in kinds] == ["flat", "hnsw", "hnsw", "ivf", "ivf"]
    assert ann["results"][0]["recall"] == 1.0
    for r in ann["results"]:
        assert 0.0 <= r["recall"] <= 1.0 and r["p50_ms"] > 0 and r["build_s"] >= 0 and r["faiss_bytes"] > 0

    for c in (b["cold_start"], s["cold_start"]):
        assert c["open_s"] > 0 and c["first_answer_s"] > 0 and c["total_s"] >= c["open_s"]
    assert isinstance(b["cold_start"]["first_answer_refused"], bool)

    md = bench.render_markdown({"command": "policyqa bench --x", **res})
    assert md.startswith("# Index benchmark")
    assert "`policyqa bench --x`" in md and "extrapolated" in md and "| hnsw |" in md
    assert "## Comparison with another run" not in md
    both = bench.render_markdown(res, "policyqa bench --x", compare={"command": "other", **res})
    assert "## Comparison with another run" in both and "| synthetic chunks | 2,000 | 2,000 |" in both
    saved = tmp_path / "bench.json"
    saved.write_text(json.dumps({"command": "policyqa bench --x", **res}), encoding="utf-8")
    assert bench.main(["--from-json", str(saved), "--doc", str(tmp_path / "b.md")]) == 0
    assert (tmp_path / "b.md").read_text(encoding="utf-8") == md + "\n"


def test_cli_rejects_bad_sizes(capsys):
    assert bench.main(["--synthetic", "10", "--sample", "20"]) == 2
    assert "--sample must be between 1 and --synthetic" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--full"])


def test_precomputed_embedder_uses_given_rows_and_embeds_other_texts_with_the_real_model():
    real = KeywordEmbedder(VOCABULARY)
    texts = ["补贴 奖励", "人才"]
    given = np.eye(2, real.dim, dtype=np.float32)
    pre = bench.PrecomputedEmbedder(texts, given, real.name, "fake", real)
    out = pre.encode_documents(["人才", "新的句子 奖励", "补贴 奖励"])
    np.testing.assert_array_equal(out[0], given[1])
    np.testing.assert_array_equal(out[2], given[0])
    np.testing.assert_allclose(out[1], real.encode_documents(["新的句子 奖励"])[0])
    with pytest.raises(KeyError, match="no precomputed vector"):
        bench.PrecomputedEmbedder(texts, given, real.name, "fake").encode_documents(["别的"])
