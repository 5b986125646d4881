"""Tables: rows keep their column names and become citable units of their own."""

import pytest

from policyqa.corpus.chunk import chunk_document
from policyqa.corpus.clean import clean_text
from policyqa.corpus.readers import html_to_text, read_file
from policyqa.corpus.tables import linearize_tables
from policyqa.corpus.types import DocMeta, Document


def test_header_row_names_every_cell_of_the_rows_below():
    rows = "认定级别\t智能工厂\t智能车间\n国家级\t200万元\t100万元\n省级\t100万元\t"
    assert linearize_tables(rows).split("\n") == [
        "认定级别 | 智能工厂 | 智能车间",
        "认定级别：国家级 | 智能工厂：200万元 | 智能车间：100万元",
        "认定级别：省级 | 智能工厂：100万元",  # an empty cell says nothing
    ]


def test_caption_spanning_row_and_two_level_header():
    rows = "\n".join([
        "奖励标准表\t奖励标准表\t奖励标准表",
        "类别\t奖励\t奖励",
        "类别\t工厂\t车间",
        "国家级\t200万元\t100万元",
    ])
    assert linearize_tables(rows).split("\n") == [
        "奖励标准表", "类别 | 奖励 | 奖励", "类别 | 工厂 | 车间", "类别：国家级 | 奖励·工厂：200万元 | 奖励·车间：100万元",
    ]


def test_label_value_tables_of_government_sites():
    rows = "索引号\t014101542/2023-00021\t发布机构\t射阳县人民政府\n文号\t射政发〔2023〕6号\t成文日期\t2023-05-20"
    assert linearize_tables(rows).split("\n") == [
        "索引号：014101542/2023-00021 | 发布机构：射阳县人民政府", "文号：射政发〔2023〕6号 | 成文日期：2023-05-20",
    ]


def test_pdf_text_table_under_a_header_line():
    text = "附表\n序号 认定类别 奖励标准\n1 国家级专精特新“小巨人”企业 300万元\n2 省级专精特新中小企业 30万元\n说明：按就高原则兑现。"
    assert linearize_tables(text).split("\n") == [
        "附表", "序号 | 认定类别 | 奖励标准",
        "序号：1 | 认定类别：国家级专精特新“小巨人”企业 | 奖励标准：300万元",
        "序号：2 | 认定类别：省级专精特新中小企业 | 奖励标准：30万元",
        "说明：按就高原则兑现。",
    ]


@pytest.mark.parametrize("delimiter", ["| --- | --- |", "|---|---|", "|:---|---:|", ":--- | ---:"])
def test_markdown_pipe_table_rows_name_their_columns(delimiter):
    """A Markdown table (a pipe header row, a delimiter row of dashes, pipe rows) is a table like
    any other: its delimiter row goes, each row names its cells; prose with a pipe is no table."""
    text = "\n".join(["按下表奖励：", "", "| 认定级别 | 奖励 |", delimiter, "| 国家级 | 100万元 |", "| 省级 | 30万元 |", "",
                     "企业按 A|B 两类申报。"])
    assert linearize_tables(text).split("\n") == [
        "按下表奖励：", "", "认定级别 | 奖励", "认定级别：国家级 | 奖励：100万元", "认定级别：省级 | 奖励：30万元", "",
        "企业按 A|B 两类申报。",
    ]
    assert linearize_tables("| 甲 | 乙 |\n| 丙 | 丁 |") == "| 甲 | 乙 |\n| 丙 | 丁 |"  # no delimiter row: not read as a table


def test_markdown_file_table_rows_are_chunked_as_cited_units(tmp_path):
    path = tmp_path / "政策.md"
    path.write_text("# 某县奖励办法\n\n第一条 按下表奖励：\n\n| 认定级别 | 奖励 |\n| --- | --- |\n| 国家级 | 100万元 |\n"
                    "| 省级 | 30万元 |\n", encoding="utf-8")
    text = clean_text(read_file(path)[0].text)
    assert "认定级别：省级 | 奖励：30万元" in text.split("\n")
    assert "---" not in text


def test_prose_and_signatures_are_not_tables():
    text = "中共霍山县委 霍山县人民政府\n2023年2月8日\n强化政策服务 聚力推动产业新城建设\n一、总体要求"
    assert linearize_tables(text) == text


def test_cleaning_keeps_the_separators_and_every_cell():
    raw = "级别\t奖励（一次性）\t备注\n国家级\t 100 万元 \t（按年度兑现）"
    assert clean_text(raw).split("\n") == ["级别 | 奖励（一次性） | 备注", "级别：国家级 | 奖励（一次性）：100万元 | 备注：（按年度兑现）"]


