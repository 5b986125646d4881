"""Matching a profile to policy items (qa/match.py), comparing regions (qa/compare.py),
the knowledge base's item catalogue, and the match / compare / docs --items / eval-match commands.

The knowledge base here is three small policies written for these tests: a
county (测试: 江苏省盐城市射阳县), its province, and another city's county.
"""

import csv
import io
import json
import subprocess
import sys
from datetime import date

import pytest

from policyqa.corpus.items import NATIONAL, Condition, Honour, ItemCatalog
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.corpus.regions import parse_region
from policyqa.corpus.types import DocMeta
from policyqa.corpus.versions import linked
from policyqa.qa.compare import compare
from policyqa.qa.match import (
    Profile, ProfileError, RegionRule, Status, check, match, parse_profile, profile_honours, region_rule,
)
from policyqa.corpus.items import vocabulary

COUNTY = """射阳县支持工业企业高质量发展的若干措施
射政发〔2024〕7号
一、支持企业做大
（一）对年销售收入首次突破2亿元、6亿元的工业企业，分别给予一次性奖励15万元、45万元。
（二）对当年完成设备投资额200万元以上的技术改造项目，按设备投资额的9%给予补助，单个项目最高补助180万元。
二、支持企业创新
（三）对新认定的国家级专精特新“小巨人”企业、省级专精特新中小企业，分别给予一次性奖励70万元、25万元。
（四）对租赁标准厂房的新落户企业，按有关规定给予租金补贴。
三、附则
（五）本措施由射阳县工业和信息化局负责解释，执行期为2024-2026年。射阳县各镇区参照执行。射阳县人民政府
"""

PROVINCE = """江苏省关于支持企业上云的通知
第一条 对新认定的省五星级上云企业，给予一次性奖励12万元。
第二条 对省级示范智能车间，给予一次性奖励90万元。
江苏省工业和信息化厅
2024年2月1日
"""

OTHER = """沭阳县关于加快工业发展的意见
一、对新认定的国家级专精特新“小巨人”企业，奖励55万元。
二、执行期为2018-2020年。沭阳县各乡镇、沭阳县各部门遵照执行。沭阳县人民政府
"""

TODAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    d = tmp_path_factory.mktemp("kb")
    (d / "county.txt").write_text(COUNTY, encoding="utf-8")
    (d / "province.txt").write_text(PROVINCE, encoding="utf-8")
    (d / "other.txt").write_text(OTHER, encoding="utf-8")
    report = load_corpus([d])
    docs = {x.doc_id: x.meta for x in report.documents}
    chunks = chunk_documents(report.documents)
    return d, docs, chunks, ItemCatalog.build(docs, chunks)


def run_match(kb, obj, **kw):
    _, docs, _, cat = kb
    p, unknown = parse_profile(obj)
    return match(p, cat.all_items(), docs, today=TODAY, unknown_fields=unknown, **kw)


def amounts(ms):
    return [(m.item.doc_id, m.item.tier, m.item.amount_wan if m.item.amount_wan is not None else m.item.rate) for m in ms]


def test_fixture_documents_have_the_expected_jurisdictions(kb):
    _, docs, _, cat = kb
    assert {d: cat.items_for(d)[0].jurisdiction for d in docs} == {
        "county.txt": "江苏省盐城市射阳县", "province.txt": "江苏省", "other.txt": "江苏省宿迁市沭阳县"}


# --- the profile ------------------------------------------------------------------------


def test_profile_parsing_reports_unknown_fields_and_accepts_numeric_strings():
    p, unknown = parse_profile({"region": "射阳县", "revenue_wan": "8,000", "honours": "高新技术企业", "boss": "x"})
    assert unknown == ["boss"] and p.revenue_wan == 8000 and p.honours == ("高新技术企业",)
    assert p.tax_paid_wan is None and p.planned_investments is None
    assert p.to_dict() == {"region": "射阳县", "revenue_wan": 8000, "honours": ["高新技术企业"]}


