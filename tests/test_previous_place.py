"""In a conversation, a question that names no place is asked where the previous question was
(「永丰对贷款贴息有什么支持？」 then 「企业参加境外展会，展位费补多少？」), unless it names its own.
``tests/data/compare/``: two county rules written for the comparison tests, both with an
exhibition subsidy (永丰 50%, 德清 60%)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer
from policyqa.qa.types import Turn

DATA = Path(__file__).parent / "data" / "compare"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["贴息", "展会", "展位费", "隐形冠军"], tmp_path_factory.mktemp("place") / "index", threshold=0.0)


def _then(answerer, first: str, question: str):
    a = answerer.answer(first)
    return answerer.answer(question, history=[Turn(first, a.text, a.resolved_question)])


@pytest.mark.parametrize("first, rate, other", [
    ("永丰对企业贷款贴息有什么支持？", "50%", "60%"),
    ("德清对企业贷款贴息有什么支持？", "60%", "50%"),
])
def test_a_question_naming_no_place_is_asked_where_the_previous_one_was(answerer, first, rate, other):
    text = body(_then(answerer, first, "我们打算参加境外专业展会，展位费补助比例是多少？"))
    assert rate in text and other not in text, text


def test_a_question_naming_its_own_place_keeps_it(answerer):
    text = body(_then(answerer, "永丰对企业贷款贴息有什么支持？", "德清参加境外专业展会，展位费补助比例是多少？"))
    assert "60%" in text and "50%" not in text, text



@pytest.fixture(scope="module")
def same_province(tmp_path_factory):
    """Two counties of one province (信丰 40%, 永丰 50%: ``tests/data/previous_place/``)."""
    return folder_answerer(Path(__file__).parent / "data" / "previous_place", ["展位费", "专精特新"],
                           tmp_path_factory.mktemp("province") / "index", threshold=0.0)


@pytest.mark.parametrize("first, rate, other", [
    ("评上江西省的专精特新，信丰县里奖多少？", "40%", "50%"),  # the province of an honour named before the county asked
    ("永丰对评上江西省专精特新的企业奖多少？", "50%", "40%"),
])
def test_the_place_asked_about_is_kept_not_the_province_of_an_honour(same_province, first, rate, other):
    text = body(_then(same_province, first, "我们打算参加境外专业展会，展位费补助比例是多少？"))
    assert rate in text and other not in text, text
