"""The team question set is well formed and grounded in the built-in corpus; the loader reports bad lines."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import policyqa.corpus
import policyqa.eval
from policyqa.eval.metrics import chunk_relevant, normalize
from policyqa.eval.questions import OUT_OF_CORPUS, Question, SchemaError, load_questions

TEAM = Path(policyqa.eval.__file__).parent / "questions" / "team.jsonl"
DOCS = Path(policyqa.corpus.__file__).parent / "documents"


@pytest.fixture(scope="module")
def team() -> list[Question]:
    questions, errors = load_questions(TEAM)
    assert [str(e) for e in errors] == []
    return questions


@pytest.fixture(scope="module")
def raw_docs() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.txt")}  # file name = doc id


def test_team_size_and_coverage(team, raw_docs):
    assert len(team) >= 80
    per_doc = Counter(d for q in team for d in q.docs)
    assert set(raw_docs) == set(per_doc)
    for doc_id, n in per_doc.items():
        assert n >= (5 if doc_id.startswith("000_") else 10), doc_id
    kinds = Counter(q.kind for q in team)
    assert kinds[OUT_OF_CORPUS] >= 8
    assert kinds["region-trap"] >= 5
    assert kinds["english"] >= 4
    assert sum(1 for q in team if q.followup_of) >= 5


def test_gold_docs_exist_and_hold_the_evidence(team, raw_docs):
    for q in team:
        if q.out_of_corpus:
            continue
        assert q.docs and q.evidence and q.must_include, q.id
        assert 15 <= len(q.evidence) <= 200, q.id
        assert 1 <= len(q.must_include) <= 3, q.id
        for doc_id in q.docs:
            assert doc_id in raw_docs, (q.id, doc_id)
            assert q.evidence in raw_docs[doc_id], (q.id, doc_id)


def test_out_of_corpus_questions_have_no_gold(team):
    ooc = [q for q in team if q.out_of_corpus]
    assert ooc
    for q in ooc:
        assert q.docs == () and q.evidence == "" and q.must_include == (), q.id


def test_followups_point_to_earlier_questions(team):
    position = {q.id: i for i, q in enumerate(team)}
    assert len(position) == len(team)
    for i, q in enumerate(team):
        if q.followup_of:
            assert position[q.followup_of] < i, q.id


def test_facts_are_in_the_cleaned_evidence_or_document(team, raw_docs):
    clean = pytest.importorskip("policyqa.corpus.clean")
    cleaned_docs = {doc_id: normalize(clean.clean_text(text)) for doc_id, text in raw_docs.items()}
    for q in team:
        evidence = normalize(clean.clean_text(q.evidence))
        for fact in q.must_include:
            f = normalize(fact)
            assert f, (q.id, fact)
            assert f in evidence or any(f in cleaned_docs[d] for d in q.docs), (q.id, fact)


def test_evidence_survives_cleaning(team, raw_docs):
    """Cleaning must not drop the evidence (else no chunk could ever be relevant)."""
    clean = pytest.importorskip("policyqa.corpus.clean")
    squeeze = lambda s: "".join(s.split())  # noqa: E731
    cleaned_docs = {doc_id: squeeze(clean.clean_text(text)) for doc_id, text in raw_docs.items()}
    for q in team:
        if q.evidence:
            evidence = squeeze(clean.clean_text(q.evidence))
            assert evidence and all(evidence in cleaned_docs[d] for d in q.docs), q.id


def test_every_question_has_a_relevant_chunk(team):
    """Scored against the real chunker, each in-corpus question has 1..10 relevant chunks."""
    pipeline = pytest.importorskip("policyqa.corpus.pipeline")
    clean = pytest.importorskip("policyqa.corpus.clean")
    chunks = pipeline.chunk_documents(pipeline.load_corpus().documents)
    for q in team:
        if q.evidence:
            evidence = clean.clean_text(q.evidence)
            n = sum(chunk_relevant(c, evidence, q.docs) for c in chunks)
            assert 1 <= n <= 10, (q.id, n)


# -------------------------------------------------------------------------- loader


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loader_reports_bad_lines_and_keeps_good_ones(tmp_path):
    path = _write(
        tmp_path,
        [
            json.dumps({"id": "a", "question": "宿迁小巨人奖多少？", "doc": "x|y", "must_include": ["100万元"]}),
            '{"id": "b", "question": ',  # line 2: broken JSON
            json.dumps({"id": "c", "doc": "x"}),  # line 3: no question
            "",
            json.dumps({"question": "没有 id"}),  # line 5: no id
            json.dumps({"id": "d", "question": "那省级的呢？", "followup_of": "a", "extra": 1}),
            json.dumps({"id": "a", "question": "重复"}),  # line 7: duplicate id
            json.dumps({"id": "e", "question": "q", "must_include": "100万元"}),  # line 8: not a list
            "[1, 2]",  # line 9: not an object
        ],
    )
    questions, errors = load_questions(path)
    assert [q.id for q in questions] == ["a", "d"]
    assert questions[0] == Question(id="a", question="宿迁小巨人奖多少？", docs=("x", "y"), must_include=("100万元",))
    assert questions[1].followup_of == "a"
    assert [e.line for e in errors] == [2, 3, 5, 7, 8, 9]
    assert str(errors[1]) == "line 3: missing 'question'"
    assert errors[2] == SchemaError(5, "missing 'id'")
    assert errors[0].message.startswith("invalid JSON")
    assert "duplicate id 'a'" in errors[3].message
    assert "must_include" in errors[4].message


def test_loader_rejects_bad_followups(tmp_path):
    path = _write(
        tmp_path,
        [
            json.dumps({"id": "a", "question": "q1", "followup_of": "b"}),  # later id
            json.dumps({"id": "b", "question": "q2", "followup_of": "zz"}),  # unknown id
            json.dumps({"id": "c", "question": "q3", "followup_of": "b"}),  # fine
        ],
    )
    questions, errors = load_questions(path)
    assert [q.id for q in questions] == ["a", "b", "c"]
    assert [e.line for e in errors] == [1, 2]
    assert "not an earlier question" in errors[0].message
    assert "not a known id" in errors[1].message


def test_loader_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_questions(tmp_path / "nope.jsonl")
