"""Who is excluded from a benefit (「哪些情况享受不了」, 「什么样的企业不能申报」) is answered by
the units that exclude, not by those that share the question's other words:
``tests/data/exclusions/`` is a county policy written for these tests, with an
exclusion intro whose cases are items of their own, and exclusions inside two items."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer
from policyqa.qa.cues import asks_exclusion, states_exclusion

DATA = Path(__file__).parent / "data" / "exclusions"
CASES = ("被列入严重失信主体名单", "较大及以上生产安全事故", "存在欠缴税款行为")


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["享受", "奖补", "补助", "奖励", "企业"], tmp_path_factory.mktemp("excl") / "index", threshold=0.0)


@pytest.mark.parametrize("question", [
    "什么样的企业在青水享受不了这些奖补？", "哪些情况下企业会被挡在这个政策外面？", "青水县哪些企业拿不到奖补？",
    "哪些企业不能申报青水县的奖补？", "有没有企业是没资格享受青水这套措施的？"])
def test_an_exclusion_question_is_asked(question):
    assert asks_exclusion(question)


@pytest.mark.parametrize("question", [
    "青水县技改补助能不能享受？", "政府给不给奖励？", "小升规奖补不补？", "可不可以申报？", "技改补助多少？", "营收还不到两千万，能拿多少？"])
def test_yes_or_no_and_figure_questions_are_no_exclusion(question):
    assert not asks_exclusion(question)


def test_exclusion_clauses():
    assert states_exclusion("有下列情形之一的企业，不得享受本措施：")
    assert states_exclusion("退库后重新纳入规模以上工业统计的企业，不予奖励。")
    assert states_exclusion("房地产、金融等领域不在申报范围。")
    assert not states_exclusion("对首次纳入规模以上工业统计的企业，给予一次性奖励10万元。")
    assert not states_exclusion("同一项目不得重复享受。") and not states_exclusion("按差额补足。")


def test_who_is_excluded_gets_every_listed_case_and_the_exclusions_of_items(answerer):
    text = body(answerer.answer("什么样的企业在青水享受不了这些奖补？"))
    assert all(case in text for case in CASES)
    assert "不再享受本项补助" in text and "不予奖励" in text  # the items' own exclusions
    assert "给予一次性奖励30万元" not in text  # a rule that excludes no one is not listed
    at = [text.find(s) for s in ("不再享受本项补助", "不予奖励", CASES[0], CASES[2])]
    assert at == sorted(at)  # in document order


def test_an_exclusion_threshold_question_gets_the_clause_that_excludes(answerer):
    text = body(answerer.answer("青水县技改项目在什么情况下就不能享受技改补助了？"))
    assert "不再享受本项补助" in text


def test_a_case_of_an_exclusion_is_quoted_after_its_intro():
    from policyqa.qa.candidates import cases_intro

    text = "有下列情形之一的，不予补助：（一）服务合同未备案的；（二）项目未通过竣工验收的。对其他项目给予补助。"
    assert cases_intro(text, text.index("（二）")) == "有下列情形之一的，不予补助："
    assert cases_intro(text, text.index("对其他")) == ""  # a sentence after the enumeration is no case of it


def test_the_intro_of_a_case_is_found_in_linear_time_over_a_long_clause():
    import time

    from policyqa.qa.candidates import cases_intro

    text = "甲" * 30000 + "有下列情形之一的，不予补助：（一）" + "乙" * 30000
    t0 = time.perf_counter()
    assert cases_intro(text, len(text) - 1) == "甲" * 30000 + "有下列情形之一的，不予补助："
    assert cases_intro("丙" * 30000, 29999) == ""
    assert time.perf_counter() - t0 < 0.5  # the first form took 4 s at 20,000 characters


def test_whether_a_circumstance_still_qualifies_is_answered_by_the_exclusion_case_naming_it(answerer):
    text = body(answerer.answer("青水县的数字化改造项目还没通过竣工验收，能拿补助吗？"))
    assert "项目未通过竣工验收" in text and "有下列情形之一的，不予补助：" in text
