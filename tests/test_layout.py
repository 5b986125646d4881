"""Converter repairs: spaced digits, spaces inside clauses, hard wraps, page numbers."""

from policyqa.corpus.clean import clean_text, prepare
from policyqa.corpus.layout import display_width, is_page_number, repair_layout

ORGS = ("局", "部", "厅", "委", "政府", "总局")


def test_spaced_article_numbers_years_and_doc_numbers_are_joined():
    text = "第 1 0 条 对企业给予奖励。\n第 二 十 六 条 本办法自发布之日起施行。\n（ 2 0 2 3 年 2 月 8 日 ）\n霍政发〔 2023 〕 5 号"
    assert repair_layout(text).split("\n") == [
        "第10条 对企业给予奖励。", "第二十六条 本办法自发布之日起施行。", "（ 2023 年 2 月 8 日 ）", "霍政发〔2023〕 5 号",
    ]
    assert clean_text(text).split("\n")[2:] == ["（2023年2月8日）", "霍政发〔2023〕5号"]


def test_numbers_that_mean_something_else_keep_their_spaces():
    # multi-digit groups, a row of table values, Latin words
    text = "共培育 2023 10 个项目，合计 1 2 3\nMade in China 2025 计划"
    assert repair_layout(text) == text


def test_spaces_inside_clauses_go_only_in_a_converter_spaced_document():
    converted = "\n".join([
        "第3条 对新认定的企业，给予 企业300万元奖励。",
        "第11条 县财政每年安排专项资金，统筹、协 调用于政策兑现。",
        "第12条 本意见由县经信局负责解释。",
    ])
    assert repair_layout(converted, ORGS).split("\n") == [
        "第3条 对新认定的企业，给予企业300万元奖励。",
        "第11条 县财政每年安排专项资金，统筹、协调用于政策兑现。",
        "第12条 本意见由县经信局负责解释。",
    ]
    # one such space in a document is a name list or a typo: left alone
    single = "为强化政策宣贯效果，陆续报道各部门举措。(陈芳 茆长城)\n今天推出第十期。\n下期再会。"
    assert repair_layout(single, ORGS) == single


def test_titles_signatures_names_and_heading_spaces_are_kept():
    text = "\n".join([
        "强化政策服务 聚力推动产业新城建设",  # a title: no clause punctuation
        "工业和信息化部 财政部",
        "第一条 为规范管理，根据 有关规定，制定本办法。",
        "第二条 联合发文单位为工业和信息化部 财政部，由 两部门负责解释。",
        "第三条 联系人(王明 李强)，电话另行通知，请 及时报送。",
    ])
    out = repair_layout(text, ORGS).split("\n")
    assert out[0] == "强化政策服务 聚力推动产业新城建设"
    assert out[1] == "工业和信息化部 财政部"
    assert out[2] == "第一条 为规范管理，根据有关规定，制定本办法。"
    assert out[3] == "第二条 联合发文单位为工业和信息化部 财政部，由两部门负责解释。"
    assert out[4] == "第三条 联系人(王明 李强)，电话另行通知，请及时报送。"


def test_a_flattened_document_keeps_its_spaces():
    flat = ("某市关于支持企业复工复产的通知 各区人民政府： 为支持企业复工复产，现通知如下： "
            "一、减免房租 对承租国有资产类经营用房的企业，免收一个月房租。 二、稳定就业 对不裁员的企业，返还失业保险费。 "
            "三、加大信贷 对受影响较大的企业，不得盲目抽贷。" * 2)
    assert repair_layout("标题\n" + flat + "\n2020年2月1日", ORGS) == "标题\n" + flat + "\n2020年2月1日"


def _wrap(paragraph: str, width: int = 56) -> list[str]:
    """Lay a paragraph out as a PDF page would: lines of at most ``width`` columns."""
    lines, cur = [], ""
    for ch in paragraph:
        if display_width(cur + ch) > width:
            lines.append(cur)
            cur = ""
        cur += ch
    return lines + [cur]


PARAGRAPHS = [
    "为加快构建以先进制造业为支撑的现代产业体系，推动全县重点产业集群发展，结合我县实际，现提出如下意见。",
    "一、支持企业做大做强",
    "第1条 对年度主营业务收入首次突破10亿元、20亿元、50亿元的工业企业，分别给予企业经营团队50万元、100万元、200万元奖励。",
    "第2条 对首次纳入规模以上工业统计的企业，给予企业10万元奖励；对在规上企业库连续保持三年的，再给予5万元奖励。",
    "第3条 对年度设备投资额500万元以上的技术改造项目，按设备投资额的8%给予补助，单个项目最高不超过500万元。",
]


def test_hard_wrapped_lines_are_joined_and_page_numbers_between_them_dropped():
    lines = [ln for p in PARAGRAPHS for ln in _wrap(p)]
    assert len(lines) >= 2 * len(PARAGRAPHS)
    lines.insert(6, "- 1 -")  # a page footer inside a paragraph
    assert repair_layout("\n".join(lines)).split("\n") == PARAGRAPHS


def test_a_number_split_by_the_wrap_is_joined_without_a_space():
    split = "对列入试点的技术改造项目按设备投资额给予补助最高奖励企15" + "0万元，对新认定的省级智能工厂给予奖励。"
    assert _wrap(split)[0].endswith("15") and _wrap(split)[1].startswith("0万元")
    lines = [ln for p in PARAGRAPHS + [split] for ln in _wrap(p)]
    assert repair_layout("\n".join(lines)).split("\n")[-1] == split


