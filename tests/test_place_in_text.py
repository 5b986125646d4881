"""Documents that state no place, read for a place their passage names.

``tests/data/unplaced_named/`` (written for these tests): two notices with no issuer
and no place in their titles.  One grants a hiring subsidy and names 江门市 in that
clause; the other grants a training subsidy and names no place.  A question about
江门 is answered from the first with a lead saying the document states no place but
its text names 江门; a question about another city, or about the other subsidy, is not.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fakes import body, folder_answerer
from policyqa.qa.decision import Decision, Reason, lead_text

DATA = Path(__file__).parent / "data" / "unplaced_named"


@pytest.fixture(scope="module")
def ask(tmp_path_factory):
    return folder_answerer(DATA, ["招用", "员工", "补贴", "培训"], tmp_path_factory.mktemp("unplaced") / "index",
                           today=lambda: date(2026, 6, 1), threshold=0.0).answer


def test_a_passage_naming_the_asked_place_answers_for_it_and_says_how_it_was_placed(ask):
    a = ask("江门市企业新招用员工补贴多少？")
    assert a.decision == Reason.ANSWERED.value and not a.refused
    b = body(a)
    assert "1000元" in b and "原文提到" in b and "江门" in b.split("原文提到", 1)[1]
    assert "没有找到" not in b


def test_another_place_is_not_answered_as_if_the_text_named_it(ask):
    a = ask("佛山市企业新招用员工补贴多少？")
    assert a.decision == Reason.REFUSED_REGION.value
    assert "原文提到" not in body(a) and "核实" in body(a)


def test_naming_the_place_does_not_make_a_passage_on_another_topic_the_answer(ask):
    """The passage is chosen on the topic without the place names: the training notice, which
    names no place, answers the training question (with the "may apply, check" lead)."""
    a = ask("江门市职工线上培训补贴多少？")
    b = body(a)
    assert "20元" in b and "1000元" not in b and "原文提到" not in b


def test_the_lead_is_rendered_from_the_decision():
    d = Decision(Reason.ANSWERED, regions=("广东省江门市",), named_in_text=True)
    assert lead_text(d) == "以下内容出自没有写明适用地区的文件，其原文提到广东省江门市。"
    assert lead_text(Decision(Reason.ANSWERED, regions=("广东省江门市",))) == ""
