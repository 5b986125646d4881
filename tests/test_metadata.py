"""Exact metadata of the five built-in documents; empty where the text is silent.

Jurisdiction: 000 is an interview of 宿迁's 工信局 (city), 001 of 亭湖区's (county);
002 is issued by a 徐州 office (city), 003 by 漯河's government (title and an
addressee line of a city), 004 by a 宿州 office (city)."""

import pytest

from policyqa.corpus.clean import prepare
from policyqa.corpus.metadata import extract_metadata
from policyqa.corpus.pipeline import builtin_corpus_dir, load_corpus
from policyqa.corpus.types import Period

EXPECTED = {
    "000_df2ff32941c852ae.txt": dict(
        title="", issuer="宿迁市工业和信息化局", date="", dates=(), doc_number="",
        region="江苏省宿迁市", province="江苏省", city="宿迁市", district="", doc_type="interview", period=None,
        issuer_level="city", jurisdiction="江苏省宿迁市", valid_from="", valid_to=""),
    "001_19db83a107069549.txt": dict(
        title="强化政策服务 聚力推动产业新城建设", issuer="亭湖区工信局", date="2020-09-09",
        dates=(("访谈时间", "2020-09-09"),), doc_number="", region="江苏省盐城市亭湖区", province="江苏省",
        city="盐城市", district="亭湖区", doc_type="interview", period=None,
        issuer_level="county", jurisdiction="江苏省盐城市亭湖区", valid_from="", valid_to=""),
    "002_697662195d68ce1c.txt": dict(
        title="关于印发《徐州市落实省政府办公厅关于专精特新企业培育三年行动计划(2023-2025年)责任分工方案》的通知",
        issuer="徐州市促进中小企业发展工作领导小组办公室", date="2023-03-19",
        dates=(("成文日期", "2023-03-19"), ("发布时间", "2023-03-31"), ("落款", "2023-03-19")),
        doc_number="徐中小办发〔2023〕3号", region="江苏省徐州市", province="江苏省", city="徐州市", district="",
        doc_type="notice", period=Period(2023, 2025, "2023-2025年"),
        issuer_level="city", jurisdiction="江苏省徐州市", valid_from="", valid_to=""),
    "003_ff27b125962f3501.txt": dict(
        title="漯河市工业扩量提质转型升级行动实施意见", issuer="", date="2017-10-24",
        dates=(("落款", "2017-10-24"),), doc_number="", region="河南省漯河市", province="河南省", city="漯河市",
        district="", doc_type="plan", period=Period(2017, 2020, "2017年-2020年"),
        issuer_level="city", jurisdiction="河南省漯河市", valid_from="2017-01-01", valid_to="2020-12-31"),
    "004_a8837981a284b011.txt": dict(
        title="宿州市制造业提质扩量增效“2321”行动计划2023年工作要点",
        issuer="宿州市工业强市推进工作领导小组办公室", date="2023-02-08", dates=(("落款", "2023-02-08"),),
        doc_number="", region="安徽省宿州市", province="安徽省", city="宿州市", district="",
        doc_type="work-points", period=Period(2023, 2023, "2023年"),
        issuer_level="city", jurisdiction="安徽省宿州市", valid_from="", valid_to=""),
}


@pytest.mark.parametrize("doc_id", sorted(EXPECTED))
def test_seed_metadata_exact(doc_id):
    raw = (builtin_corpus_dir() / doc_id).read_text(encoding="utf-8")
    meta = extract_metadata(doc_id, prepare(raw))
    got = {k: getattr(meta, k) for k in EXPECTED[doc_id]}
    assert got == EXPECTED[doc_id]


def test_load_corpus_gives_the_same_metadata_and_ids():
    report = load_corpus()
    assert report.ok
    assert [d.doc_id for d in report.documents] == sorted(EXPECTED)
    for d in report.documents:
        assert d.meta.title == EXPECTED[d.doc_id]["title"]
        assert d.meta.source.endswith(d.doc_id)


def test_cited_document_numbers_are_not_taken_as_the_documents_own():
    text = "根据《若干政策意见》(亭政发〔2020〕10号),对企业给予补助。\n2020年5月1日"
    assert extract_metadata("x.txt", text).doc_number == ""
    assert extract_metadata("y.txt", "苏政办发〔2023〕3号\n关于印发某方案的通知\n正文。").doc_number == "苏政办发〔2023〕3号"


def test_meta_round_trips_through_dict():
    report = load_corpus()
    from policyqa.corpus.types import DocMeta
    for d in report.documents:
        assert DocMeta.from_dict(d.meta.to_dict()) == d.meta


def test_title_issuer_and_date_under_the_title():
    text = "中共某某县委 某某县人民政府\n关于支持重点产业\n加快发展的实施意见\n（2023年2月8日）\n为加快发展，提出如下意见。\n一、总则"
    m = extract_metadata("x.html", text, title_hint="某某县人民政府门户网站")
    assert (m.title, m.issuer, m.date, m.dates) == ("关于支持重点产业加快发展的实施意见", "中共某某县委 某某县人民政府", "2023-02-08",
                                                     (("题注", "2023-02-08"),))


def test_joint_issuers_signing_on_one_or_several_lines():
    one = "关于某事的通知\n正文。\n工业和信息化部 财政部\n2023年1月5日"
    several = "关于某事的通知\n正文。\n工业和信息化部\n财政部\n2023年1月5日"
    assert extract_metadata("a", one).issuer == extract_metadata("b", several).issuer == "工业和信息化部 财政部"
    assert extract_metadata("a", one).issuer_level == "national"
    assert extract_metadata("c", "国务院办公厅关于某事的通知\n国办发〔2024〕1号\n正文。").issuer == "国务院办公厅"
    assert extract_metadata("d", "某某县人民政府文件\n某政发〔2024〕1号\n关于某事的通知\n正文。").issuer == "某某县人民政府"


def test_a_target_year_is_not_a_period():
    m = extract_metadata("n.txt", "关于推进某事的通知\n到2027年，累计培育企业1万家。\n国务院办公厅\n2024年3月15日")
    assert m.period is None and m.valid_to == ""


def test_a_document_flattened_onto_one_line_still_gives_its_metadata():
    flat = ("财政部 海关总署 税务总局关于支持某类物资进口的税收政策的公告 财政部公告2024年第9号 "
            "为支持相关工作，现就有关税收政策公告如下： 一、对捐赠用于相关工作的进口物资，免征进口关税。 "
            "二、本公告自2024年1月1日起实施，执行至2024年12月31日。 财政部 海关总署 税务总局 2024年2月1日")
    m = extract_metadata("flat.txt", flat)
    assert (m.title, m.issuer, m.date) == ("财政部 海关总署 税务总局关于支持某类物资进口的税收政策的公告", "财政部 海关总署 税务总局", "2024-02-01")
    assert (m.issuer_level, m.jurisdiction, m.valid_from, m.valid_to) == ("national", "全国", "2024-01-01", "2024-12-31")


def test_a_body_named_in_a_news_story_does_not_decide_the_jurisdiction():
    news = "某地多举措支持企业复工 新华社电 记者从南京市获悉，璧山区党委负责同志表示将加大支持。南京市各部门、南京市各区积极行动。"
    m = extract_metadata("news.txt", news)
    assert m.issuer == "璧山区党委" and m.jurisdiction == "江苏省南京市"  # the issuer field is kept, the body decides
