"""Documents that state no place: never filed under a place they merely mention, and
quoted for a regional question with 「是否适用请核实」, not as another region's rule."""

from __future__ import annotations

from datetime import date

import pytest

from fakes import folder_answerer
from policyqa.corpus.regions import Region, dominant_region

NATIONWIDE_STORY = (
    "道路客运有序恢复\n连日来，交通运输部门做好返程运输保障。截至目前，江苏、浙江、安徽、福建、山东、"
    "湖南、广东、重庆、四川等九省份已恢复省际道路客运，河北、辽宁也已部分恢复。"
)

PLACELESS_GUIDE = (
    "餐饮服务单位防控指引\n"
    "一、就餐方式\n"
    "餐饮服务单位应当推行扫码点餐和无接触结账，就餐人员间隔一米以上就座。\n"
    "二、人员要求\n"
    "从业人员上岗前测量体温，来自湖北的人员按规定居家观察。\n"
)

OWN_NOTICE = (
    "宿州市人民政府办公室关于支持人才公寓建设的通知\n宿政办发〔2024〕3号\n"
    "一、对新建人才公寓的企业，按每套1万元给予补助，单个企业最高100万元。\n"
    "宿州市人民政府办公室\n2024年3月1日\n"
)


def test_a_story_naming_many_provinces_is_about_none_of_them():
    assert dominant_region(NATIONWIDE_STORY) == Region()


def test_a_place_named_by_most_mentions_is_the_documents_place():
    text = "宿州市召开新闻发布会。宿州市工信局介绍，宿州将对技改项目给予补助。记者从合肥出发。"
    assert dominant_region(text).full == "安徽省宿州市"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    (root / "guide.txt").write_text(PLACELESS_GUIDE, encoding="utf-8")
    (root / "story.txt").write_text(NATIONWIDE_STORY, encoding="utf-8")
    (root / "suzhou.txt").write_text(OWN_NOTICE, encoding="utf-8")
    ans = folder_answerer(root, ["点餐", "补助"], root / "index", today=lambda: date(2026, 11, 22))
    metas = ans.docs
    assert metas["guide.txt"].jurisdiction == "" and metas["guide.txt"].region == ""
    assert metas["story.txt"].region == ""  # nine provinces named: none of them is its place
    assert metas["suzhou.txt"].jurisdiction == "安徽省宿州市"
    return ans


def test_a_placeless_documents_rule_is_offered_for_checking_not_ruled_out(answerer):
    a = answerer.answer("宿州市餐饮服务单位推行什么点餐方式？")
    assert not a.refused
    assert "扫码点餐" in a.text
    assert a.region_note and "没有写明适用地区" in a.region_note and "请核实" in a.region_note
    assert "不适用于" not in a.region_note  # it is not another region's rule


def test_the_regions_own_document_still_answers_without_a_note(answerer):
    a = answerer.answer("宿州市人才公寓每套补助多少？")
    assert not a.refused and "1万元" in a.text
    assert not a.region_note


def test_the_region_note_tells_unplaced_rules_from_other_regions_rules():
    from policyqa.qa.decision import Decision, Reason, region_note

    shown = (object(),)  # the note depends only on there being statements, not on what they are
    only_unplaced = region_note(Decision(Reason.REFUSED_REGION, shown, regions=("安徽省宿州市",), unplaced=True, other_regions=False))
    assert "没有写明适用地区" in only_unplaced and "不适用于" not in only_unplaced
    mixed = region_note(Decision(Reason.REFUSED_REGION, shown, regions=("安徽省宿州市",), unplaced=True, other_regions=True))
    assert "没有写明适用地区" in mixed and "不适用于安徽省宿州市" in mixed
    placed = region_note(Decision(Reason.REFUSED_REGION, shown, regions=("安徽省宿州市",)))
    assert "不适用于安徽省宿州市" in placed and "没有写明适用地区" not in placed
