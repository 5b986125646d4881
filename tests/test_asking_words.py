"""A word that asks whether something is allowed or excluded (不能, 可否, 能不能 …: cues.json
rule_asked, rule_modals, exclusion_negations) is how the question asks, not its topic: a place
whose documents write 「不予享受」 is not read as lacking the topic because another place's
passage writes 「不能享受」 (``features.region_absent_terms``, ``Answerer._elsewhere``).

``tests/data/asking_words/``: two county policies written for this test.  临泽 lists who is
excluded (「有下列情形之一的企业，不予享受本措施奖补」); 宁陵 writes 「…的企业，不能享受本政策奖励」."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import folder_answerer, jieba_tokenizer
from policyqa.qa.decision import Reason
from policyqa.qa.features import make_query, region_absent_terms

DATA = Path(__file__).parent / "data" / "asking_words"
LINZE = "linze-gongye-2025.txt"
LINZE_TEXT = (DATA / LINZE).read_text(encoding="utf-8").lower()
OUTSIDE = "被列入严重失信主体名单的企业，不能享受本政策奖励；对跨境电商企业给予平台服务费补贴。"


def _query(text: str):
    return make_query(text, jieba_tokenizer().tokenize, None)


@pytest.mark.parametrize("question", ["哪些企业不能享受奖补？", "失信企业可否享受奖补？", "失信企业能不能拿奖补？"])
def test_an_asking_word_is_never_a_missing_topic_word(question):
    q = _query(question)
    assert region_absent_terms(q, [LINZE_TEXT], OUTSIDE) == []


def test_a_topic_word_only_the_other_place_writes_is_still_missing():
    q = _query("企业做跨境电商能不能拿补贴？")
    missing = region_absent_terms(q, [LINZE_TEXT], OUTSIDE)
    assert "".join(missing) == "跨境电商" and "能不能" not in missing


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    a = folder_answerer(DATA, ["不予享受", "不能享受", "失信", "奖补", "技术改造", "机器人"], tmp_path_factory.mktemp("asking") / "index",
                        threshold=0.0)
    a.region_absent_min = 0.2
    return a


def test_asked_who_is_excluded_the_place_answers_with_its_own_exclusions(answerer):
    a = answerer.answer("临泽县哪些企业是不能享受奖补的？")
    assert a.decision == Reason.ANSWERED.value and a.region_note is None
    assert "严重失信主体名单" in a.text and {c.doc_id for c in a.citations} == {LINZE}
