"""Hand-computed checks of policyqa.eval.metrics."""

from __future__ import annotations

import copy

import pytest

from policyqa.eval.metrics import (
    METRIC_KEYS,
    QuestionResult,
    aggregate,
    chunk_relevant,
    doc_recall_at_k,
    evidence_relevant,
    facts_all,
    facts_recall,
    mrr_at_k,
    normalize,
    percentile,
    recall_at_k,
    refusal_rates,
    rouge_l_f,
)

# ----------------------------------------------------------------------- normalize


def test_normalize_drops_whitespace_and_punctuation():
    assert normalize("年销售收入 ≥ 2亿元；") == "年销售收入≥2亿元"
    assert normalize("一、加强，协作；配套。“强链”（试点）〔2023〕") == "一加强协作配套强链试点2023"


def test_normalize_keeps_percent_and_decimal_point():
    assert normalize("25%") == "25%"
    assert normalize("163.3亿元。") == "163.3亿元"
    assert normalize("目标.完成") == "目标完成"  # a '.' not between digits is dropped


def test_normalize_full_width_case_and_traditional():
    assert normalize("ＥＲＰ、ＭＥＳ　１００％") == "erpmes100%"
    assert normalize("獎勵100萬元") == "奖励100万元"


# ---------------------------------------------------------------- evidence_relevant


def test_evidence_relevant_whole_and_whitespace():
    assert evidence_relevant("前文。单个项目补助金额不超过500万元。后文", "单个项目补助金额不超过500万元")
    assert evidence_relevant("单个项目 补助金额\n不超过500万元", "单个项目补助金额不超过 500 万元")
    assert not evidence_relevant("完全无关的段落", "单个项目补助金额不超过500万元")


def test_evidence_relevant_half_piece_across_boundary():
    assert evidence_relevant("xxefgh", "abcdefgh")  # 4 of 8 characters: exactly half
    assert not evidence_relevant("xxfgh", "abcdefgh")  # 3 of 8
    assert evidence_relevant("defgzz", "abcdefg")  # 4 of 7 (half rounded up)
    assert not evidence_relevant("efgzz", "abcdefg")  # 3 of 7


def test_evidence_relevant_empty():
    assert not evidence_relevant("任何文本", "")
    assert not evidence_relevant("", "证据")


# ----------------------------------------------------------------------- retrieval


def test_recall_at_k():
    flags = [False, False, True, False]
    assert recall_at_k(flags, 1) == 0.0
    assert recall_at_k(flags, 2) == 0.0
    assert recall_at_k(flags, 3) == 1.0
    assert recall_at_k(flags, 10) == 1.0
    assert recall_at_k([], 5) == 0.0


def test_mrr_at_k():
    assert mrr_at_k([False, False, True, True]) == pytest.approx(1 / 3)
    assert mrr_at_k([True]) == 1.0
    assert mrr_at_k([False, False, True], k=2) == 0.0
    assert mrr_at_k([False] * 12 + [True]) == 0.0  # beyond the default k=10


def test_doc_recall_at_k():
    ranked = ["d2", "d2", "d1", "d3"]
    assert doc_recall_at_k(ranked, ["d1"], 1) == 0.0
    assert doc_recall_at_k(ranked, ["d1"], 2) == 0.0
    assert doc_recall_at_k(ranked, ["d1"], 3) == 1.0
    assert doc_recall_at_k(ranked, ["d9", "d2"], 1) == 1.0  # any gold doc counts
    assert doc_recall_at_k([], ["d1"], 5) == 0.0


@pytest.mark.parametrize("k", [0, -1])
def test_bad_k_is_rejected(k):
    with pytest.raises(ValueError, match="k must be a positive integer"):
        recall_at_k([True], k)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        mrr_at_k([True], k)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        doc_recall_at_k(["d"], ["d"], k)


def test_doc_recall_needs_gold():
    with pytest.raises(ValueError, match="gold document"):
        doc_recall_at_k(["d1"], [], 5)


# ------------------------------------------------------------------------- answers


