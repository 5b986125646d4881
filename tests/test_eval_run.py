"""End-to-end evaluation on a tiny corpus with a fake embedder."""

import json

import pytest

from fakes import KeywordEmbedder, jieba_tokenizer
from policyqa.eval.breakdown import summarize
from policyqa.eval.metrics import METRIC_KEYS
from policyqa.eval.run import CONFIGS, evaluate, write_report

DOCS = {
    "a.txt": "甲市关于支持工业机器人应用的通知\n一、支持政策\n1.对购买工业机器人的企业，按设备总价的20%给予补助，单个项目最高100万元。\n2.对新认定的智能工厂奖励50万元。",
    "b.txt": "乙市关于人才引进的通知\n一、人才政策\n1.对引进的博士给予生活补贴每月3000元。\n2.对高层次人才给予安家费30万元。",
}
QUESTIONS = [
    {"id": "q1", "question": "甲市买工业机器人补贴多少？", "doc": "a.txt", "evidence": "按设备总价的20%给予补助", "answer": "按设备总价的20%给予补助", "must_include": ["20%"], "kind": "figure"},
    {"id": "q2", "question": "乙市博士生活补贴多少？", "doc": "b.txt", "evidence": "对引进的博士给予生活补贴每月3000元", "answer": "每月3000元", "must_include": ["3000元"], "kind": "figure"},
    {"id": "q3", "question": "丙省的海洋渔业捕捞许可证怎么办理？", "doc": "", "evidence": "", "answer": "", "kind": "out-of-corpus"},
]


@pytest.fixture()
def setup(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    qfile = tmp_path / "q.jsonl"
    lines = [json.dumps(q, ensure_ascii=False) for q in QUESTIONS]
    lines.insert(1, "{not json")  # a broken line is reported, the rest still runs
    lines.append(json.dumps({"id": "q4"}))  # missing question
    qfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus, qfile


def test_eval_end_to_end_with_fake_embedder(setup, tmp_path):
    corpus, qfile = setup
    runs, errors = evaluate(str(qfile), [str(corpus)], ["default", "bm25"], tmp_path / "cache",
                            embedder=KeywordEmbedder(["机器人", "博士", "人才", "智能工厂"]), tokenizer=jieba_tokenizer(), progress=False)
    assert [e.line for e in errors] == [2, 5]
    assert [r.config.name for r in runs] == ["default", "bm25"]
    for r in runs:
        s = r.summary
        assert set(METRIC_KEYS) <= set(s) and "by_kind" in s
        assert s["n"] == 3
        assert s["recall@1"] == 1.0 and s["mrr@10"] == 1.0 and s["doc_recall@1"] == 1.0
        assert s["facts_all"] == 1.0
        assert s["refusal_rate"] == 1.0 and s["false_refusal_rate"] == 0.0
        assert s["by_kind"]["figure"]["n"] == 2
        assert len(r.recall_curve) == 10 and r.recall_curve[0] == 1.0
        # the summary counts declined out-of-corpus questions as the per-kind breakdown does
        assert s["ooc_declined_rate"] == 1.0 and summarize(r.details)["ooc_declined_n"] == "1/1"
    # the index is reused (keyed by corpus fingerprint and chunker), not rebuilt
    assert len(list((tmp_path / "cache").iterdir())) == 1
    report = tmp_path / "rep" / "r.md"
    write_report(report, runs, str(qfile), "tiny", "policyqa eval q.jsonl")
    text = report.read_text(encoding="utf-8")
    assert "| default |" in text and "| bm25 |" in text and "Failed questions (0)" in text
    assert report.with_suffix(".png").stat().st_size > 1000


def test_baseline_config_is_the_langchain_setup():
    b = CONFIGS["baseline"]
    assert (b.chunker, b.max_chars, b.overlap, b.retrieval.mode, b.answer) == ("recursive", 750, 150, "dense", "top3")


def test_recursive_baseline_chunks_overlap_and_map_back():
    from policyqa.corpus.pipeline import load_corpus
    from policyqa.eval.baseline import recursive_chunks

    doc = next(d for d in load_corpus().documents if d.doc_id.startswith("003"))
    cs = recursive_chunks(doc, 750, 150)
    assert len(cs) > 5
    for a, b in zip(cs, cs[1:]):
        assert doc.text[a.start:a.end] == a.text and len(a.text) <= 750
        assert 0 < a.end - b.start <= 150  # consecutive chunks overlap by at most 150 characters
    assert cs[0].start == 0 and cs[-1].end == len(doc.text)


def test_details_file_has_one_line_per_question(setup, tmp_path):
    from policyqa.eval.run import write_details

    corpus, qfile = setup
    runs, _ = evaluate(str(qfile), [str(corpus)], ["default"], tmp_path / "cache",
                       embedder=KeywordEmbedder(["机器人", "博士", "人才", "智能工厂"]), tokenizer=jieba_tokenizer(), progress=False)
    out = tmp_path / "d" / "details.jsonl"
    write_details(out, runs[0])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"]
    need = {"id", "kind", "question", "resolved", "answer", "refused", "region_note", "notes", "citations",
            "relevant_rank", "must_include", "facts_found", "split", "config"}
    assert all(need <= set(r) for r in rows)
    q1 = rows[0]
    assert q1["relevant_rank"] == 1 and q1["facts_found"] == [True] and not q1["refused"]
    assert q1["citations"] and q1["citations"][0]["doc_id"] == "a.txt" and q1["citations"][0]["chunk_id"].startswith("a.txt#")
    assert rows[2]["refused"] and rows[2]["facts_found"] == [] and rows[2]["relevant_rank"] is None
    assert {r["split"] for r in rows} <= {"tune", "test"}


def test_split_halves_are_fixed_disjoint_and_keep_followups_together(tmp_path):
    from policyqa.eval.questions import Question, assign_splits, select_split, split_of

    qs = [Question(f"q{i}", "问题") for i in range(200)]
    qs += [Question("f1", "那省级的呢？", followup_of="q0"), Question("f2", "第二年呢？", followup_of="f1")]
    halves = assign_splits(qs)
    tune, test = select_split(qs, "tune"), select_split(qs, "test")
    assert {q.id for q in tune}.isdisjoint({q.id for q in test})
    assert len(tune) + len(test) == len(qs) == len(select_split(qs, "all"))
    assert 70 < len(tune) < 130  # a hash split, roughly half each
    assert halves["f1"] == halves["f2"] == halves["q0"]
    # fixed: independent of order and of which other questions exist
    assert assign_splits(list(reversed(qs)))["q7"] == halves["q7"] == split_of("q7")
    with pytest.raises(ValueError):
        select_split(qs, "dev")


def test_a_threshold_override_moves_only_the_answerability_decision(setup, tmp_path):
    corpus, qfile = setup
    enc = KeywordEmbedder(["机器人", "博士", "人才", "智能工厂"])

    def run(t):
        return evaluate(str(qfile), [str(corpus)], ["default"], tmp_path / "cache", embedder=enc, tokenizer=jieba_tokenizer(),
                        progress=False, threshold=t)[0][0].summary

    fitted, never, always = run(None), run(0.0), run(1.0)
    assert fitted["false_refusal_rate"] == never["false_refusal_rate"] == 0.0
    assert always["false_refusal_rate"] > 0.0  # at 1.0 no probability clears the bar
    assert always["recall@5"] == fitted["recall@5"] == never["recall@5"]  # retrieval is untouched
