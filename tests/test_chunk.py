"""Chunking: heading hierarchy, interview Q&A units, spans, sizes, stable ids."""

import re

import pytest

from policyqa.corpus.chunk import ChunkerConfig, chunk_document, focus_question, heading_label
from policyqa.corpus.pipeline import chunk_documents, load_corpus
from policyqa.corpus.types import DocMeta, Document


@pytest.fixture(scope="module")
def seeds():
    docs = {d.doc_id: d for d in load_corpus().documents}
    return docs, {i: chunk_document(d) for i, d in docs.items()}


def test_spans_map_back_to_the_cleaned_text(seeds):
    docs, chunks = seeds
    for doc_id, cs in chunks.items():
        for c in cs:
            assert docs[doc_id].text[c.start:c.end] == c.text
            assert c.doc_id == doc_id


def test_chunk_ids_unique_and_readable(seeds):
    _, chunks = seeds
    ids = [c.chunk_id for cs in chunks.values() for c in cs]
    assert len(ids) == len(set(ids))
    assert "002_697662195d68ce1c.txt#三/12#0" in ids


def test_section_path_of_a_numbered_clause(seeds):
    _, chunks = seeds
    c = next(c for c in chunks["002_697662195d68ce1c.txt"] if c.chunk_id == "002_697662195d68ce1c.txt#三/12#0")
    assert c.section == "三、加强协作配套强链 > 12."
    assert c.text.startswith("12.聚焦工程机械、新能源等重点产业链")
    assert c.responsible == "牵头单位:市工信局;责任单位:市市场监管局、市政务办等按职责分工"
    assert "三、加强协作配套强链 > 12." in c.header and "《关于印发" in c.header


def test_responsible_note_governs_its_section_and_is_not_a_chunk(seeds):
    _, chunks = seeds
    cs = chunks["002_697662195d68ce1c.txt"]
    ip = [c for c in cs if c.section.startswith("五、加强知识产权保护")]
    assert [c.section.split(" > ")[1] for c in ip] == ["21.", "22.", "23.", "24.", "25.", "26."]
    assert all(c.responsible.startswith("牵头单位:市市场监管局;责任单位:市知识产权局") for c in ip)
    assert not any(c.text.startswith("(牵头单位") for c in cs)


def test_clause_without_dot_is_still_a_clause(seeds):
    _, chunks = seeds
    c = next(c for c in chunks["002_697662195d68ce1c.txt"] if c.text.startswith("18优先推荐"))
    assert c.section == "四、强化质量品牌创优 > 18."


def test_three_level_hierarchy_of_luohe(seeds):
    _, chunks = seeds
    sections = [c.section for c in chunks["003_ff27b125962f3501.txt"]]
    assert "三、发展方向和重点 > (一)食品产业 > 1、提升品质" in sections
    assert "四、工作措施 > (六)完善一套优惠政策(政策适用时间暂定为2017年-2020年) > 3、支持推进“小升规”工程" in sections
    c = next(c for c in chunks["003_ff27b125962f3501.txt"] if "第四个年度给予企业40万元奖励" in c.text)
    assert c.section.endswith("3、支持推进“小升规”工程")
    assert c.responsible == "责任单位:市工业和信息化委、市统计局、市财政局、各县区政府"


def test_interview_question_answer_counts(seeds):
    _, chunks = seeds
    def questions(doc_id):
        return list(dict.fromkeys(c.question for c in chunks[doc_id] if c.kind == "qa"))
    q000, q001 = questions("000_df2ff32941c852ae.txt"), questions("001_19db83a107069549.txt")
    assert len(q000) == 3
    assert len(q001) == 11
    assert q001[6] == "针对区内工业企业购置智能化设备和软件方面有没有专项补贴,具体包括哪些?"


