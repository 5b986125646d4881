"""The frozen comparison question set (eval/questions/compare.jsonl).

Thirty questions about two or three places at once, over the built-in documents and
the written county policies of eval/documents/, written (2026-12-06) by a session
that had not seen the comparison code's changes of that day, and committed before
any run on them.  Never tuned on: it is a test set only.  These tests check that it
is well formed and grounded; they never run the system.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from policyqa.corpus import load_corpus
from policyqa.eval.metrics import normalize
from policyqa.eval.questions import load_questions

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "eval" / "questions" / "compare.jsonl"
FROZEN_SHA256 = "42f76a65422088004eb94284f7481493612eab244b6cdd976f403818cb090814"


@pytest.fixture(scope="module")
def questions():
    qs, errors = load_questions(SET)
    assert [str(e) for e in errors] == []
    return qs


def test_the_set_is_frozen():
    assert hashlib.sha256(SET.read_bytes()).hexdigest() == FROZEN_SHA256


def test_every_question_asks_about_two_documents_places_and_has_facts(questions):
    assert len(questions) == 30 and len({q.id for q in questions}) == 30
    for q in questions:
        assert q.kind in ("comparison", "comparison-partial") and q.must_include, q.id
        assert len(q.docs) >= (1 if q.kind == "comparison-partial" else 2), q.id  # the places that state the figure


def test_every_fact_is_in_the_cleaned_gold_documents(questions):
    report = load_corpus([ROOT / "corpus" / "documents", ROOT / "eval" / "documents"])
    cleaned = {d.doc_id: normalize(d.text) for d in report.documents}
    for q in questions:
        for fact in q.must_include:
            assert any(normalize(fact) in cleaned[d] for d in q.docs), (q.id, fact)