def test_documents_that_are_not_wrapped_keep_their_lines():
    text = "一、总体要求\n坚持稳中求进。\n二、目标\n到2025年，培育专精特新企业100家，新增规上企业50家以上。\n三、措施\n加强服务。"
    assert repair_layout(text) == text


def test_helpers():
    assert display_width("第1条 ab") == 2 + 1 + 2 + 1 + 2
    assert is_page_number("- 3 -") and is_page_number("第 3 页 共 9 页") and is_page_number("－12－")
    assert not is_page_number("2023") and not is_page_number("第3条")


def test_prepare_keeps_traditional_and_pinyin_handling_before_layout():
    assert prepare("強(qiáng)化 政策，給予 企業獎勵。\n第 1 0 條\n第二行。") .startswith("强化")


def _wrap_proportional(paragraph: str, width: float = 36.0) -> list[str]:
    """Lay a paragraph out in a proportional font: a Han character is one em wide, a
    digit or a Latin letter about half, so full lines hold different numbers of columns."""
    lines, cur, used = [], "", 0.0
    for ch in paragraph:
        w = 1.0 if display_width(ch) == 2 else 0.55
        if used + w > width:
            lines.append(cur)
            cur, used = "", 0.0
        cur += ch
        used += w
    return lines + [cur]


def test_a_proportional_font_pdf_is_joined_though_its_full_lines_differ_in_width():
    paragraphs = PARAGRAPHS + [
        "第4条 对2024年1月1日至2025年12月31日期间设备投资1000万元至3000万元的项目，按设备投资额的12.5%补助；"
        "3000万元以上的按15%补助，单个项目最高不超过1500万元；对500万元至1000万元的项目按10%补助，最高不超过80万元，"
        "由县工业和信息化局会同县财政局组织实施，企业按年度申报。",
    ]
    lines = [ln for p in paragraphs for ln in _wrap_proportional(p)]
    widths = {display_width(ln) for ln in lines if len(ln) > 30}
    assert max(widths) - min(widths) >= 4  # digits make some full lines wider than others
    assert repair_layout("\n".join(lines)).split("\n") == paragraphs


def test_a_near_full_line_that_ends_a_sentence_is_not_joined():
    last = "第4条 本政策由县工业和信息化局负责解释，自印发之日起施行，有效期三年。"
    lines = [ln for p in PARAGRAPHS for ln in _wrap(p)]
    # a short paragraph that ends its sentence just short of the page width, then another
    lines += ["对新认定的省级专精特新中小企业，给予一次性奖励二十万元整。", last]
    out = repair_layout("\n".join(lines)).split("\n")
    assert out[-2:] == ["对新认定的省级专精特新中小企业，给予一次性奖励二十万元整。", last]


def test_an_enumeration_item_the_wrap_put_at_a_line_start_continues_its_paragraph():
    para = ("第二十七条 有下列情形之一的，不予享受本政策：（一）被列入严重失信主体名单的；（二）申报年度或上一年度发生较大及以上"
            "生产安全事故的；（三）存在欠缴税款等违法行为的；（四）上一年度亩均效益综合评价为D类的。")
    head, tail = para.split("（四）")
    assert display_width(_wrap(head)[-1]) >= 0.85 * 56  # the item before ends a line the page width filled
    lines = [ln for p in PARAGRAPHS for ln in _wrap(p)] + _wrap(head) + ["（四）" + tail]
    assert repair_layout("\n".join(lines)).split("\n")[-1] == para
    # an item whose predecessor is not in the line before starts its own line
    own = [ln for p in PARAGRAPHS for ln in _wrap(p)] + ["（二）申报年度发生较大及以上生产安全事故的；"]
    assert repair_layout("\n".join(own)).split("\n")[-1] == "（二）申报年度发生较大及以上生产安全事故的；"


def test_a_flattened_document_is_split_back_at_its_headings():
    """A document flattened onto one line (its line breaks turned into spaces, as a
    web page's text often is) gets its lines back at its headings, so its items are
    chunked and cited as items: the cleaned text has a line per heading, and a
    decimal, a count or a list inside a sentence after a space stays put."""
    from policyqa.corpus.chunk import chunk_document
    from policyqa.corpus.layout import split_flattened
    from policyqa.corpus.types import DocMeta, Document

    flat = ("某市关于支持企业复工复产的通知 各区人民政府： 为支持企业复工复产，现通知如下： "
            "一、减免房租 （一）对承租国有资产类经营用房的企业，免收一个月房租。 （二）规模达 3.5 亿元的园区减半收取物业费。 "
            "二、稳定就业 1.对不裁员的企业，返还失业保险费。 2.新招用的员工给予补贴，名额 2 人以上的 1.5 倍计算。 "
            "三、加大信贷 对受影响较大的企业，不得盲目抽贷。")
    lines = split_flattened(flat)
    assert [ln[:4] for ln in lines] == ["某市关于", "一、减免", "（一）对", "（二）规", "二、稳定", "1.对不", "2.新招", "三、加大"]
    assert "".join(lines).replace(" ", "") == flat.replace(" ", "")
    assert "规模达 3.5 亿元" in lines[3] and "名额 2 人以上的 1.5 倍" in lines[6]
    # a line that is not flattened is returned whole
    assert split_flattened("（一）对企业 1.5 倍计算。") == ["（一）对企业 1.5 倍计算。"]

    text = clean_text(flat)
    assert text.split("\n")[1] == "一、减免房租"
    chunks = chunk_document(Document(DocMeta(doc_id="f.txt"), text))
    by_section = {c.section: c.text for c in chunks}
    assert by_section["一、减免房租 > （一）"].startswith("（一）对承租国有资产类经营用房的企业")
    assert by_section["二、稳定就业 > 2."].startswith("2.新招用的员工")
