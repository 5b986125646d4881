"""A place name that begins with an ordinary word (和县, 会同县) is a place only in a place's
context, not where the text is that word and a level word (corpus.regions)."""

from __future__ import annotations

import pytest

from policyqa.corpus.regions import dominant_region, find_mentions


def _places(text: str, short: bool = True) -> list[str]:
    return [m.regions[0].full for m in find_mentions(text, short_districts=short)]


@pytest.mark.parametrize("text", [
    "奖励资金市里和县里各出多少？",
    "由市和县两级财政共同承担",
    "行业性社会组织和县级以上人民政府",
    "由县经济和信息化局会同县财政局审核",
    "去年和县里谈过这个项目",
])
def test_a_word_followed_by_a_level_word_is_no_place(text):
    assert not any(p.endswith(("和县", "会同县")) for p in _places(text)), _places(text)


@pytest.mark.parametrize("text, place", [
    ("和县对小巨人企业奖励多少？", "安徽省马鞍山市和县"),
    ("安徽和县的企业有什么补贴", "安徽省马鞍山市和县"),
    ("马鞍山市和县的技改政策", "安徽省马鞍山市和县"),
    ("我们想在和县投资建厂", "安徽省马鞍山市和县"),
    ("怀化会同县的企业", "湖南省怀化市会同县"),
    ("Question about 和县 subsidies", "安徽省马鞍山市和县"),
])
def test_the_place_itself_is_still_found(text, place):
    assert place in _places(text)


def test_other_names_are_unaffected():
    assert "安徽省宿州市萧县" in _places("萧县的企业有什么奖励")
    assert "江苏省宿迁市" in _places("宿迁和亭湖对小巨人分别奖多少")


def test_a_notice_that_works_with_other_departments_is_not_read_as_that_county():
    # a county notice of 浙江省 whose departments act 「会同县财政局」: not 湖南省会同县's
    text = ("为推动全县制造业发展，根据《浙江省人民政府关于加快制造业发展的意见》，制定本政策。\n"
            "第一条 对首次上规的企业奖励10万元，由县经济和信息化局会同县财政局审核。\n"
            "第二条 对获得“浙江制造”认证的企业奖励20万元，由县市场监管局会同县财政局审核。\n"
            "第三条 本政策由县经济和信息化局会同县财政局负责解释。\n"
            "第四条 符合本政策和县内其他政策的，按就高原则执行。")
    assert "会同" not in dominant_region(text).full
    assert dominant_region(text).province in ("", "浙江省")


# A name of one character and its level (范县, 沛县) inside a longer word, and a name that is
# itself an ordinary word (城区 "urban area", 郊区 "suburbs"): no place unless the context says so.

@pytest.mark.parametrize("text, word", [
    ("国家级示范县有什么奖励？", "范县"),
    ("对新评为省级示范县的给予奖励", "范县"),
    ("宿迁主城区的企业技改有什么补贴？", "城区"),
    ("中心城区企业搬迁有补贴吗", "城区"),
    ("城区的企业有什么补贴", "城区"),
    ("对城郊区域和郊区工业园区的企业", "郊区"),
])
def test_a_name_inside_a_word_or_an_ordinary_word_is_no_place(text, word):
    assert not [m for m in find_mentions(text, short_districts=True) if m.text == word], _places(text)


@pytest.mark.parametrize("text, place", [
    ("河南范县的企业有什么补贴", "河南省濮阳市范县"),
    ("濮阳市范县对小巨人奖励多少", "河南省濮阳市范县"),
    ("我们在范县投资建厂", "河南省濮阳市范县"),
    ("范县的技改政策", "河南省濮阳市范县"),
    ("徐州沛县和丰县分别奖多少", "江苏省徐州市沛县"),
    ("阳泉市城区的企业有什么补贴", "山西省阳泉市城区"),
    ("大同城区的技改补贴", "山西省大同市城区"),
])
def test_one_character_names_and_word_names_in_a_place_context_are_found(text, place):
    assert place in _places(text)


def test_a_county_notice_about_demonstration_counties_is_not_placed_in_fan_county():
    text = ("为推进县域经济高质量发展，根据省里部署，开展示范县创建工作。\n"
            "一、对新评为国家级示范县的，奖励500万元；对新评为省级示范县的，奖励200万元。\n"
            "二、示范县创建工作由省发展改革委会同有关部门组织实施。\n"
            "三、主城区和中心城区的企业按本通知执行。")
    assert "范县" not in dominant_region(text).full
    assert "城区" not in dominant_region(text).full


@pytest.mark.parametrize("text", ["我们想跟职业学校合作搞订单班培养工人，政府能补多少钱？", "我们在园区新建厂房，接水接气有补贴吗？",
                                  "惠民政策有哪些？", "振兴实体经济的措施", "新兴产业项目补多少？"])
def test_a_county_name_that_is_an_everyday_word_names_no_place(text):
    assert find_mentions(text, short_districts=True) == []


def test_such_a_name_with_its_suffix_or_after_its_province_is_the_place():
    assert [m.text for m in find_mentions("在新建区投资有补贴吗", short_districts=True)] == ["新建区"]
    assert "合作市" in [m.text for m in find_mentions("甘肃合作市的企业", short_districts=True)]
    assert [m.text for m in find_mentions("天门的企业技改补多少", short_districts=True)] == ["天门"]  # a name mostly meant as the place