def test_long_answer_chunks_all_carry_the_question(seeds):
    _, chunks = seeds
    qa2 = [c for c in chunks["001_19db83a107069549.txt"] if c.chunk_id.split("#")[1] == "qa02"]
    assert len(qa2) >= 2
    assert qa2[0].text.startswith("[主持人]那么具体来说,请问工信局将采取哪些措施来实现今年的目标任务?")
    for c in qa2:
        assert c.question == "具体来说,请问工信局将采取哪些措施来实现今年的目标任务?"
        assert "问：具体来说,请问工信局将采取哪些措施" in c.header
    assert any("推动手机模组、背板结构件等12个新签约项目落地开工" in c.text for c in qa2[1:])
    qa1 = [c for c in chunks["000_df2ff32941c852ae.txt"] if c.chunk_id.split("#")[1] == "qa01"]
    assert qa1[0].text.startswith("请问今年市工信局在专精特新中小企业培育方面有哪些举措?")
    assert all(c.question == "请问今年市工信局在专精特新中小企业培育方面有哪些举措?" for c in qa1)
    assert any("奖励100万元" in c.text for c in qa1)


def test_sizes(seeds):
    _, chunks = seeds
    cfg = ChunkerConfig()
    for cs in chunks.values():
        for c in cs:
            sentences = re.findall(r"[^。！？；!?;]+[。！？；!?;]*", c.text)
            # over the limit only when a single sentence (plus a merged fragment) is that long
            assert len(c.text) <= cfg.max_chars + cfg.min_chars or len(sentences) <= 2, c.chunk_id


def test_no_sentence_cut_in_half(seeds):
    docs, chunks = seeds
    for doc_id, cs in chunks.items():
        text = docs[doc_id].text
        for c in cs:
            after = text[c.end:c.end + 1]
            assert after in ("", "\n") or c.text[-1] in "。！？；!?;”’)）", (c.chunk_id, c.text[-10:], after)


def test_small_split_fragments_join_a_neighbour():
    body = "一、总则\n" + "这是一个相当长的句子，用来把条款撑到超过上限的长度。" * 6 + "短句。"
    doc = Document(DocMeta(doc_id="t.txt", title="测试方案"), body)
    cs = chunk_document(doc, ChunkerConfig(max_chars=60, min_chars=20))
    assert all(len(c.text) >= 20 for c in cs)
    assert "".join(c.text for c in cs).replace("\n", "") == body.replace("\n", "")
    assert [c.chunk_id for c in cs] == [f"t.txt#一#{i}" for i in range(len(cs))]


def test_sub_plans_and_articles_are_parsed():
    text = "\n".join([
        "各单位：", "现将《甲市技术改造攻坚方案》《甲市智能化改造攻坚方案》印发给你们，请认真执行。",
        "甲市技术改造攻坚方案", "为推进技术改造，制定本方案。", "一、目标任务", "1.到2020年完成技改项目100个。",
        "甲市智能化改造攻坚方案", "为推进智能化改造，制定本方案。", "一、目标任务", "1.到2020年建成智能车间20个。",
        "附件", "第一条 本办法所称企业，是指在本市注册的企业。", "第二条 补助比例为25%。",
    ])
    cs = chunk_document(Document(DocMeta(doc_id="p.txt"), text))
    by_text = {c.text: c for c in cs}
    assert by_text["1.到2020年完成技改项目100个。"].section == "甲市技术改造攻坚方案 > 一、目标任务 > 1.到2020年完成技改项目100个"
    assert by_text["1.到2020年建成智能车间20个。"].section == "甲市智能化改造攻坚方案 > 一、目标任务 > 1.到2020年建成智能车间20个"
    assert by_text["第一条 本办法所称企业，是指在本市注册的企业。"].section == "附件 > 第一条"
    assert by_text["第二条 补助比例为25%。"].chunk_id == "p.txt#p3/第二条#0"
    assert len({c.chunk_id for c in cs}) == len(cs)


def test_chunk_ids_do_not_depend_on_other_documents():
    docs = list(load_corpus().documents)
    alone = [c.chunk_id for c in chunk_documents(docs[2:3])]
    together = [c.chunk_id for c in chunk_documents(docs) if c.doc_id == docs[2].doc_id]
    assert alone == together


def test_labels_and_question_focus():
    assert heading_label("三、加强协作配套强链") == "三、加强协作配套强链"
    assert heading_label("12.聚焦工程机械、新能源等重点产业链，探索建设细分行业和相关领域产业链旗舰平台企业。") == "12."
    assert heading_label("1、提升品质。弘扬工匠精神，实施精品制造。") == "1、提升品质"
    assert focus_question("蔡局长,请您介绍下市级星级企业申报条件及奖励标准?") == "请您介绍下市级星级企业申报条件及奖励标准?"