def test_html_rowspan_and_colspan_are_expanded():
    html = ("<table><tr><th rowspan=2>类别</th><th colspan=2>奖励</th></tr><tr><th>工厂</th><th>车间</th></tr>"
            "<tr><td rowspan=2>省级</td><td>100万元</td><td>50万元</td></tr><tr><td>80万元</td><td>40万元</td></tr></table>")
    text, _ = html_to_text(html)
    assert text.split("\n") == ["类别\t奖励\t奖励", "类别\t工厂\t车间", "省级\t100万元\t50万元", "省级\t80万元\t40万元"]
    assert clean_text(text).split("\n")[-1] == "类别：省级 | 奖励·工厂：80万元 | 奖励·车间：40万元"


def test_layout_tables_are_read_as_markup():
    page = "<table><tr><td><p>第一条 总则。</p><p>第二条 奖励。" + "内容" * 200 + "</p></td><td>侧栏</td></tr></table>"
    text, _ = html_to_text(page)
    assert text.startswith("第一条 总则。\n第二条 奖励。")


def test_every_row_is_its_own_citable_unit_under_its_caption():
    text = clean_text("二、奖励标准\n（一）智能工厂奖励\n奖励标准如下\n认定级别\t奖励金额\n国家级\t200万元\n省级\t100万元\n（二）其他")
    chunks = chunk_document(Document(DocMeta(doc_id="t.txt"), text))
    rows = [c for c in chunks if c.kind == "table"]
    assert [(c.chunk_id, c.section, c.text) for c in rows] == [
        ("t.txt#二/一/表1/r1#0", "二、奖励标准 > （一）智能工厂奖励 > 奖励标准如下 > 国家级", "认定级别：国家级 | 奖励金额：200万元"),
        ("t.txt#二/一/表1/r2#0", "二、奖励标准 > （一）智能工厂奖励 > 奖励标准如下 > 省级", "认定级别：省级 | 奖励金额：100万元"),
    ]
    assert not any("奖励标准如下" in c.text or "（一）智能工厂奖励" in c.text for c in chunks)  # labels, not passages


@pytest.mark.parametrize("rows", [1, 3])
def test_docx_table_rows_survive_the_reader_and_chunker(tmp_path, rows):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("一、奖励标准")
    table = d.add_table(rows=rows + 1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "级别", "金额"
    for i in range(rows):
        table.cell(i + 1, 0).text, table.cell(i + 1, 1).text = f"第{i + 1}档", f"{(i + 1) * 10}万元"
    f = tmp_path / "t.docx"
    d.save(str(f))
    [raw] = read_file(f)
    chunks = chunk_document(Document(DocMeta(doc_id="t.docx"), clean_text(raw.text)))
    assert [c.text for c in chunks if c.kind == "table"] == [f"级别：第{i + 1}档 | 金额：{(i + 1) * 10}万元" for i in range(rows)]


def test_a_stray_tab_in_prose_is_not_a_table():
    line = "2019年1月24日 来源：中国银监会\t为规范商业银行委托贷款业务，加强委托贷款监管，制定本办法。"
    assert linearize_tables(line) == line
    assert linearize_tables("发文机关\t某县人民政府") == "发文机关：某县人民政府"


def test_pdf_text_table_whose_rows_begin_with_a_label_not_a_serial():
    text = ("表1 跨档奖励标准\n档次 年度营业收入 一次性奖励\n第一档 首次突破5亿元 20万元\n"
            "第二档 首次突破10亿元 50万元\n跨档晋级的，按差额补足。")
    assert linearize_tables(text).split("\n") == [
        "表1 跨档奖励标准", "档次 | 年度营业收入 | 一次性奖励",
        "档次：第一档 | 年度营业收入：首次突破5亿元 | 一次性奖励：20万元",
        "档次：第二档 | 年度营业收入：首次突破10亿元 | 一次性奖励：50万元",
        "跨档晋级的，按差额补足。",
    ]
    # a page number under the rows ends the table; space-separated words without figures are no table
    assert linearize_tables(text.replace("跨档晋级", "- 2 -\n跨档晋级")).split("\n")[-2] == "- 2 -"
    words = "甲 乙 丙\n工业 企业 发展\n科技 创新 驱动\n正文。"
    assert linearize_tables(words) == words


def test_a_long_line_that_almost_delimits_a_markdown_table_is_read_in_linear_time():
    """An upload's line of dashes and a long run of spaces that fails to be a delimiter row is
    scanned once (it took seconds at 20,000 spaces when every split of the run was tried)."""
    import time

    text = "| 认定级别 | 奖励 |\n|---" + " " * 200_000 + "x\n| 国家级 | 100万元 |"
    t0 = time.perf_counter()
    out = linearize_tables(text)
    assert time.perf_counter() - t0 < 1.0
    assert "认定级别：国家级" not in out  # no delimiter row: no Markdown table
