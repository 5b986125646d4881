"""A question naming a place, about something no document of the knowledge base writes
(「…招用退役军人有什么补贴？」 when no policy mentions 退役军人), is not answered with the
place's clause that shares its other words (补贴): that clause is shown as the nearest text,
under a lead that the place's documents have no such rule and that no document mentions the
word (``features.unknown_terms``, ``Answerer._unknown``, ``decision.region_note``).

``tests/data/unknown_words/``: two county policies written for this test (岚皋: technical
renovation, 入规, talent; 泾川: digital workshops, trade fairs, loan interest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fakes import folder_answerer, jieba_tokenizer
from policyqa.qa.decision import Reason
from policyqa.qa.features import TermStats, make_query, unknown_terms, weight_share

DATA = Path(__file__).parent / "data" / "unknown_words"
LANGAO = "langao-gongye-2025.txt"
TEXTS = {p.name: p.read_text(encoding="utf-8").lower() for p in DATA.glob("*.txt")}


@pytest.fixture(scope="module")
def stats() -> TermStats:
    tok = jieba_tokenizer().tokenize
    return TermStats.from_texts(list(TEXTS.values()), tok)


def _query(text: str, stats):
    return make_query(text, jieba_tokenizer().tokenize, stats)


def test_a_word_no_document_writes_is_unknown(stats):
    q = _query("企业招用退役军人有什么补贴？", stats)
    terms = unknown_terms(q, [TEXTS[LANGAO]], "", stats)
    assert "退役军人" in terms and "补贴" not in terms
    assert weight_share(q, terms) > 0.5


def test_a_word_another_document_writes_is_not_unknown(stats):
    """展位费 is only in 泾川's policy: absent from 岚皋's, but known to the knowledge base
    (that is a region trap, :func:`region_absent_terms`' case, not an unknown word)."""
    q = _query("企业参展的展位费能补多少？", stats)
    assert unknown_terms(q, [TEXTS[LANGAO]], "", stats) == []


@pytest.mark.parametrize("question", ["去年我们准备头一回入统，奖励多少？",  # the asker's situation: verbs, time words, an idiom
                                      "人才补贴是哪个局管的？",  # 局管: jieba's HMM guess, two words run together
                                      "技术改造补助一共有哪几个？",  # words of asking
                                      "人才有哪些奖金？"])  # money words: the kind of benefit asked
def test_words_that_name_no_topic_are_never_unknown(stats, question):
    assert unknown_terms(_query(question, stats), [TEXTS[LANGAO]], "", stats) == []


def test_words_the_place_writes_are_never_unknown(stats):
    q = _query("技术改造项目补助比例是多少？", stats)
    assert unknown_terms(q, [TEXTS[LANGAO]], "", stats) == []


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    a = folder_answerer(DATA, ["技术改造", "入统", "人才", "数字化", "展会", "贴息", "补贴"], tmp_path_factory.mktemp("unknown") / "index",
                        threshold=0.0)
    a.region_absent_min = 0.4
    return a


@pytest.mark.parametrize("question", ["岚皋县对企业招用退役军人有什么补贴？", "岚皋县企业给职工交住房公积金有没有补贴？",
                                      "岚皋县企业缴纳住房公积金，单位缴存比例是多少？"])  # a figure asked of it
def test_the_place_s_nearest_clause_is_shown_as_nearest_not_as_the_rule(answerer, question):
    a = answerer.answer(question)
    assert not a.refused and a.decision == Reason.REFUSED_REGION.value
    assert a.region_note and "没有找到针对它的规定" in a.region_note and "没有提到" in a.region_note
    assert {c.doc_id for c in a.citations} == {LANGAO}  # its own nearest clause; no other place's rule is about the word
    named = re.findall("「([^」]+)」", a.region_note)
    assert named and not any(w != v and w in v for w in named for v in named)  # each word once, not its parts too


@pytest.mark.parametrize("question, fact", [("岚皋县企业技术改造补助比例是多少？", "9%"),
                                            ("岚皋县企业头一回入规能奖多少钱？", "8万元")])  # 入规能: a word glued to 能
def test_a_question_on_what_the_place_writes_is_answered_plainly(answerer, question, fact):
    a = answerer.answer(question)
    assert a.decision == Reason.ANSWERED.value and a.region_note is None
    assert fact in a.text and {c.doc_id for c in a.citations} == {LANGAO}