_QA_INTERVIEW = """青禾县工信局负责人就《青禾县工业稳增长若干措施》答记者问

发布机构：青禾县工业和信息化局　　发布日期：2025-06-02

近日，青禾县印发了《青禾县工业稳增长若干措施》。县工信局负责人接受了记者采访。

问：请介绍一下《若干措施》的主要内容。

答：《若干措施》共5个方面18条，自2025年7月1日起施行。

问：企业技术改造能拿多少补助？

答：对设备投资300万元以上的技改项目，按设备投资额的9%给予补助，单个项目最高不超过260万元。

记者：资金什么时候到位？

答：公示结束后20个工作日内拨付到企业。
"""


def test_a_transcript_of_colon_turns_is_an_interview_of_question_and_answer_units(tmp_path):
    from policyqa.corpus.turns import turn_role
    from policyqa.qa.candidates import chunk_candidates
    from policyqa.index.types import Hit

    (tmp_path / "qinghe-dawen-2025.txt").write_text(_QA_INTERVIEW, encoding="utf-8")
    doc = load_corpus([tmp_path]).documents[0]
    assert doc.meta.doc_type == "interview"
    assert doc.meta.title.startswith("青禾县工信局负责人就")  # the first turn is never the title
    qa = [c for c in chunk_document(doc) if c.kind == "qa"]
    # every asking turn opens a unit, even one that asks without a question word (「请介绍一下…。」)
    assert [c.question for c in qa] == ["请介绍一下《若干措施》的主要内容。", "企业技术改造能拿多少补助？", "资金什么时候到位？"]
    assert all("答：" in c.text for c in qa)
    # the question turn is not an answer; the answer turn is quoted without its role
    tech = next(c for c in qa if "9%" in c.text)
    cands = chunk_candidates(0, Hit(chunk=tech, score=1.0, rank=1))
    assert [c.host for c in cands if "企业技术改造能拿多少补助" in c.text] == [True]
    assert any(c.text.startswith("对设备投资300万元以上") and not c.host for c in cands)
    assert turn_role("问题：企业如何申报？") is None  # a word starting with 问 is no turn
    assert turn_role("【主持人】欢迎收看。")[0] == "主持人"


def test_articles_named_at_a_line_start_are_no_heading():
    """A line a page width began with articles named in a sentence (「第五条、第七条补助奖励。」)
    belongs to the article before it; a 第N条 heading stands before its own text."""
    text = "\n".join([
        "一、强化要素保障",
        "第二十一条 对亩均税收低于3万元的企业，不得享受本政策",
        "第五条、第七条补助奖励。",
        "第二十二条 本政策由市工信局负责解释。",
    ])
    cs = chunk_document(Document(DocMeta(doc_id="a.txt"), text))
    assert len(cs) == 2 and "第五条" not in cs[0].section + cs[1].section
    assert "第五条、第七条补助奖励。" in cs[0].text and cs[1].text.startswith("第二十二条")


def test_an_article_whose_text_introduces_a_table_keeps_its_text():
    """「第二条 …按下表标准给予奖励。」 then a caption and the table: the article's own text
    is a passage (it was dropped as a bare label once the caption left it); a heading
    line with no text of its own stays a label."""
    text = "\n".join([
        "一、支持企业做大做强",
        "第二条 支持企业跨档发展。对年度营业收入首次突破5亿元的企业，按下表标准给予一次性奖励；同一档次只奖励一次。",
        "表1 跨档奖励标准",
        "档次 | 一次性奖励",
        "档次：第一档 | 一次性奖励：20万元",
        "档次：第二档 | 一次性奖励：50万元",
        "（三）支持设备更新",
        "设备补助标准",
        "设备 | 比例",
        "设备：成型机 | 比例：12%",
    ])
    cs = chunk_document(Document(DocMeta(doc_id="t.txt"), text))
    joined = "\n".join(c.text for c in cs)
    assert "按下表标准给予一次性奖励；同一档次只奖励一次。" in joined
    assert sum(1 for c in cs if c.text.startswith("档次：")) == 2
    assert not any(c.text == "（三）支持设备更新" for c in cs)