@pytest.mark.parametrize("obj, field", [
    ({"revenue_wan": "八千万"}, "revenue_wan"), ({"tax_paid_wan": -5}, "tax_paid_wan"), ({"employees": True}, "employees"),
    ({"honours": [1, 2]}, "honours"), ({"planned_investments": [{"amount_wan": 3}]}, "planned_investments[0]"),
    ({"planned_investments": {"kind": "设备"}}, "planned_investments"), ({"region": 320000}, "region"),
])
def test_bad_profile_values_raise_one_line_errors_naming_the_field(obj, field):
    with pytest.raises(ProfileError) as e:
        parse_profile(obj)
    assert field in str(e.value) and "\n" not in str(e.value)


def test_profile_must_be_an_object():
    with pytest.raises(ProfileError):
        parse_profile(["region"])


def test_profile_honours_read_level_and_star():
    assert profile_honours(["市级四星级企业", "省智能工厂", "高新技术企业", "国家级专精特新小巨人"]) == [
        Honour("星级企业", "市级", "四星"), Honour("示范智能工厂", "省级"), Honour("高新技术企业", "国家级"),
        Honour("专精特新“小巨人”企业", "国家级")]


# --- region rule ---------------------------------------------------------------------------


def test_region_rule_cases():
    county = parse_region("江苏省盐城市射阳县")
    assert region_rule(NATIONAL, county) is RegionRule.NATIONAL
    assert region_rule("江苏省盐城市射阳县", county) is RegionRule.LOCAL
    assert region_rule("江苏省", county) is RegionRule.ABOVE
    assert region_rule("江苏省盐城市", county) is RegionRule.ABOVE
    assert region_rule("江苏省盐城市亭湖区", county) is RegionRule.ELSEWHERE
    assert region_rule("安徽省宿州市", county) is RegionRule.ELSEWHERE
    assert region_rule("江苏省盐城市亭湖区", parse_region("江苏省盐城市")) is RegionRule.PART
    assert region_rule("", county) is RegionRule.UNKNOWN
    assert region_rule("江苏省", None) is RegionRule.NO_PROFILE_REGION
    assert RegionRule.ELSEWHERE.applies is Status.NOT_MET and RegionRule.PART.applies is Status.UNKNOWN


JURISDICTIONS = [NATIONAL, "江苏省", "江苏省盐城市", "江苏省盐城市射阳县", "江苏省盐城市亭湖区", "江苏省盐城市盐城经济技术开发区",
                 "安徽省宿州市", "浙江省", "浙江省桐溪县", "桐溪县", "湖南省鹤泉县", ""]
PROFILE_REGIONS = ["江苏省盐城市射阳县", "江苏省盐城市", "江苏省", "浙江省桐溪县", "桐溪县", "湖南省鹤泉县", "安徽省宿州市萧县"]


@pytest.mark.parametrize("region", PROFILE_REGIONS)
def test_region_rule_is_the_shared_matchers_decision(region):
    """Every (jurisdiction, region) pair: the rule applies exactly when corpus.jurisdiction says so."""
    from policyqa.corpus.jurisdiction import Applicability, applicability

    for j in JURISDICTIONS:
        a = applicability(DocMeta("d", jurisdiction=j), region)
        rule = region_rule(j, region)
        expected = {Applicability.NATIONAL: Status.MET, Applicability.APPLIES: Status.MET, Applicability.PART: Status.UNKNOWN,
                    Applicability.OTHER: Status.NOT_MET, Applicability.UNKNOWN: Status.UNKNOWN}[a]
        assert rule.applies is expected, (j, region, a, rule)


def test_a_county_the_gazetteer_lacks_matches_itself_with_or_without_its_province():
    for region in ("浙江省桐溪县", "桐溪县"):
        assert region_rule("浙江省桐溪县", region) is RegionRule.LOCAL
        assert region_rule("桐溪县", region) is RegionRule.LOCAL
        assert region_rule("湖南省鹤泉县", region) is RegionRule.ELSEWHERE
    assert region_rule("浙江省", "浙江省桐溪县") is RegionRule.ABOVE
    assert region_rule("浙江省桐溪县", "湖南省鹤泉县") is RegionRule.ELSEWHERE


