"""A condition question about one programme of a list of programmes (「招工补贴要满足什么条件？」
where 一、 lists （一）引进高层次人才 （二）培育技能人才 （三）给予招工补贴) is answered with that
programme's own conditions, not with the enumeration of its sibling programmes; conditions that
are themselves listed as items under a heading (「二、申报条件 1. 2. 3.」) are still answered as
the whole list (``shapes._own_programme``).

``tests/data/own_programme/``: a county policy written for this test (泸溪县)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import body, folder_answerer
from policyqa.qa.decision import Reason

DATA = Path(__file__).parent / "data" / "own_programme"
VOCABULARY = ["招工", "人才", "技能", "住房", "补贴", "条件", "申报", "博士", "职业资格"]


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, VOCABULARY, tmp_path_factory.mktemp("own_programme") / "index", threshold=0.0)


@pytest.mark.parametrize("question, own, siblings", [
    ("泸溪县招工补贴要满足什么条件？", ["1年以上劳动合同", "满6个月", "800元", "10万元"], ["5万元", "2000元", "人才公寓"]),
    ("泸溪县的技能提升补贴有什么要求？", ["技师", "1000元"], ["招工补贴", "安家补贴", "人才公寓"]),
])
def test_conditions_of_one_programme_are_its_own(answerer, question, own, siblings):
    a = answerer.answer(question)
    assert a.decision == Reason.ANSWERED.value, a.text
    text = body(a)
    assert all(w in text for w in own), text
    assert not any(w in text for w in siblings), text


def test_conditions_listed_as_items_are_all_listed(answerer):
    a = answerer.answer("在泸溪县申报这些补贴，企业要满足哪些条件？")
    text = body(a)
    for cond in ("独立法人资格", "欠缴税款", "生产安全事故"):
        assert cond in text, text


def test_a_document_s_top_level_parts_are_not_listed_as_an_enumeration(tmp_path):
    """「首次升规要什么条件？」 over a notice whose parts are 一、奖励标准 二、升规奖励 三、申报条件:
    the 升规 part states its own condition (2000万元以上的), and the answer is that part — not
    every part of the notice in a row (tests/data/conditions, written for the follow-up tests)."""
    a = folder_answerer(Path(__file__).parent / "data" / "conditions", ["单项冠军", "小巨人", "升规", "条件", "材料"],
                        tmp_path / "index", threshold=0.0).answer("金华首次升规要什么条件？")
    text = body(a)
    assert "2000万元" in text and "120万元" not in text, text


def test_a_document_s_untitled_top_level_parts_are_not_listed(tmp_path):
    """A notice of untitled top-level parts (一、… 二、… 三、…): a question answered by one part
    gets that part, not every part of the document in a row."""
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "notice.txt").write_text(
        "某市关于做好企业复工防疫工作的通知\n\n某政发〔2025〕1号\n\n"
        "一、企业食堂应当错峰就餐，就餐人员间隔一米以上，不得聚集。\n"
        "二、企业应当每日对车间、办公场所进行两次消毒，并做好消毒记录。\n"
        "三、企业员工出现发热症状的，应当立即停止工作并及时就医。\n"
        "四、企业应当储备不少于七天用量的口罩和消毒用品。\n", encoding="utf-8")
    a = folder_answerer(folder, ["食堂", "消毒", "发热", "口罩", "就餐"], tmp_path / "index", threshold=0.0).answer(
        "某市对企业车间消毒提出了哪些要求？")
    text = body(a)
    assert "两次消毒" in text and "错峰就餐" not in text and "七天" not in text, text