def test_facts():
    answer = "按总价的２５％给予补助，单个项目补助金额不超过1000萬元。"
    assert facts_recall(answer, ["25%", "1000万元"]) == 1.0
    assert facts_all(answer, ["25%", "1000万元"]) is True
    assert facts_recall(answer, ["25%", "500万元", "30%", "1000万元"]) == 0.5
    assert facts_all(answer, ["25%", "500万元"]) is False
    with pytest.raises(ValueError, match="must_include is empty"):
        facts_recall(answer, [])
    with pytest.raises(ValueError, match="must_include is empty"):
        facts_all(answer, [])


def test_rouge_l_f():
    # LCS("ace", "abcde") = 3: P = 3/3, R = 3/5, F = 2*1*0.6/1.6 = 0.75
    assert rouge_l_f("ace", "abcde") == pytest.approx(0.75)
    assert rouge_l_f("abcde", "ace") == pytest.approx(0.75)
    assert rouge_l_f("奖励100万元。", "奖励 100万元") == pytest.approx(1.0)
    assert rouge_l_f("xyz", "abc") == 0.0
    assert rouge_l_f("", "abc") == 0.0
    assert rouge_l_f("，。", "abc") == 0.0  # empty after normalisation
    # LCS("abxd", "abcd") = 3 ("abd"): P = R = 3/4
    assert rouge_l_f("abxd", "abcd") == pytest.approx(0.75)


def test_percentile():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 0) == 1
    assert percentile([1, 2, 3, 4], 100) == 4
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)
    with pytest.raises(ValueError, match="0..100"):
        percentile([1, 2], 101)


# ------------------------------------------------------------------------ records

A = QuestionResult(
    id="a",
    kind="figure",
    relevant=(False, False, True, False),
    ranked_doc_ids=("d2", "d2", "d1", "d1"),
    gold_docs=("d1",),
    answer="奖励100万元",
    must_include=("100万元", "30万元"),
    reference="奖励100万元。",
    latency_ms=100.0,
)
B = QuestionResult(
    id="b",
    kind="figure",
    relevant=(True,),
    ranked_doc_ids=("d1",),
    gold_docs=("d1",),
    answer="抱歉，文件中没有找到",
    must_include=("50家",),
    reference="新增50家",
    refused=True,
    latency_ms=300.0,
)
C = QuestionResult(
    id="c",
    kind="out-of-corpus",
    relevant=None,
    ranked_doc_ids=("d1",),
    answer="无法回答",
    reference="知识库没有涉及",
    refused=True,
    out_of_corpus=True,
    latency_ms=200.0,
)
D = QuestionResult(
    id="d",
    kind="list",
    relevant=None,
    ranked_doc_ids=("d3", "d1"),
    gold_docs=("d3",),
    answer="包括创新型中小企业和“小巨人”",
    must_include=("创新型中小企业", "小巨人"),
)


def test_refusal_rates():
    assert refusal_rates([A, B, C, D]) == (1.0, pytest.approx(1 / 3))
    assert refusal_rates([A, D]) == (None, 0.0)
    assert refusal_rates([C]) == (1.0, None)
    assert refusal_rates([]) == (None, None)


def _approx(d: dict) -> dict:
    return {k: (pytest.approx(v) if isinstance(v, float) else v) for k, v in d.items()}