def test_profile_region_is_read_against_the_knowledge_bases_jurisdictions():
    from policyqa.qa.match import resolve_region

    docs = {"t": DocMeta("t", jurisdiction="浙江省桐溪县", issuer_level="county"),
            "y": DocMeta("y", jurisdiction="江苏省盐城市亭湖区", issuer_level="county")}
    assert resolve_region("桐溪县", docs) == "浙江省桐溪县"  # placed by the document that names it
    assert resolve_region("浙江省桐溪县城东街道", docs) == "浙江省桐溪县"
    assert resolve_region("桐溪县", {}) == "桐溪县"  # kept by name; the shared matcher compares names
    assert resolve_region("浙江省桐溪县", {}) == "浙江省桐溪县"
    assert resolve_region("江苏省盐城市亭湖区", docs) == "江苏省盐城市亭湖区"
    assert resolve_region("亭湖区", docs) == "江苏省盐城市亭湖区"
    assert resolve_region("", docs) == "" and resolve_region("全国", docs) == ""


# --- checking conditions ---------------------------------------------------------------------


def test_threshold_statuses():
    v = vocabulary()
    c = Condition("threshold", "入库税收 ≥ 2000万元", "tax_paid_wan", ">=", 2000, "万元")
    assert check(c, Profile(tax_paid_wan=2000), v, []).status is Status.MET
    assert check(c, Profile(tax_paid_wan=1999), v, []).status is Status.NOT_MET
    unknown = check(c, Profile(), v, [])
    assert unknown.status is Status.UNKNOWN and unknown.field == "tax_paid_wan" and "tax_paid_wan" in unknown.text()
    no_field = check(Condition("threshold", "亩均税收 ≥ 30万元/亩", "mu_tax", ">=", 30, "万元/亩"), Profile(tax_paid_wan=9), v, [])
    assert no_field.status is Status.UNKNOWN and "亩均税收" in no_field.note


def test_honour_statuses_distinguish_absent_empty_and_level():
    v = vocabulary()
    c = Condition("honour", "省级专精特新中小企业", "honours", honours=(Honour("专精特新中小企业", "省级"),))
    assert check(c, Profile(), v, []).status is Status.UNKNOWN
    assert check(c, Profile(honours=()), v, []).status is Status.NOT_MET
    assert check(c, Profile(honours=("x",)), v, [Honour("专精特新中小企业", "省级")]).status is Status.MET
    assert check(c, Profile(honours=("x",)), v, [Honour("专精特新中小企业", "市级")]).status is Status.NOT_MET
    assert check(c, Profile(honours=("x",)), v, [Honour("专精特新中小企业", "")]).status is Status.UNKNOWN


def test_investment_kinds_sure_broader_and_other():
    v = vocabulary()
    c = Condition("investment", "设备投资额 ≥ 200万元", "planned_investments", ">=", 200, "万元", ref="设备")
    inv = lambda k, a: parse_profile({"planned_investments": [{"kind": k, "amount_wan": a}]})[0]  # noqa: E731
    assert check(c, inv("工业机器人", 300), v, []).status is Status.MET  # a robot is equipment
    assert check(c, inv("工业机器人", 100), v, []).status is Status.NOT_MET
    assert check(c, inv("技术改造", 900), v, []).status is Status.UNKNOWN  # may or may not be equipment
    assert check(c, inv("厂房", 900), v, []).status is Status.NOT_MET
    assert check(c, Profile(), v, []).status is Status.UNKNOWN


def test_sector_statuses():
    v = vocabulary()
    c = Condition("sector", "工业企业", "industry", sectors=("工业",))
    assert check(c, Profile(industry="汽车零部件制造"), v, []).status is Status.MET
    assert check(c, Profile(industry="现代物流服务"), v, []).status is Status.NOT_MET
    assert check(c, Profile(industry="其他"), v, []).status is Status.UNKNOWN


# --- matching ------------------------------------------------------------------------------


