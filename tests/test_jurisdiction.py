"""Issuer level, jurisdiction, and THE region matcher used by the filter and the answers."""

import pytest

from policyqa.corpus.jurisdiction import Applicability, applicability, derive_jurisdiction, region_matches
from policyqa.corpus.regions import lookup
from policyqa.corpus.types import DocMeta
from policyqa.index.hybrid import doc_matches
from policyqa.index.types import Filters
from policyqa.qa.regions import docs_for


@pytest.mark.parametrize(
    "issuer, level, label",
    [
        ("国务院办公厅", "national", "全国"),
        ("工业和信息化部 财政部", "national", "全国"),
        ("国家市场监督管理总局", "national", "全国"),
        ("国家税务总局江苏省税务局", "province", "江苏省"),  # a national body's branch is its place's
        ("江苏省人民政府办公厅", "province", "江苏省"),
        ("浙江省经济和信息化厅 浙江省财政厅", "province", "浙江省"),
        ("宿迁市工业和信息化局", "city", "江苏省宿迁市"),
        ("中国人民银行盐城市中心支行", "city", "江苏省盐城市"),
        ("亭湖区工信局", "county", "江苏省盐城市亭湖区"),
        ("宜兴市工业和信息化局", "county", "江苏省无锡市宜兴市"),  # a county-level city
        ("中共霍山县委 霍山县人民政府", "county", "安徽省六安市霍山县"),
        ("盐城经济技术开发区管委会", "park", "江苏省盐城市盐城经济技术开发区"),
        ("桐溪县人民政府", "county", "桐溪县"),  # not in the gazetteer: kept by name
        # a district or county the gazetteer does not know, after its known city or province
        ("赣州市青岚区人民政府办公室", "county", "江西省赣州市青岚区"),
        ("浙江省某溪县人民政府", "county", "浙江省某溪县"),
        ("宿州市工业强市推进工作领导小组办公室", "city", "安徽省宿州市"),  # 工业强市: a slogan, not a place
        ("大理州人民政府", "city", "云南省大理白族自治州"),  # an autonomous prefecture by its usual short name
        ("恩施州经济和信息化局", "city", "湖北省恩施土家族苗族自治州"),
        ("市工业和信息化局", "city", ""),  # level only: the place comes from elsewhere
    ],
)
def test_issuer_alone(issuer, level, label):
    j = derive_jurisdiction(issuer)
    assert (j.level, j.label if j.known else "") == (level, label)


def test_issuer_wins_over_the_most_mentioned_place():
    body = "支持深圳、苏州等城市先行探索。深圳市要发挥优势。借鉴深圳经验。"
    assert derive_jurisdiction("国务院办公厅", "", "", body).label == "全国"
    assert derive_jurisdiction("", "国办发〔2024〕15号", "", body).label == "全国"  # the 文号 says so too
    county = "根据盐城市委、盐城市人民政府部署，对标盐城市政策。盐城市级奖补到位后配套。"
    assert derive_jurisdiction("射阳县人民政府", "射政发〔2020〕15号", "", county).label == "江苏省盐城市射阳县"


def test_place_without_issuer_place_from_title_doc_number_and_body():
    # level from the issuer (市…局), place from the body
    assert derive_jurisdiction("市工业和信息化局", "", "", "宿迁市、宿迁市、宿迁").label == "江苏省宿迁市"
    # no issuer: the title's place, the level from the addressee line (written by a city)
    text = "各县区人民政府，市人民政府各部门：\n现将《漯河市工业行动实施意见》印发给你们。"
    j = derive_jurisdiction("", "", "漯河市工业扩量提质转型升级行动实施意见", text)
    assert (j.level, j.label) == ("city", "河南省漯河市")
    # a 文号 prefix agreeing with the body: 徐中小办发 -> 徐州
    assert derive_jurisdiction("", "徐中小办发〔2023〕3号", "", "徐州市、徐州").label == "江苏省徐州市"
    # an ambiguous district name read with the 文号 / body
    assert derive_jurisdiction("鼓楼区人民政府", "榕政发〔2023〕3号", "", "").label == "福建省福州市鼓楼区"
    assert derive_jurisdiction("鼓楼区人民政府", "", "", "徐州市、徐州市").label == "江苏省徐州市鼓楼区"
    # a county the gazetteer does not know gets its province from the body
    assert derive_jurisdiction("桐溪县人民政府", "桐政发〔2024〕5号", "", "根据《浙江省…》，浙江省").label == "浙江省桐溪县"


DOCS = {
    "nat": DocMeta("nat", jurisdiction="全国", region="全国", issuer_level="national"),
    "js": DocMeta("js", jurisdiction="江苏省", region="江苏省", province="江苏省", issuer_level="province"),
    "yc": DocMeta("yc", jurisdiction="江苏省盐城市", region="江苏省盐城市", issuer_level="city"),
    "th": DocMeta("th", jurisdiction="江苏省盐城市亭湖区", region="江苏省盐城市亭湖区", issuer_level="county"),
    "sq": DocMeta("sq", jurisdiction="江苏省宿迁市", region="江苏省宿迁市", issuer_level="city"),
    "tx": DocMeta("tx", jurisdiction="浙江省桐溪县", region="浙江省桐溪县", issuer_level="county"),
    "park": DocMeta("park", jurisdiction="江苏省盐城市盐城经济技术开发区", issuer_level="park"),
    "old": DocMeta("old", region="江苏省徐州市", province="江苏省", city="徐州市"),  # an index written before jurisdictions
    "none": DocMeta("none"),
}