def test_aggregate_exact_numbers():
    out = aggregate([A, B, C, D])
    assert set(out) == set(METRIC_KEYS) | {"by_kind"}
    overall = {k: v for k, v in out.items() if k != "by_kind"}
    assert overall == _approx(
        {
            "recall@1": 0.5,  # A miss, B hit; C (out of corpus) and D (no evidence) excluded
            "recall@5": 1.0,
            "recall@10": 1.0,
            "mrr@10": (1 / 3 + 1) / 2,
            "doc_recall@1": 2 / 3,  # A 0, B 1, D 1
            "doc_recall@5": 1.0,
            "doc_recall@10": 1.0,
            "facts_all": 1 / 3,  # only D holds all its facts
            "facts_mean": (0.5 + 0.0 + 1.0) / 3,
            "rouge_l": 0.5,  # A 1.0, B 0.0; C out of corpus, D no reference
            "refusal_rate": 1.0,
            "false_refusal_rate": 1 / 3,
            "latency_ms_p50": 200.0,
            "latency_ms_p95": 290.0,  # [100, 200, 300]: 200 + 0.9 * 100
            "n": 4,
        }
    )
    assert list(out["by_kind"]) == ["figure", "list", "out-of-corpus"]
    assert out["by_kind"]["figure"] == _approx(
        {
            "recall@1": 0.5,
            "recall@5": 1.0,
            "recall@10": 1.0,
            "mrr@10": 2 / 3,
            "doc_recall@1": 0.5,
            "doc_recall@5": 1.0,
            "doc_recall@10": 1.0,
            "facts_all": 0.0,
            "facts_mean": 0.25,
            "rouge_l": 0.5,
            "refusal_rate": None,
            "false_refusal_rate": 0.5,
            "latency_ms_p50": 200.0,
            "latency_ms_p95": 290.0,  # [100, 300]: 100 + 0.95 * 200
            "n": 2,
        }
    )
    assert out["by_kind"]["list"] == {
        "recall@1": None,
        "recall@5": None,
        "recall@10": None,
        "mrr@10": None,
        "doc_recall@1": 1.0,
        "doc_recall@5": 1.0,
        "doc_recall@10": 1.0,
        "facts_all": 1.0,
        "facts_mean": 1.0,
        "rouge_l": None,
        "refusal_rate": None,
        "false_refusal_rate": 0.0,
        "latency_ms_p50": None,
        "latency_ms_p95": None,
        "n": 1,
    }
    ooc = out["by_kind"]["out-of-corpus"]
    assert ooc["refusal_rate"] == 1.0
    assert ooc["latency_ms_p50"] == 200.0
    assert ooc["n"] == 1
    assert all(ooc[k] is None for k in METRIC_KEYS if k not in {"refusal_rate", "latency_ms_p50", "latency_ms_p95", "n"})


def test_aggregate_empty():
    out = aggregate([])
    assert out["n"] == 0
    assert out["by_kind"] == {}
    assert all(out[k] is None for k in METRIC_KEYS if k != "n")


# --------------------------------------------------------------------- purity


def test_inputs_are_not_mutated():
    flags = [False, True, False]
    docs = ["d2", "d1"]
    gold = ["d1"]
    values = [4.0, 1.0, 3.0, 2.0]
    facts = ["25%", "1000万元"]
    records = [D, C, B, A]
    before = copy.deepcopy((flags, docs, gold, values, facts, records))
    recall_at_k(flags, 2)
    mrr_at_k(flags, 2)
    doc_recall_at_k(docs, gold, 1)
    percentile(values, 50)
    facts_recall("25%", facts)
    facts_all("25%", facts)
    refusal_rates(records)
    aggregate(records)
    assert (flags, docs, gold, values, facts, records) == before


# ------------------------------------------------------------------ chunk_relevant


def test_chunk_relevant_uses_section_and_responsibility_note_not_title():
    from policyqa.corpus.types import Chunk

    chunk = Chunk(
        chunk_id="d.txt#五/21#0",
        doc_id="d.txt",
        section="五、加强知识产权保护 > 21.",
        text="21.支持符合条件的专精特新企业享受知识产权优先审查政策。",
        start=0,
        end=30,
        header="徐州市促进中小企业发展工作领导小组办公室 《关于印发责任分工方案的通知》",
        responsible="牵头单位:市市场监管局;责任单位:市知识产权局",
    )
    assert chunk_relevant(chunk, "(牵头单位:市市场监管局;责任单位:市知识产权局)")
    assert chunk_relevant(chunk, "享受知识产权优先审查政策", gold_docs=("d.txt",))
    assert not chunk_relevant(chunk, "享受知识产权优先审查政策", gold_docs=("other.txt",))
    assert not chunk_relevant(chunk, "徐州市促进中小企业发展工作领导小组办公室")  # only in the title header