def test_county_enterprise_gets_county_and_province_items_never_another_county(kb):
    res = run_match(kb, {"region": "江苏省盐城市射阳县", "industry": "机械制造", "revenue_wan": 30000,
                         "honours": ["国家级专精特新小巨人", "省级五星级上云企业"],
                         "planned_investments": [{"kind": "工业机器人", "amount_wan": 1000}]})
    ok = amounts(res.applicable)
    # ranked by amount: 9% of the planned 1000万元 (90) before the 70万元 reward
    assert ok == [("county.txt", "", 0.09), ("county.txt", "国家级专精特新“小巨人”企业", 70),
                  ("county.txt", "2亿元", 15), ("province.txt", "五星", 12)]
    assert res.applicable[0].estimate_wan == 90 and "1000万元×9%" in res.applicable[0].estimate_note
    assert res.applicable[0].item.recipient == "当年完成设备投资额200万元以上的技术改造项目"
    assert all(m.item.doc_id != "other.txt" for m in res.items)
    assert [m.item.doc_id for m in res.elsewhere] == []  # the other county's policy has expired


def test_estimate_is_capped(kb):
    res = run_match(kb, {"region": "射阳县", "planned_investments": [{"kind": "设备", "amount_wan": 5000}]})
    m = next(m for m in res.applicable if m.item.rate)
    assert m.estimate_wan == 180 and "上限" in m.estimate_note


def test_other_region_items_go_to_elsewhere_and_expired_items_are_flagged(kb):
    _, docs, _, cat = kb
    p, _ = parse_profile({"region": "江苏省盐城市射阳县", "honours": ["国家级专精特新小巨人"]})
    early = match(p, cat.all_items(), docs, today=date(2019, 6, 1))
    assert [m.item.doc_id for m in early.elsewhere] == ["other.txt"] and not early.elsewhere[0].applicable
    p2, _ = parse_profile({"region": "江苏省宿迁市沭阳县", "honours": ["国家级专精特新小巨人"]})
    late = match(p2, cat.all_items(), docs, today=TODAY)
    other = [m for m in late.items if m.item.doc_id == "other.txt"]
    assert len(other) == 1 and other[0].expired and not other[0].applicable
    assert "已过期" in late.to_text()


def test_conditions_name_the_field_they_need(kb):
    res = run_match(kb, {"region": "射阳县"})
    m = next(m for m in res.items if m.item.tier == "6亿元")
    needs = [c for c in m.checks if c.status is Status.UNKNOWN]
    assert any(c.field == "revenue_wan" and "revenue_wan" in c.text() for c in needs)
    assert m.checks[0].condition.kind == "region" and m.checks[0].status is Status.MET


def test_not_met_items_are_listed_after_applicable_ones(kb):
    res = run_match(kb, {"region": "射阳县", "revenue_wan": 25000, "honours": []})
    flags = [m.applicable for m in res.items]
    assert flags == sorted(flags, reverse=True) and False in flags
    bad = next(m for m in res.items if m.item.tier == "6亿元")
    assert not bad.applicable and any(c.status is Status.NOT_MET and "25000" in c.text() for c in bad.checks)


def test_unquantified_items_only_when_asked(kb):
    assert all(m.item.quantified for m in run_match(kb, {"region": "射阳县"}).items)
    extra = run_match(kb, {"region": "射阳县"}, include_unquantified=True)
    assert any(m.item.amount_text == "未列明金额" for m in extra.items)


def test_json_shape_is_exactly_the_issue_s(kb):
    d = run_match(kb, {"region": "射阳县", "revenue_wan": 30000, "x": 1}).to_json()
    assert list(d) == ["profile", "items", "elsewhere", "region", "unknown_fields"]  # the issue's keys first, in order
    assert d["profile"] == {"region": "射阳县", "revenue_wan": 30000}
    assert d["region"] == "江苏省盐城市射阳县" and d["unknown_fields"] == ["x"]
    item = d["items"][0]
    assert list(item) == ["doc_id", "chunk_id", "title", "region", "benefit", "amount_text", "estimate_wan",
                          "conditions", "applicable", "expired", "citation", "region_rule", "superseded", "superseded_by"]
    assert item["region_rule"] == "local" and item["superseded"] is False and item["superseded_by"] == []
    assert all(set(c) == {"text", "status"} and c["status"] in ("met", "not_met", "needs_checking") for c in item["conditions"])
    assert "射政发〔2024〕7号" in item["citation"] and "「" in item["citation"]
    json.dumps(d, ensure_ascii=False)


