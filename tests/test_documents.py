"""Documents as users bring them (tests/fixtures/documents): exact metadata,
section paths, tables, jurisdiction, validity and versions for each shape."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date

import pytest

from document_fixtures import fixture_folder
from fakes import KeywordEmbedder, jieba_tokenizer
from policyqa.corpus.chunk import ChunkerConfig
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.corpus.types import Period
from policyqa.corpus.versions import link_versions
from policyqa.index.hybrid import RetrievalConfig
from policyqa.index.store import IndexStore
from policyqa.qa.answerer import Answerer
from policyqa.qa.compose import ExtractiveComposer


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return fixture_folder(tmp_path_factory.mktemp("fixtures"))


@pytest.fixture(scope="module")
def docs(folder):
    report = load_corpus([folder])
    assert report.ok, report.skipped
    return {d.doc_id: d for d in report.documents}


@pytest.fixture(scope="module")
def chunks(docs):
    return {i: chunk_documents([d]) for i, d in docs.items()}


EXPECTED = {
    "guowuyuan-digital-notice.txt": dict(
        title="国务院办公厅关于加快中小企业数字化转型促进专精特新发展的通知", issuer="国务院办公厅", date="2024-03-15",
        dates=(("落款", "2024-03-15"),), doc_number="国办发〔2024〕15号", region="全国", province="", city="", district="",
        doc_type="notice", period=None, issuer_level="national", jurisdiction="全国", valid_from="", valid_to="",
        repeals="", supersedes=(), superseded_by=()),
    "zhejiang-fund-measures.txt": dict(
        title="浙江省经济和信息化厅 浙江省财政厅关于印发《浙江省中小企业发展专项资金管理办法》的通知",
        issuer="浙江省经济和信息化厅 浙江省财政厅", date="2023-06-12", dates=(("落款", "2023-06-12"),),
        doc_number="浙经信企业〔2023〕88号", region="浙江省", province="浙江省", city="", district="", doc_type="notice",
        period=None, issuer_level="province", jurisdiction="浙江省", valid_from="2023-07-01", valid_to="2027-12-31",
        repeals="", supersedes=(), superseded_by=()),
    "huoshan-industry-pdf.html": dict(
        title="关于支持重点产业加快发展的实施意见", issuer="中共霍山县委 霍山县人民政府", date="2023-02-08",
        dates=(("题注", "2023-02-08"),), doc_number="", region="安徽省六安市霍山县", province="安徽省", city="六安市",
        district="霍山县", doc_type="plan", period=None, issuer_level="county", jurisdiction="安徽省六安市霍山县",
        valid_from="2023-02-08", valid_to="2026-02-07", repeals="", supersedes=(), superseded_by=()),
    "yixing-smart-reward.docx": dict(
        title="宜兴市工业和信息化局关于印发《宜兴市智能化改造和数字化转型奖励细则》的通知", issuer="宜兴市工业和信息化局",
        date="2024-04-02", dates=(("落款", "2024-04-02"),), doc_number="宜工信发〔2024〕21号", region="江苏省无锡市宜兴市",
        province="江苏省", city="无锡市", district="宜兴市", doc_type="notice", period=None, issuer_level="county",
        jurisdiction="江苏省无锡市宜兴市", valid_from="2024-05-01", valid_to="2026-12-31", repeals="",
        supersedes=(), superseded_by=()),
    "sheyang-industry-2020.txt": dict(
        title="关于印发《射阳县促进工业经济高质量发展若干政策》的通知", issuer="射阳县人民政府", date="2020-04-10",
        dates=(("落款", "2020-04-10"),), doc_number="射政发〔2020〕15号", region="江苏省盐城市射阳县", province="江苏省",
        city="盐城市", district="射阳县", doc_type="notice", period=None, issuer_level="county",
        jurisdiction="江苏省盐城市射阳县", valid_from="2020-05-01", valid_to="2023-04-30", repeals="",
        supersedes=(), superseded_by=("sheyang-industry-2023.html",)),
    "sheyang-industry-2023.html": dict(
        title="关于印发《射阳县推动工业经济高质量发展若干政策》的通知", issuer="射阳县人民政府", date="2023-05-20",
        dates=(("成文日期", "2023-05-20"), ("发布时间", "2023-05-26"), ("落款", "2023-05-20")),
        doc_number="射政发〔2023〕6号", region="江苏省盐城市射阳县", province="江苏省", city="盐城市", district="射阳县",
        doc_type="notice", period=None, issuer_level="county", jurisdiction="江苏省盐城市射阳县",
        valid_from="2023-06-01", valid_to="2026-05-31",
        repeals="此前出台的县级工业经济相关支持奖励政策同时废止，与本政策不一致的，以本政策为准。",
        supersedes=("sheyang-industry-2020.txt",), superseded_by=()),
}


@pytest.mark.parametrize("doc_id", sorted(EXPECTED))
def test_fixture_metadata_exact(docs, doc_id):
    metas = {m.doc_id: m for m in link_versions([d.meta for d in docs.values()])}
    got = {k: getattr(metas[doc_id], k) for k in EXPECTED[doc_id]}
    assert got == EXPECTED[doc_id]
    assert isinstance(EXPECTED[doc_id]["period"], (Period, type(None)))


def _sections(cs):
    return [c.section for c in cs]


def _articles(cs):
    return [re.match(r"第[一二三四五六七八九十\d]+条", p).group(0)
            for c in cs for p in c.section.split(" > ") if re.match(r"第[一二三四五六七八九十\d]+条", p)]


def test_provincial_measures_nest_items_under_their_article(chunks):
    cs = chunks["zhejiang-fund-measures.txt"]
    s = _sections(cs)
    assert "第二章 支持方向和标准 > 第三条 专项资金主要用于以下方向： > （一）支持专精特新企业培育" in s
    assert "第二章 支持方向和标准 > 第四条 对中小企业公共服务示范平台，按下列标准给予奖励： > （二）" in s
    assert "第三章 申报和审核 > 第五条 申报专项资金的企业应当符合下列条件： > （二）专项条件 > 1." in s
    item = next(c for c in cs if "新认定为省级示范平台的，奖励30万元" in c.text)
    assert item.chunk_id == "zhejiang-fund-measures.txt#第二章/第四条/二#0"
    assert "第四条 对中小企业公共服务示范平台，按下列标准给予奖励：" in item.header  # the item keeps its topic
    # every article is a unit of its own (or the parent of its items' units), once, in order
    assert list(dict.fromkeys(_articles(cs))) == [f"第{n}条" for n in "一二三四五六七八九"]


def test_converted_county_policy_articles_are_each_their_own_unit(docs, chunks):
    text = docs["huoshan-industry-pdf.html"].text
    for damaged in ("第 1 0 条", "给予 企业", "协 调", "- 1 -", "健康医药 产业"):
        assert damaged not in text
    assert "给予企业300万元奖励" in text and "统筹、协调用于本意见各项政策兑现" in text
    cs = chunks["huoshan-industry-pdf.html"]
    arts = [c for c in cs if c.section.split(" > ")[-1].startswith("第") and c.kind == "clause"]
    assert [c.section.split(" > ")[-1] for c in arts] == [f"第{n}条" for n in range(1, 13)]
    tenth = next(c for c in arts if c.section.endswith("第10条"))
    assert tenth.section == "四、强化要素保障 > 第10条"
    assert tenth.text == "第10条 对重点产业项目用地，优先保障用地指标；对亩均税收超过30万元的企业，按其新增税收县级留成部分的50%给予奖励。"
    seventh = next(c for c in arts if c.section.endswith("第7条"))
    assert seventh.text == "第7条 对新认定的国家级、省级企业技术中心，分别给予100万元、30万元奖励。"  # across the page break


def test_table_rows_are_citable_units_with_their_column_names(chunks):
    rows = [(c.section, c.text) for c in chunks["yixing-smart-reward.docx"] if c.kind == "table"]
    head = "二、奖励标准 > （一）对新认定的智能工厂和智能车间，按下表给予一次性奖励： > 认定级别 | 智能工厂 | 智能车间"
    assert rows == [
        (f"{head} > 国家级", "认定级别：国家级 | 智能工厂：200万元 | 智能车间：100万元"),
        (f"{head} > 省级", "认定级别：省级 | 智能工厂：100万元 | 智能车间：50万元"),
        (f"{head} > 无锡市级", "认定级别：无锡市级 | 智能工厂：30万元 | 智能车间：20万元"),
    ]
    pdf_rows = [(c.chunk_id, c.section, c.text) for c in chunks["huoshan-industry-pdf.html"] if c.kind == "table"]
    assert pdf_rows[0] == ("huoshan-industry-pdf.html#p1/表1/r1#0", "附表 > 霍山县重点产业企业奖励标准 > 国家级专精特新“小巨人”企业",
                           "序号：1 | 认定类别：国家级专精特新“小巨人”企业 | 奖励标准：300万元")
    assert len(pdf_rows) == 4


def test_versions_are_linked_and_the_newer_is_current(docs):
    metas = {m.doc_id: m for m in link_versions([d.meta for d in docs.values()])}
    current = [i for i, m in metas.items() if not m.superseded_by]
    assert "sheyang-industry-2020.txt" not in current and "sheyang-industry-2023.html" in current
    assert sum(1 for m in metas.values() if m.supersedes) == 1


def test_spans_and_unique_ids(docs, chunks):
    for doc_id, cs in chunks.items():
        assert len({c.chunk_id for c in cs}) == len(cs)
        for c in cs:
            assert docs[doc_id].text[c.start:c.end] == c.text


# --- the index and the answers ---------------------------------------------------------


@pytest.fixture(scope="module")
def store(docs, tmp_path_factory):
    ds = list(docs.values())
    return IndexStore.build(ds, chunk_documents(ds), KeywordEmbedder(["奖励", "补助"]), jieba_tokenizer(),
                            tmp_path_factory.mktemp("ix") / "index", chunker_settings=ChunkerConfig().to_dict(), progress=False)


def test_the_index_links_versions_on_build_add_and_remove(store, docs):
    assert store.docs["sheyang-industry-2023.html"].supersedes == ("sheyang-industry-2020.txt",)
    newer = docs["sheyang-industry-2023.html"]
    store.remove("sheyang-industry-2023.html")
    assert store.docs["sheyang-industry-2020.txt"].superseded_by == ()
    store.add([newer], chunk_documents([newer]))
    assert store.docs["sheyang-industry-2020.txt"].superseded_by == ("sheyang-industry-2023.html",)
    store.save()
    again = IndexStore.load(store.path, KeywordEmbedder(["奖励", "补助"]))
    assert again.docs["sheyang-industry-2023.html"].supersedes == ("sheyang-industry-2020.txt",)


def _answerer(store, today):
    tok = store.tokenizer.tokenize
    return Answerer(store.retriever(RetrievalConfig(mode="bm25")), ExtractiveComposer(tok), store.docs, tok, today=lambda: today)


def test_a_lapsed_policy_gets_the_expiry_note(store):
    q = "霍山县对新认定的省级企业技术中心奖励多少？"
    lapsed = _answerer(store, date(2026, 11, 22)).answer(q)
    assert "30万元" in lapsed.text and lapsed.citations[0].doc_id == "huoshan-industry-pdf.html"
    assert any("2023-02-08至2026-02-07" in n and "已经结束" in n for n in lapsed.notes)
    assert not _answerer(store, date(2025, 6, 1)).answer(q).notes


def test_a_national_rule_is_not_labelled_with_a_city(store):
    a = _answerer(store, date(2026, 11, 22)).answer("上海的中小企业数字化转型试点城市奖补资金最高多少？")
    assert "1.5亿元" in a.text and a.citations[0].doc_id == "guowuyuan-digital-notice.txt"
    # a national rule applies in 上海: said so, with the note that 上海 has no document of its own here
    assert a.region_note and "适用于各地" in a.region_note and "不适用" not in a.text
    assert "深圳" not in (a.citations[0].region or "")


# --- the CLI ---------------------------------------------------------------------------


def test_docs_json_shows_jurisdiction_validity_and_versions(folder):
    r = subprocess.run([sys.executable, "-m", "policyqa.cli", "docs", "--json", "--corpus", str(folder)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = {x["doc_id"]: x for x in json.loads(r.stdout)}
    x = rows["huoshan-industry-pdf.html"]
    assert (x["issuer_level"], x["jurisdiction"], x["valid_from"], x["valid_to"]) == ("county", "安徽省六安市霍山县", "2023-02-08", "2026-02-07")
    assert rows["sheyang-industry-2023.html"]["supersedes"] == ["sheyang-industry-2020.txt"]
    assert rows["sheyang-industry-2020.txt"]["superseded_by"] == ["sheyang-industry-2023.html"]
    assert rows["guowuyuan-digital-notice.txt"]["jurisdiction"] == "全国"


def test_add_takes_several_files(folder, tmp_path):
    from policyqa.cli import build_parser
    from policyqa.qa.service import KnowledgeBase
    from policyqa.settings import Settings

    files = [str(folder / n) for n in ("sheyang-industry-2020.txt", "sheyang-industry-2023.html", "yixing-smart-reward.docx")]
    assert build_parser().parse_args(["add", *files]).files == files
    base = list(load_corpus().documents)
    store = IndexStore.build(base, chunk_documents(base), KeywordEmbedder(["奖励"]), jieba_tokenizer(), tmp_path / "index",
                             chunker_settings=ChunkerConfig().to_dict(), progress=False)
    kb = KnowledgeBase(store, Settings(home=tmp_path), retrieval=RetrievalConfig(mode="bm25"), llm=None)
    rep = kb.add(files)
    assert sorted(rep.added) == sorted(f.rsplit("/", 1)[1] for f in files) and not rep.skipped
    listed = {m.doc_id: m for m in kb.documents()}
    assert listed["sheyang-industry-2020.txt"].superseded_by == ("sheyang-industry-2023.html",)


@pytest.mark.slow
def test_cli_add_several_files_with_the_real_model(folder, tmp_path):
    env = {**__import__("os").environ, "POLICYQA_HOME": str(tmp_path)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "policyqa.cli", *a], capture_output=True, text=True, timeout=900, env=env)  # noqa: E731
    assert run("build", "--quiet", "--corpus", str(folder / "guowuyuan-digital-notice.txt")).returncode == 0
    r = run("add", str(folder / "sheyang-industry-2020.txt"), str(folder / "sheyang-industry-2023.html"), str(folder / "yixing-smart-reward.docx"))
    assert r.returncode == 0, r.stderr
    assert "added 3, replaced 0 documents" in r.stderr
    rows = {x["doc_id"]: x for x in json.loads(run("docs", "--json").stdout)}
    assert set(rows) == {"guowuyuan-digital-notice.txt", "sheyang-industry-2020.txt", "sheyang-industry-2023.html", "yixing-smart-reward.docx"}
    assert rows["sheyang-industry-2020.txt"]["superseded_by"] == ["sheyang-industry-2023.html"]
