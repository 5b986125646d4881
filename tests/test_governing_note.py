"""A responsible-unit question about what the whole document is about (「安阳中小企业数字化转型
的牵头单位是谁？」 of a 数字化转型 责任分工方案 whose every section mentions 中小企业数字化转型) is
answered with the lead unit of the section named for it (「一、加快数字化改造提升」), not
with another section's whose items repeat the words in passing (专项贷款 for 数字化转型 under
「二、强化金融服务保障」): the question's words, all the title's, tell no passage apart; a note
governs its section (``shapes._governing_note``, ``features.about_title``).

``tests/data/governing_note/``: a city responsibility-division plan written for this test."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer, jieba_tokenizer
from policyqa.qa.features import about_title, make_query

DATA = Path(__file__).parent / "data" / "governing_note"
TITLE = "安阳市推进中小企业数字化转型三年行动责任分工方案"


def test_a_question_about_the_title_s_topic():
    tok = jieba_tokenizer().tokenize
    assert about_title(make_query("中小企业数字化转型的牵头单位是谁？", tok, None), TITLE)
    assert not about_title(make_query("数字化转型专项贷款的牵头单位是谁？", tok, None), TITLE)  # 贷款: a section's own word
    assert not about_title(make_query("牵头单位是谁？", tok, None), TITLE)  # no topic word at all


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["数字化转型", "贷款", "人才", "诊断"], tmp_path_factory.mktemp("governing") / "index", threshold=0.0)


def test_the_section_named_for_the_document_s_topic_gives_the_lead_unit(answerer):
    a = answerer.answer("安阳中小企业数字化转型的牵头单位是谁？")
    assert "牵头单位：市工业和信息化局" in body(a), a.text
    assert "一、加快数字化改造提升" in body(a)  # the section it governs


@pytest.mark.parametrize("question, unit", [("安阳中小企业数字化转型专项贷款由哪个部门牵头？", "市地方金融服务中心"),
                                            ("安阳数字化转型人才培训谁牵头？", "市人力资源和社会保障局")])
def test_a_question_naming_a_section_s_own_topic_keeps_that_section_s_unit(answerer, question, unit):
    assert f"牵头单位：{unit}" in body(answerer.answer(question))