def test_csv_and_text_exports(kb):
    res = run_match(kb, {"region": "射阳县", "revenue_wan": 30000, "x": 1})
    rows = list(csv.reader(io.StringIO(res.to_csv())))
    assert rows[0][:5] == ["序号", "可申请", "已过期", "已被取代", "适用地区"] and len(rows) == 1 + len(res.items) + len(res.elsewhere)
    text = res.to_text()
    assert text.startswith("企业画像：江苏省盐城市射阳县") and "可申请的政策" in text and "未识别的字段，已忽略：x" in text


def test_profile_without_region_marks_every_region_for_checking(kb):
    res = run_match(kb, {"revenue_wan": 30000})
    assert res.region == "" and res.elsewhere == ()
    assert all(m.checks[0].status is Status.UNKNOWN for m in res.items if m.item.jurisdiction != NATIONAL)
    assert "未填或无法识别所在地区" in res.to_text()


# --- compare ---------------------------------------------------------------------------------


def test_compare_builds_a_cited_table_by_region(kb):
    _, docs, chunks, cat = kb
    t = compare("小巨人", cat.all_items(), docs, chunks, today=TODAY)
    assert [(c.region, c.amount_text, c.expired) for c in t.cells] == [
        ("江苏省盐城市射阳县", "70万元", False), ("江苏省宿迁市沭阳县", "55万元", True)]
    assert all("「" in c.citation for c in t.cells)
    only = compare("小巨人", cat.all_items(), docs, chunks, regions=["射阳县"], today=TODAY)
    assert [c.region for c in only.cells] == ["江苏省盐城市射阳县"]
    assert compare("不存在的东西", cat.all_items(), docs, chunks).cells == ()


def test_compare_lists_a_mention_without_an_amount(kb):
    _, docs, chunks, cat = kb
    t = compare("智能车间", cat.all_items(), docs, chunks, today=TODAY)
    assert [(c.region, c.amount_text) for c in t.cells] == [("江苏省", "90万元")]


# --- the knowledge base and the commands -----------------------------------------------------


def test_knowledge_base_derives_items_and_keeps_them_current(tmp_path, kb):
    from fakes import KeywordEmbedder, jieba_tokenizer
    from policyqa.corpus.chunk import ChunkerConfig
    from policyqa.index.hybrid import RetrievalConfig
    from policyqa.index.store import IndexStore
    from policyqa.qa.service import KnowledgeBase
    from policyqa.settings import Settings

    folder = kb[0]
    docs = list(load_corpus([folder / "province.txt"]).documents)
    store = IndexStore.build(docs, chunk_documents(docs), KeywordEmbedder(["奖励"]), jieba_tokenizer(), tmp_path / "index",
                             chunker_settings=ChunkerConfig().to_dict(), progress=False)
    base = KnowledgeBase(store, Settings(home=tmp_path), retrieval=RetrievalConfig(mode="bm25"))
    assert base.items.doc_ids() == ["province.txt"]
    base.add([folder / "county.txt"])
    assert base.items.doc_ids() == ["county.txt", "province.txt"]
    res = base.match({"region": "射阳县", "honours": ["国家级专精特新小巨人"]}, today=TODAY)
    assert 70 in [m.item.amount_wan for m in res.applicable]
    base.remove("county.txt")
    assert base.items.doc_ids() == ["province.txt"]
    with pytest.raises(ProfileError):
        base.match({"revenue_wan": "很多"})


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "policyqa.cli", *args], capture_output=True, text=True, timeout=180, **kw)


def test_match_command_json_csv_and_errors(kb, tmp_path):
    folder = kb[0]
    prof = tmp_path / "p.json"
    prof.write_text(json.dumps({"region": "射阳县", "revenue_wan": 30000, "联系人": "王"}, ensure_ascii=False), encoding="utf-8")
    out_csv = tmp_path / "r.csv"
    r = cli("match", "--profile", str(prof), "--corpus", str(folder), "--json", "--csv", str(out_csv), "--today", "2025-06-01")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["items"][0]["amount_text"] and "unknown profile fields ignored: 联系人" in r.stderr
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the UTF-8 BOM
    prof.write_text('{"revenue_wan": "lots"}', encoding="utf-8")
    bad = cli("match", "--profile", str(prof), "--corpus", str(folder))
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "revenue_wan" in bad.stderr
    prof.write_bytes(b"\xff\xfe{")
    assert cli("match", "--profile", str(prof), "--corpus", str(folder)).returncode == 2
    assert cli("match", "--profile", str(tmp_path / "none.json")).returncode == 2


