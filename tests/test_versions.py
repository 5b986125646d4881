"""Version links: derived from the whole document set, by a pure function."""

from dataclasses import replace

import pytest

from policyqa.corpus.types import DocMeta
from policyqa.corpus.versions import link_versions, similarity, subject

COUNTY = dict(jurisdiction="江苏省盐城市射阳县", region="江苏省盐城市射阳县", issuer_level="county", issuer="射阳县人民政府", doc_type="notice")
OLD = DocMeta("old", title="关于印发《射阳县促进工业经济高质量发展若干政策》的通知", date="2020-04-10", **COUNTY)
NEW = DocMeta("new", title="关于印发《射阳县推动工业经济高质量发展若干政策》的通知", date="2023-05-20",
              repeals="此前出台的县级工业经济相关支持奖励政策同时废止。", **COUNTY)
SERVICE = DocMeta("svc", title="射阳县关于支持现代服务业发展的若干政策", date="2022-01-05", **COUNTY)


def links(metas):
    return {m.doc_id: (m.supersedes, m.superseded_by) for m in link_versions(metas)}


def test_subject_drops_wrappers_places_years_and_framing_words():
    assert subject(OLD.title) == subject(NEW.title) == "工业经济高质量发展"
    assert subject("桐溪县关于支持制造业高质量发展的若干政策（2024年修订）") == "制造业高质量发展"
    assert similarity("关于支持制造业高质量发展的若干政策", "关于支持服务业高质量发展的若干政策") < 0.8


def test_a_generic_repeal_supersedes_the_older_policy_on_the_subject_only():
    assert links([OLD, NEW, SERVICE]) == {"old": ((), ("new",)), "new": (("old",), ()), "svc": ((), ())}


def test_same_subject_same_issuer_is_a_new_version_even_without_a_repeal():
    plain = replace(NEW, repeals="")
    assert links([plain, OLD])["new"] == (("old",), ())
    # another county's policy on the same subject is not a version
    other = replace(OLD, doc_id="other", jurisdiction="江苏省盐城市滨海县", region="江苏省盐城市滨海县", issuer="滨海县人民政府")
    assert links([plain, other]) == {"new": ((), ()), "other": ((), ())}


def test_a_named_repeal_links_whatever_the_subject_and_issuer():
    named = DocMeta("n", title="某市工业高质量发展十条", date="2024-01-01", issuer="某市人民政府",
                    repeals="原《射阳县促进工业经济高质量发展若干政策》同时废止。")
    by_number = DocMeta("m", title="某市工业高质量发展十条", date="2024-01-01", repeals="射政发〔2020〕15号文件同时废止。")
    assert links([OLD, named])["n"] == (("old",), ())
    assert links([replace(OLD, doc_number="射政发〔2020〕15号"), by_number])["m"] == (("old",), ())


def test_chains_dates_interviews_and_purity():
    mid = replace(OLD, doc_id="mid", date="2021-09-01")
    got = links([NEW, OLD, mid])
    assert got == {"new": (("old", "mid"), ()), "old": ((), ("mid", "new")), "mid": (("old",), ("new",))}
    undated = replace(OLD, doc_id="undated", date="")
    assert links([undated, replace(NEW, repeals="")])["undated"] == ((), ())
    talk = replace(OLD, doc_id="talk", doc_type="interview")
    assert links([talk, NEW])["talk"] == ((), ())
    metas = [OLD, NEW, SERVICE]
    first = link_versions(metas)
    assert link_versions(first) == first and link_versions(metas) == first
    assert [m.doc_id for m in first] == ["old", "new", "svc"]
    # links a document carried before are replaced: removing the newer one unlinks the older
    assert link_versions([first[0], first[2]]) == [OLD, SERVICE]


def test_meta_round_trip_and_old_index_rows():
    m = link_versions([OLD, NEW])[1]
    assert DocMeta.from_dict(m.to_dict()) == m
    old_row = {"doc_id": "x", "title": "t", "region": "江苏省", "dates": [], "period": None}
    assert DocMeta.from_dict(old_row) == DocMeta("x", title="t", region="江苏省")
    assert DocMeta.from_dict(old_row).summary()["supersedes"] == []