@pytest.mark.parametrize(
    "asked, applies, part",
    [
        ("上海市", {"nat"}, set()),
        ("江苏省", {"nat", "js"}, {"yc", "th", "sq", "park", "old"}),
        ("盐城市", {"nat", "js", "yc"}, {"th", "park"}),
        ("亭湖区", {"nat", "js", "yc", "th"}, set()),
        ("江苏省盐城市亭湖区", {"nat", "js", "yc", "th"}, set()),
        ("宿迁", {"nat", "js", "sq"}, set()),
        ("徐州市", {"nat", "js", "old"}, set()),
        ("浙江省", {"nat"}, {"tx"}),
        ("桐溪县", {"nat", "tx"}, set()),
        ("盐城经济技术开发区", {"nat", "js", "yc", "park"}, set()),
        ("全国", {"nat"}, set()),
    ],
)
def test_matcher(asked, applies, part):
    got = {k: applicability(m, asked) for k, m in DOCS.items()}
    assert {k for k, a in got.items() if a.applies} == applies
    assert {k for k, a in got.items() if a is Applicability.PART} == part
    assert {k for k, m in DOCS.items() if region_matches(m, asked)} == applies | part
    assert got["none"] in (Applicability.UNKNOWN, Applicability.OTHER)


@pytest.mark.parametrize("asked", ["江苏省", "盐城市", "亭湖区", "上海市", "浙江省", "宿迁市", "桐溪县"])
def test_the_filter_and_the_answers_use_the_one_matcher(asked):
    via_filter = {k for k, m in DOCS.items() if doc_matches(m, Filters(region=asked))}
    assert via_filter == {k for k, m in DOCS.items() if region_matches(m, asked)}
    readings = lookup(asked)  # what the answerer passes: gazetteer regions
    if readings:
        assert {k for r in readings for k in docs_for(r, DOCS)} == via_filter


def test_an_unplaced_county_takes_its_province_only_from_province_or_city_names():
    # county names in running text are often words (会同 = jointly): not evidence of a province
    text = "本政策由县经信局会同县财政局负责解释，县经信局会同县财政局负责兑现。"
    assert derive_jurisdiction("某溪县人民政府", "", "", text).label == "某溪县"
    assert derive_jurisdiction("某溪县人民政府", "", "", "根据《浙江省若干政策》。" + text).label == "浙江省某溪县"


def test_a_doc_number_abbreviating_the_unplaced_county_itself_names_no_province():
    # 青禾县's own 文号 青政发 starts with 青, which is also 青海's abbreviation
    assert derive_jurisdiction("青禾县人民政府", "青政发〔2025〕3号", "", "县工信局负责。").label == "青禾县"
    assert derive_jurisdiction("青禾县人民政府", "青政发〔2025〕3号", "", "根据《浙江省若干政策》。").label == "浙江省青禾县"
    # a prefix that is not the county's own still reads as its province
    assert derive_jurisdiction("桐溪县人民政府", "浙政发〔2024〕5号", "", "").label == "浙江省桐溪县"


def test_autonomous_prefectures_and_counties_have_their_usual_short_names():
    from policyqa.corpus.regions import autonomous_short, find_mentions

    assert autonomous_short("大理白族自治州") == "大理州"
    assert autonomous_short("黔东南苗族侗族自治州") == "黔东南州"  # several groups, and a place name of three
    assert autonomous_short("伊犁哈萨克自治州") == "伊犁州"  # a group named without 族
    assert autonomous_short("长阳土家族自治县") == "长阳县"
    assert autonomous_short("宿迁市") == ""
    assert [r.full for m in find_mentions("中共红河州委") for r in m.regions] == ["云南省红河哈尼族彝族自治州"]
    assert [r.full for m in find_mentions("海南省") for r in m.regions] == ["海南省"]  # 海南州 (青海) takes no bare 海南


def test_a_question_naming_only_an_unknown_district_finds_its_city_document():
    """A district the gazetteer lacks (a new or renamed one) is read from the issuer
    after its city, so a question naming the district alone is placed there."""
    from policyqa.qa.regions import asked_regions

    meta = DocMeta(doc_id="qinglan.txt", issuer="赣州市青岚区人民政府办公室")
    j = derive_jurisdiction(meta.issuer)
    docs = {"qinglan.txt": DocMeta(doc_id="qinglan.txt", region=j.label, jurisdiction=j.label, issuer=meta.issuer),
            "city.txt": DocMeta(doc_id="city.txt", region="江西省赣州市", jurisdiction="江西省赣州市")}
    (asked,) = asked_regions("青岚区技改补助按几个点补？", docs)
    assert asked.full == "江西省赣州市青岚区"
    assert set(docs_for(asked, docs)) == {"qinglan.txt", "city.txt"}  # the city's rules apply in its districts too
    assert applicability(docs["qinglan.txt"], asked).applies
    assert applicability(docs["qinglan.txt"], "赣州市") is Applicability.PART