def test_compare_and_doc_items_commands(kb):
    folder = kb[0]
    r = cli("compare", "小巨人", "--corpus", str(folder), "--json", "--today", "2025-06-01")
    assert r.returncode == 0, r.stderr
    assert [c["region"] for c in json.loads(r.stdout)["cells"]] == ["江苏省盐城市射阳县", "江苏省宿迁市沭阳县"]
    r = cli("docs", "--items", "county.txt", "--corpus", str(folder), "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["amount_wan"] for x in rows if x["amount_wan"]] == [15, 45, 70, 25]
    r = cli("docs", "--items", "nope.txt", "--corpus", str(folder))
    assert r.returncode == 1 and "no document 'nope.txt'" in r.stderr


def test_eval_match_command_reports_both_evaluations(tmp_path):
    r = cli("eval-match", "--split", "tune", "--json", "--report", str(tmp_path / "rep.md"), "--details", str(tmp_path / "d.jsonl"))
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["split"] == "tune" and s["extraction"]["clauses"] > 0 and s["matching"]["profiles"] > 0
    assert (tmp_path / "rep.png").stat().st_size > 0 and "## Extraction" in (tmp_path / "rep.md").read_text(encoding="utf-8")
    assert len((tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()) == s["extraction"]["clauses"] + s["matching"]["profiles"]


def test_heldout_check_runs_matching_only_and_never_applies_the_old_version_or_another_county(tmp_path):
    """eval/match/heldout: the 2021 桐溪 policy (superseded) and other counties' items are never applicable."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    r = cli("eval-match", "--matching-only", "--split", "all", "--json", "--profiles", str(root / "eval/match/heldout/profiles.jsonl"),
            "--corpus", str(root / "corpus/documents"), str(root / "eval/documents"), "--report", str(tmp_path / "h.md"))
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)["matching"]
    assert m["profiles"] >= 8 and m["other_region_violations"] == 0 and m["superseded_flagged"] == 1.0
    assert m["elsewhere_found"] == 1.0 and m["precision"] >= 0.9 and m["recall"] >= 0.9
    report = (tmp_path / "h.md").read_text(encoding="utf-8")
    assert "## Extraction" not in report and "tongxi-zhizao-2021" not in report.split("Profiles with differences")[-1]


# --- versions and validity -----------------------------------------------------------------

OLD_VERSION = """青川县人民政府关于印发《青川县支持工业企业发展的若干政策》的通知
青政发〔2020〕4号
一、对新认定的国家级专精特新“小巨人”企业，给予一次性奖励40万元。
二、对年度入库税收首次达到1000万元的工业企业，给予奖励8万元。
三、本政策自2020年3月1日起施行，有效期5年。
青川县人民政府
2020年2月20日
"""

NEW_VERSION = """青川县人民政府关于印发《青川县支持工业企业发展的若干政策》的通知
青政发〔2023〕9号
一、对新认定的国家级专精特新“小巨人”企业，给予一次性奖励60万元。
二、本政策自2023年5月1日起施行，有效期3年。《青川县支持工业企业发展的若干政策》（青政发〔2020〕4号）同时废止。
青川县人民政府
2023年4月10日
"""

SHORT_LIVED = """白河县关于支持企业上云的通知
白政发〔2021〕2号
一、对新认定的省级上云标杆企业，给予一次性奖励6万元。
二、本通知自2021年1月1日起施行，有效期2年。
白河县人民政府
2020年12月20日
"""


@pytest.fixture(scope="module")
def versions_kb(tmp_path_factory):
    d = tmp_path_factory.mktemp("versions")
    for name, text in (("old.txt", OLD_VERSION), ("new.txt", NEW_VERSION), ("short.txt", SHORT_LIVED)):
        (d / name).write_text(text, encoding="utf-8")
    report = load_corpus([d])
    docs = linked({x.doc_id: x.meta for x in report.documents})  # version links, as the index derives them
    chunks = chunk_documents(report.documents)
    return docs, ItemCatalog.build(docs, chunks)


def test_items_of_a_superseded_document_are_flagged_and_never_applicable(versions_kb):
    docs, cat = versions_kb
    assert docs["old.txt"].superseded_by == ("new.txt",)
    region = docs["new.txt"].jurisdiction
    p, _ = parse_profile({"region": region, "honours": ["国家级专精特新小巨人"], "tax_paid_wan": 1500})
    res = match(p, cat.all_items(), docs, today=date(2024, 1, 1))  # the old version is still within its own validity
    old = [m for m in res.items if m.item.doc_id == "old.txt"]
    assert old and all(m.superseded and not m.applicable and not m.expired for m in old)
    assert [m.item.amount_wan for m in res.applicable] == [60]  # only the current version's figure
    j = res.to_json()
    flagged = [i for i in j["items"] if i["doc_id"] == "old.txt"]
    assert all(i["superseded"] and i["superseded_by"] == ["new.txt"] and not i["applicable"] for i in flagged)
    text = res.to_text()
    assert "已被新版政策取代" in text and "40万元" in text.split("已被新版政策取代")[1]
    rows = list(csv.reader(io.StringIO(res.to_csv())))
    assert {r[3] for r in rows[1:] if "40万元" in r[6]} == {"是"}
    # another region's enterprise never sees the superseded item under "elsewhere"
    other, _ = parse_profile({"region": "江苏省盐城市射阳县", "honours": ["国家级专精特新小巨人"]})
    assert all(m.item.doc_id != "old.txt" for m in match(other, cat.all_items(), docs, today=date(2024, 1, 1)).elsewhere)


def test_expiry_comes_from_the_documents_stated_validity(versions_kb):
    docs, cat = versions_kb
    assert (docs["short.txt"].valid_from, docs["short.txt"].valid_to) == ("2021-01-01", "2022-12-31")
    p, _ = parse_profile({"region": docs["short.txt"].jurisdiction, "honours": ["省级上云标杆企业"]})
    during = [m for m in match(p, cat.all_items(), docs, today=date(2022, 6, 1)).items if m.item.doc_id == "short.txt"]
    after = [m for m in match(p, cat.all_items(), docs, today=date(2023, 1, 1)).items if m.item.doc_id == "short.txt"]
    assert during and all(m.applicable and not m.expired for m in during)
    assert after and all(m.expired and not m.applicable and m.item.valid_to == "2022-12-31" for m in after)


def test_compare_flags_superseded_cells(versions_kb):
    docs, cat = versions_kb
    t = compare("小巨人", cat.all_items(), docs, today=date(2024, 1, 1))
    by_doc = {c.doc_id: c for c in t.cells}
    assert by_doc["old.txt"].superseded and not by_doc["new.txt"].superseded
    assert "已被新版取代" in t.to_text() and t.to_json()["cells"][0]["superseded"] is False


def test_a_recognition_outside_the_vocabulary_is_checked_against_the_honours_as_written():
    from policyqa.corpus.items import Honour as H

    v = vocabulary()
    c = Condition("honour", "省级算力调度平台", "honours", honours=(H("算力调度平台", "省级"),))
    status = lambda names: check(c, Profile(honours=tuple(names)), v, profile_honours(names)).status  # noqa: E731
    assert status(["省级算力调度平台"]) is Status.MET
    assert status(["高新技术企业", "省算力调度平台"]) is Status.MET  # 省 before the name says the level
    assert status(["市级算力调度平台"]) is Status.NOT_MET  # another level
    assert status(["算力调度平台"]) is Status.UNKNOWN  # level not given
    assert status(["调度平台"]) is Status.UNKNOWN  # part of the name: a person checks
    assert status(["高新技术企业"]) is Status.NOT_MET  # the list is complete
    assert check(c, Profile(), v, []).status is Status.UNKNOWN  # honours not given
    quoted = Condition("honour", "“江苏精品”认证", "honours", honours=(H("“江苏精品”认证", ""),))
    assert check(quoted, Profile(honours=("江苏精品认证",)), v, []).status is Status.MET  # quotes do not matter