def test_copies_series_and_fragments_are_not_versions():
    a = DocMeta("a", title="关于加强某项工作的通告（第3号）", date="2020-02-01", issuer="某市指挥部", jurisdiction="江苏省南京市", issuer_level="city")
    b = replace(a, doc_id="b", title="关于加强某项工作的通告（第4号）", date="2020-02-05")
    assert links([a, b]) == {"a": ((), ()), "b": ((), ())}  # a series
    c = replace(NEW, doc_id="copy", date="2023-06-01", repeals="")  # the same 文号: one document crawled twice
    assert links([replace(NEW, doc_number="射政发〔2023〕6号"), replace(c, doc_number="射政发〔2023〕6号")])["copy"] == ((), ())
    f1 = replace(OLD, doc_id="f1", title="广西壮族自治区新型冠状病毒感染的肺炎")  # a fragment, not a policy title
    f2 = replace(OLD, doc_id="f2", title="广西壮族自治区新型冠状病毒感染的肺炎疫情", date="2021-01-01")
    assert links([f1, f2]) == {"f1": ((), ()), "f2": ((), ())}
    # a label 废止日期 in a site's metadata table is not a repeal
    labelled = replace(NEW, doc_id="lab", repeals="")
    from policyqa.corpus.validity import extract_repeal

    assert extract_repeal("[发文字号] 某政发〔2023〕6号 [废止日期] ---- [有效性] 有效").text == ""
    assert links([OLD, labelled])["lab"] == (("old",), ())  # still a re-issue by the same body


def test_an_unplaced_county_is_the_same_area_with_or_without_its_province():
    a = DocMeta("a", title="某溪县关于支持制造业发展的若干政策", date="2021-05-20", issuer="某溪县人民政府",
                jurisdiction="某溪县", region="某溪县", issuer_level="county")
    b = replace(a, doc_id="b", date="2024-03-18", jurisdiction="浙江省某溪县", region="浙江省某溪县")
    assert links([a, b])["b"] == (("a",), ())
    c = replace(b, doc_id="c", jurisdiction="湖南省某溪县", region="湖南省某溪县")
    assert links([b, c])["c"] == ((), ())  # the same name in another province is another county


def test_a_list_from_a_superseded_policy_is_read_from_its_newer_version(tmp_path):
    """tests/data/versions_overview (written for this test): 清河's 2021 measures under
    「一、助企纾困降成本」 and the 2024 version that repeals them, its articles renumbered and
    one dropped.  A list question whose best passage is the 2021 article the 2024 version
    dropped lists the 2024 articles under the same heading, not the superseded ones."""
    import re
    from datetime import date
    from pathlib import Path

    from fakes import body, folder_answerer

    ask = folder_answerer(Path(__file__).parent / "data" / "versions_overview", ["贴息", "担保", "转贷", "纾困", "负担", "规模以上"],
                          tmp_path / "ix", today=lambda: date(2026, 6, 1), threshold=0.0).answer
    a = ask("清河县助企纾困、减轻企业负担有哪些措施？")  # the items of an enumeration
    b = body(a)
    assert {c.doc_id for c in a.citations} == {"qinghe-2024.txt"}
    assert "60%" in b and "5000万元" in b and "不超过1%" in b
    assert not re.search(r"50%|3000万元|旧版", b)
    a = ask("清河县有哪些奖励补贴？")  # an overview of a document's rewards
    assert {c.doc_id for c in a.citations} == {"qinghe-2024.txt"}
    assert "10万元" in body(a) and not re.search(r"5万元|20万元|旧版", body(a).replace("15万元", ""))


@pytest.mark.parametrize("followup", ["现在2024年的新政策呢？", "新版呢？", "那现行的政策呢？"])
def test_a_follow_up_naming_only_a_version_asks_the_previous_question_of_it(tmp_path, followup):
    """After a question about 清河's 2021 measures (tests/data/versions_overview), a follow-up
    that names only the newer or current version asks the same question of that version."""
    from datetime import date
    from pathlib import Path

    from fakes import body, folder_answerer
    from policyqa.qa.types import Turn

    ask = folder_answerer(Path(__file__).parent / "data" / "versions_overview", ["贴息", "担保", "转贷", "纾困", "负担", "规模以上"],
                          tmp_path / "ix", today=lambda: date(2026, 6, 1), threshold=0.0).answer
    first = "清河县2021年那版措施里，贷款贴息按利息的多少比例给？"
    a = ask(first)
    assert "50%" in body(a)
    b = ask(followup, history=[Turn(first, a.text, a.resolved_question)])
    assert "60%" in body(b), body(b)
    assert b.citations[0].doc_id == "qinghe-2024.txt"
