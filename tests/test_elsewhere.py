"""A question naming a place whose documents lack its topic words, while another place's
passage states them, is read as about that other place's rule (``Answerer._elsewhere``).

``tests/data/elsewhere/``: three county policies written for this test.  歙县 rewards new
小巨人, 技改 and 绿色工厂; 永安 rewards 小巨人 that pass their review (复核), mergers
(兼并重组) and cross-border e-commerce (跨境电商); 建德 rewards mergers too, at another rate.  Asked 「歙县…兼并重组…」, the answer must not pass
歙县's nearest rule off as the answer, nor 永安's as 歙县's: it says 歙县's documents state no
such rule, shows 歙县's closest clause first and then 永安's, labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import folder_answerer
from policyqa.eval.train import choose_region_absent_min
from policyqa.qa.decision import Reason

DATA = Path(__file__).parent / "data" / "elsewhere"
VOCABULARY = ["小巨人", "复核", "技术改造", "绿色工厂", "兼并重组", "跨境电商", "规模以上"]
LEVEL = 0.2  # the check's level in these tests (the shipped one is chosen by ``policyqa train``)


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    a = folder_answerer(DATA, VOCABULARY, tmp_path_factory.mktemp("elsewhere") / "index", threshold=0.0)
    a.region_absent_min = LEVEL
    return a


def _docs(answer) -> list[str]:
    return [c.doc_id for c in answer.citations]


@pytest.mark.parametrize("question,figure", [
    ("歙县企业把外地一家厂兼并重组过来，注册地也迁过来了，有奖励吗？", "1%"),
    ("歙县企业做跨境电商出口，平台服务费能补多少？", "30%"),
])
def test_a_topic_only_another_place_states_is_answered_as_that_places_rule(answerer, question, figure):
    a = answerer.answer(question)
    assert a.decision == Reason.REFUSED_REGION.value and not a.refused
    assert a.region_note and "歙县的文件中没有找到" in a.region_note and "不适用于" in a.region_note
    assert figure in a.text and "永安" in a.text  # the other place's rule, labelled with its place
    assert _docs(a)[0] == "shexian-gongye-2025.txt"  # the place's own closest clause first, as the lead says
    assert "yongan-gongye-2025.txt" in _docs(a)


def test_every_other_place_that_states_the_rule_is_shown_each_with_its_own_figure(answerer):
    """永安 and 建德 both reward mergers, at 1% and 2%: each is judged on its own passages
    and shown with its place, up to ``other_places`` of them."""
    q = "歙县企业把外地一家厂兼并重组过来，注册地也迁过来了，有奖励吗？"
    a = answerer.answer(q)
    assert {"yongan-gongye-2025.txt", "jiande-gongye-2025.txt"} <= set(_docs(a))
    assert "永安" in a.text and "1%" in a.text and "建德" in a.text and "2%" in a.text
    answerer.other_places = 1
    try:
        one = answerer.answer(q)
    finally:
        answerer.other_places = 2
    assert len({"yongan-gongye-2025.txt", "jiande-gongye-2025.txt"} & set(_docs(one))) == 1


@pytest.mark.parametrize("question,figure", [
    ("歙县对企业技术改造项目补助比例是多少？", "8%"),
    ("歙县新认定的省级专精特新中小企业奖多少？", "30万元"),
])
def test_a_topic_the_place_states_is_answered_from_its_own_documents(answerer, question, figure):
    a = answerer.answer(question)
    assert a.decision == Reason.ANSWERED.value and a.region_note is None
    assert figure in a.text and set(_docs(a)) == {"shexian-gongye-2025.txt"}


def test_without_the_check_the_places_nearest_rule_is_the_answer(tmp_path):
    """What the check prevents: the merger question answered with one of 歙县's own rewards."""
    a = folder_answerer(DATA, VOCABULARY, tmp_path / "index", threshold=0.0)
    a.region_absent_min = None
    got = a.answer("歙县企业把外地一家厂兼并重组过来，注册地也迁过来了，有奖励吗？")
    assert got.decision == Reason.ANSWERED.value and set(_docs(got)) == {"shexian-gongye-2025.txt"}


def test_the_level_is_the_one_that_reads_most_region_questions_right():
    view = [(0.0, True)] * 6 + [(0.12, True), (0.35, True)] + [(0.0, False), (0.25, False), (0.3, False), (0.5, False)]
    level, info = choose_region_absent_min(view, grid=(0.1, 0.2, 0.3, 0.4))
    # 0.2: 3 traps flagged, 1 answerable question flagged (+2); 0.1 flags one more answerable, 0.3 one trap fewer
    assert level == 0.2 and info["flagged_elsewhere"] == 0.75 and info["flagged_inside"] == 0.125
    assert view[6] == (0.12, True)  # the input is not changed
    assert choose_region_absent_min([(0.1, True)], grid=(0.1, 0.2))[0] == 0.2  # nothing to separate: the strictest level


def test_the_level_counts_questions_so_a_few_traps_do_not_buy_many_false_flags():
    """Traps are few among questions naming a place: a level flagging 10 of 100 answerable
    questions to catch 2 more traps reads fewer questions right (Youden's J would take it)."""
    view = [(0.0, True)] * 90 + [(0.1, True)] * 10 + [(0.1, False), (0.1, False), (0.5, False), (0.5, False)]
    assert choose_region_absent_min(view, grid=(0.1, 0.4))[0] == 0.4


def test_the_shipped_answerability_model_holds_a_fitted_level():
    from policyqa.qa.features import ANSWERABILITY_FEATURES
    from policyqa.qa.model import load_model

    level = load_model("answerable", ANSWERABILITY_FEATURES).params.get("region_absent_min")
    assert level is not None and 0.0 < level < 1.0


def test_a_follow_up_moving_to_a_place_without_the_rule_shows_the_previous_places(answerer):
    """「那歙县呢？」 after 建德's merger reward: 歙县 has none, and of the places that have one (永安 1%,
    建德 2%) the one shown is the place the user is comparing with, the previous turn's (asked
    afresh, 永安's is the closer wording)."""
    first = answerer.answer("建德企业兼并重组市外企业有奖励吗？")
    assert first.decision == Reason.ANSWERED.value and "2%" in first.text
    a = answerer.answer("那歙县呢？", history=[{"question": first.question, "answer": first.text,
                                               "citations": [c.__dict__ for c in first.citations]}])
    assert a.decision == Reason.REFUSED_REGION.value and "歙县的文件中没有找到" in (a.region_note or "")
    assert "jiande-gongye-2025.txt" in _docs(a) and "yongan-gongye-2025.txt" not in _docs(a)
    assert "2%" in a.text


def test_asked_afresh_any_place_with_the_rule_may_be_shown(answerer):
    a = answerer.answer("歙县企业兼并重组外地企业有奖励吗？")
    assert a.decision == Reason.REFUSED_REGION.value
    assert {"yongan-gongye-2025.txt", "jiande-gongye-2025.txt"} & set(_docs(a))
