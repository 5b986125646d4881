"""Comparisons across regions through the passages (not the item catalogue), and English
questions searched with the Chinese words of their terms.

``tests/data/compare/``: a 德清县 and a 永丰县 policy written for these tests.
Both reward booths at foreign fairs with different figures; only 德清 states
an amount for loan-interest subsidies, 永丰 names the subsidy and leaves the
amount to a later rule.  Retrieval is BM25 with the keyword fake embedder and
the shipped selector; the answerability threshold is 0 (the fake gives no
dense similarity), so these tests are about the shape of the answer.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fakes import folder_answerer
from policyqa.qa.decision import Reason
from policyqa.qa.regions import strip_regions

DATA = Path(__file__).parent / "data" / "compare"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return folder_answerer(DATA, ["贴息", "展会", "展位费", "诊断"], tmp_path_factory.mktemp("compare") / "index", today=lambda: date(2026, 6, 1), threshold=0.0)


def blocks(a) -> dict[str, str]:
    """Region label -> the answer lines of that region."""
    out: dict[str, str] = {}
    for line in a.text.split("\n来源：", 1)[0].splitlines():
        if line.startswith("【"):
            region = line[1 : line.index("】")]
            out[region] = out.get(region, "") + line
    return out


def test_each_region_answers_from_its_own_document(answerer):
    a = answerer.answer("德清和永丰参加境外展会，展位费分别补多少？")
    b = blocks(a)
    dq = next(v for k, v in b.items() if k.endswith("德清县"))
    yf = next(v for k, v in b.items() if k.endswith("永丰县"))
    assert "60%" in dq and "15万元" in dq and "50%" not in dq
    assert "50%" in yf and "10万元" in yf and "60%" not in yf
    assert a.decision == Reason.ANSWERED.value


def test_a_region_without_the_figure_quotes_its_closest_rule_and_says_so(answerer):
    a = answerer.answer("德清和永丰对企业流动资金贷款贴息最多补多少？")
    b = blocks(a)
    dq = next(v for k, v in b.items() if k.endswith("德清县"))
    yf = next(v for k, v in b.items() if k.endswith("永丰县"))
    assert "25万元" in dq
    assert "没有写明" in yf and "贴息" in yf.split("没有写明", 1)[1]  # the closest rule is quoted after the note
    assert not a.refused
    cited = {c.doc_id for c in a.citations}
    assert cited == {"deqing-2025.txt", "yongfeng-2025.txt"}


def test_the_word_joining_two_places_goes_with_them():
    assert strip_regions("宿迁和亭湖对小巨人各奖多少") == "对小巨人各奖多少"
    assert strip_regions("宿迁、亭湖与徐州的补贴") == "的补贴"
    assert strip_regions("宿迁的和平路") == "的和平路"  # a 和 that joins no places stays


def test_a_qualifier_in_brackets_goes_with_its_place():
    assert strip_regions("宿迁（2024版）和亭湖对小巨人各奖多少") == "对小巨人各奖多少"
    assert strip_regions("亭湖区(盐城)的技改补贴") == "的技改补贴"
    assert strip_regions("宿迁对小巨人（国家级）奖多少") == "对小巨人（国家级）奖多少"  # a bracket after another word stays


def test_a_place_with_a_qualifier_in_brackets_is_still_compared(answerer):
    a = answerer.answer("德清（2025年政策）和永丰参加境外展会，展位费分别补多少？")
    b = blocks(a)
    dq = next(v for k, v in b.items() if k.endswith("德清县"))
    yf = next(v for k, v in b.items() if k.endswith("永丰县"))
    assert "60%" in dq and "50%" in yf
    assert not a.refused


def test_an_english_question_is_searched_with_the_chinese_words_of_its_terms(answerer):
    a = answerer.answer("What is the booth subsidy for foreign exhibitions in Deqing, and what is the yearly cap per enterprise?")
    b = a.text.split("\n来源：", 1)[0]
    assert not a.refused
    assert "60%" in b and "15万元" in b
    assert {c.doc_id for c in a.citations} == {"deqing-2025.txt"}


def test_a_regions_items_read_in_document_order_so_an_uncapped_base_tier_is_not_cut():
    """tests/data/compare_tiers (written for this test): 第1条 gives 6% from 300万元 and 9% from
    2000万元 with one cap for both, then four other capped items.  Listed by amount the base tier
    (a rate, no cap of its own) came last and fell outside the four items shown per region."""
    from policyqa.corpus.items import chunk_items
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.qa.compare import compare

    docs = list(load_corpus([Path(__file__).parent / "data" / "compare_tiers"]).documents)
    chunks = chunk_documents(docs)
    meta = {d.meta.doc_id: d.meta for d in docs}
    items = [it for c in chunks for it in chunk_items(meta[c.doc_id], c)]
    cells = compare("技改设备投资", items, meta, chunks, regions=["青石县"], today=date(2026, 1, 1)).cells
    shown = [c.amount_text for c in cells[:4]]
    assert any("6%" in t for t in shown) and any("9%" in t for t in shown)
    assert [c.amount_text for c in cells].index(next(t for t in shown if "6%" in t)) < [c.amount_text for c in cells].index(
        next(t for t in shown if "9%" in t))  # the base tier before the higher one, as the article states them


def test_an_investment_kind_counts_the_kinds_it_includes_its_own_items_first():
    """tests/data/compare_kinds (written for these tests): 第1条 subsidises 智能化改造 by its equipment
    investment (an item on 设备), 第2条 key 技术改造 projects by their investment, 第3条 技改 loans'
    interest, 第4条 standard workshops.  items.json says 技术改造 includes 设备, so comparing 技改 shows both, the very kind
    first, never the workshop; 设备 does not include 技术改造."""
    from policyqa.corpus.items import chunk_items
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.qa.compare import compare

    docs = list(load_corpus([Path(__file__).parent / "data" / "compare_kinds"]).documents)
    chunks = chunk_documents(docs)
    meta = {d.meta.doc_id: d.meta for d in docs}
    items = [it for c in chunks for it in chunk_items(meta[c.doc_id], c)]
    shown = [c.amount_text for c in compare("技改", items, meta, chunks, regions=["白水县"], today=date(2026, 1, 1)).cells]
    assert len(shown) == 3 and "9%" in shown[0] and "50%" in shown[1] and "7%" in shown[2]
    narrow = [c.amount_text for c in compare("设备", items, meta, chunks, regions=["白水县"], today=date(2026, 1, 1)).cells]
    assert len(narrow) == 1 and "7%" in narrow[0]


def test_a_benefit_kind_only_some_items_give_narrows_the_comparison_to_them():
    """tests/data/compare_kinds: 第3条 subsidises 技改 loans' interest (贴息).  「技改贷款贴息」 and
    「技改的贷款利息补贴」 (a synonym) compare that item alone; 补贴, 奖励 name no kind of their own."""
    from policyqa.corpus.items import chunk_items
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.qa.compare import compare

    docs = list(load_corpus([Path(__file__).parent / "data" / "compare_kinds"]).documents)
    chunks = chunk_documents(docs)
    meta = {d.meta.doc_id: d.meta for d in docs}
    items = [it for c in chunks for it in chunk_items(meta[c.doc_id], c)]
    for topic in ("技改贷款贴息", "技改的贷款利息补贴"):
        table = compare(topic, items, meta, chunks, regions=["白水县"], today=date(2026, 1, 1))
        assert [c.amount_text for c in table.cells if c.item_id] == [next(c.amount_text for c in table.cells if "50%" in c.amount_text)]
        assert "贴息" in table.reading
    assert len(compare("技改补贴", items, meta, chunks, regions=["白水县"], today=date(2026, 1, 1)).cells) == 3


def test_a_compared_item_whose_summary_drops_a_stated_term_is_shown_as_its_clause():
    """tests/data/compare_terms (written for this test): 清水县's loan-interest clause states a period
    (贴息期限不超过2年) and its 高新技术企业 clause a second tier (重新认定的15万元) that an item's
    label and amount do not carry; 岚皋县's clauses say no more than their amounts.  A comparison shows
    清水县's clauses in full and 岚皋县's as label and amount; each figure of the documents is in the answer."""
    from policyqa.corpus.items import chunk_items
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.qa.eligibility import comparison_answer

    docs = list(load_corpus([Path(__file__).parent / "data" / "compare_terms"]).documents)
    chunks = chunk_documents(docs)
    meta = {d.meta.doc_id: d.meta for d in docs}
    items = [it for c in chunks for it in chunk_items(meta[c.doc_id], c)]
    for topic, full, short in (("技改贷款贴息", ("不超过2年", "60万元"), ("40%", "30万元")),
                               ("高新技术企业", ("30万元", "重新认定", "15万元"), ("20万元",)),
                               ("小巨人", ("80万元",), ("50万元",))):
        a = comparison_answer("q", "q", topic, ["清水县", "岚皋县"], items, meta, chunks, today=date(2026, 1, 1))
        assert a is not None
        by_region = {s.region: s.text for s in a.statements}
        qs = next(t for r, t in by_region.items() if "清水" in r)
        hs = next(t for r, t in by_region.items() if "岚皋" in r)
        assert all(f in qs for f in full) and all(f in hs for f in short)
        assert not hs.startswith("对")  # nothing dropped: the label-and-amount summary stays
        assert ("对" in qs) == (topic != "小巨人")  # the clause only where the summary dropped a term
        assert len(a.statements) == 2 and len(a.citations) == 2


def test_a_summary_loses_figures_and_add_ons_not_document_numbers():
    from policyqa.qa.eligibility import clause_text, summary_loses

    assert summary_loses("小巨人：30万元", "属于重点“小巨人”企业的，在上述奖励基础上再给予30万元奖励。")
    assert summary_loses("高新技术企业：20万元", "对首次认定的给予20万元奖励，重新认定的给予10万元奖励。")
    assert not summary_loses("高新技术企业：50万元", "按照豫政办〔2017〕86号文件，给予一次性50万元的资金奖补。")
    assert summary_loses("标准厂房：每平方米0.005万元", "按每平方米50元给予奖励")  # a converted unit is not as written
    assert clause_text("第十条 企业贷款的，按50%给予贴息。") == "企业贷款的，按50%给予贴息。"


def _nested():
    from policyqa.corpus.items import chunk_items
    from policyqa.corpus.pipeline import chunk_documents, load_corpus

    docs = list(load_corpus([Path(__file__).parent / "data" / "compare_nested"]).documents)
    chunks = chunk_documents(docs)
    meta = {d.meta.doc_id: d.meta for d in docs}
    return meta, chunks, [it for c in chunks for it in chunk_items(meta[c.doc_id], c)]


def test_a_reward_schedule_table_gives_one_item_per_row():
    """tests/data/compare_nested (written for these tests): 天水市's rewards are a table
    (序号 | 奖励类别 | 奖励标准); each row is an item of its category and amount."""
    meta, chunks, items = _nested()
    rows = {(it.recipient, it.amount_text) for it in items if it.sentence.startswith("序号")}
    assert rows == {("国家级专精特新“小巨人”企业", "90万元"), ("省级专精特新中小企业", "15万元"),
                    ("通过复核的国家级专精特新“小巨人”企业", "10万元")}


def test_a_province_compared_with_its_own_city_gets_its_own_row():
    """「天水和甘肃省」: two places (not one address); 甘肃省's row is the province's own documents,
    which state no 小巨人 reward, not 天水市's again.  A row with a qualifier the label lacks
    (通过复核的) and an add-on (在上述奖励基础上再给予) are shown as their clauses."""
    from policyqa.qa.eligibility import comparison_answer
    from policyqa.qa.regions import asked_regions

    meta, chunks, items = _nested()
    assert [r.full for r in asked_regions("天水和甘肃省的小巨人奖励比较一下", meta)] == ["甘肃省天水市", "甘肃省"]
    assert [r.full for r in asked_regions("甘肃省天水市的小巨人奖励", meta)] == ["甘肃省天水市"]
    a = comparison_answer("q", "q", "国家级小巨人", ["天水", "甘肃省"], items, meta, chunks, today=date(2026, 1, 1))
    city = [s.text for s in a.statements if s.region == "甘肃省天水市"]
    province = [s.text for s in a.statements if s.region == "甘肃省"]
    assert len(province) == 1 and "没有写明" in province[0]
    assert any(t.endswith("：90万元") for t in city)
    assert any("通过复核" in t and "10万元" in t for t in city)
    assert any("基础上再给予20万元" in t for t in city)
    assert not any(t.startswith("序号") for t in city)  # a row's serial cell is not shown


def test_qualifies_more_ignores_the_usual_ways_of_naming_a_recipient():
    from policyqa.qa.eligibility import qualifies_more

    assert not qualifies_more("新认定的国家级专精特新“小巨人”企业", "国家级专精特新“小巨人”企业：100万元")
    assert not qualifies_more("获批省级专精特新中小企业", "省级专精特新中小企业：30万元")
    assert qualifies_more("通过复核的国家级专精特新“小巨人”企业", "国家级专精特新“小巨人”企业：10万元")


def test_places_joined_after_a_qualifier_of_the_first_are_compared(answerer):
    a = answerer.answer("德清2025年那版和永丰的境外展会展位费补贴一样吗？")
    b = blocks(a)
    assert any(k.endswith("德清县") for k in b) and any(k.endswith("永丰县") for k in b)
    assert a.decision == Reason.ANSWERED.value


def test_a_comparison_no_region_is_judged_about_is_answered_as_a_question_about_the_places(answerer, monkeypatch):
    from policyqa.qa.decision import Decision

    monkeypatch.setattr(answerer, "_compare", lambda *a, **k: Decision(Reason.REFUSED_OUT_OF_CORPUS, shape="comparison"))
    a = answerer.answer("德清和永丰参加境外展会，展位费分别补多少？")
    assert not a.refused  # not a bare refusal ...
    assert {c.doc_id for c in a.citations} <= {"deqing-2025.txt", "yongfeng-2025.txt"} and a.citations  # ... but the places' own rules


def test_each_region_is_answered_from_its_own_documents_before_national_ones(tmp_path):
    import shutil

    for f in list(DATA.glob("*.txt")) + [DATA.parent / "national" / "miit-zhanhui-2025.txt"]:
        shutil.copy(f, tmp_path / f.name)
    ask = folder_answerer(tmp_path, ["展会", "展位费", "境外"], tmp_path / "index", threshold=0.0).answer
    a = ask("德清和永丰参加境外展会有什么支持，分别补多少？")
    b = blocks(a)
    assert "全国" not in b  # the national notice applies everywhere, but each place states its own rule
    assert any(k.endswith("德清县") and "60%" in v for k, v in b.items())
    assert any(k.endswith("永丰县") and "50%" in v for k, v in b.items())


@pytest.mark.slow
def test_each_row_is_decided_as_the_question_about_that_place_alone(tmp_path):
    """With the real model and the shipped threshold: a place's row of a comparison answers
    exactly when the question about that place alone does, from the same document (a row
    judged on the topic without its place's name read lower to the answerability model, so
    a place whose document states the rule was shown as stating nothing)."""
    from policyqa.corpus.chunk import ChunkerConfig
    from policyqa.corpus.pipeline import chunk_documents, load_corpus
    from policyqa.index.embeddings import load_embedder
    from policyqa.index.hybrid import RetrievalConfig
    from policyqa.index.store import IndexStore
    from policyqa.index.tokenize import JiebaTokenizer
    from policyqa.qa.service import make_answerer

    docs = list(load_corpus([DATA]).documents)
    store = IndexStore.build(docs, chunk_documents(docs), load_embedder(), JiebaTokenizer(), tmp_path / "index",
                             chunker_settings=ChunkerConfig().to_dict(), progress=False)
    ask = make_answerer(store, RetrievalConfig(), today=lambda: date(2026, 6, 1)).answer
    places = {"德清": "德清县", "永丰": "永丰县"}
    for topic in ("参加境外专业展会，展位费补助比例是多少？", "企业新增流动资金贷款，贴息最多多少？", "境外展会补助是哪个部门牵头？"):
        rows = blocks(ask("德清和永丰，" + topic.replace("是", "分别是", 1) if "是" in topic else "德清和永丰，" + topic))
        for short, county in places.items():
            alone = ask(short + topic)
            row = next((v for k, v in rows.items() if k.endswith(county)), "")
            answered_alone = alone.decision == Reason.ANSWERED.value
            assert answered_alone == ("没有写明" not in row and "没有找到" not in row and bool(row)), (topic, short, alone.text, row)


def test_each_rows_search_names_its_place(answerer, monkeypatch):
    """A row is searched as the question about its place alone (永丰 + topic): the
    retrieval scores the answerability model reads were fitted on questions that name the
    place, whose passages carry it in their headers."""
    seen = []
    search = answerer._search

    def spy(text, k, filters=None):
        if filters is not None and filters.doc_ids:
            seen.append((text, tuple(filters.doc_ids)))
        return search(text, k=k, filters=filters)

    monkeypatch.setattr(answerer, "_search", spy)
    answerer.answer("德清和永丰参加境外展会，展位费分别补多少？")
    scoped = {ids: text for text, ids in seen}
    assert any(ids == ("deqing-2025.txt",) and "德清" in text and "永丰" not in text for ids, text in scoped.items())
    assert any(ids == ("yongfeng-2025.txt",) and "永丰" in text and "德清" not in text for ids, text in scoped.items())


def test_a_version_year_after_a_place_goes_with_it_a_year_asked_about_stays():
    """「德清2025年的政策和永丰…」: the year and the version word choose 德清's document; the
    topic each row is searched with is what follows.  A year that is part of what is asked
    (「2025年要培育多少」) is kept."""
    assert strip_regions("德清2025年的政策和永丰的展位费补贴一样吗") == "的展位费补贴一样吗"
    assert strip_regions("展位费补多少？德清和永丰2025年的规定分别是？") == "展位费补多少？分别是？"
    assert strip_regions("德清2025年要培育多少隐形冠军") == "2025年要培育多少隐形冠军"


def test_a_province_and_its_city_each_with_its_own_object_are_both_asked():
    """「天水的X和甘肃省的Y」: the province follows a joining word, so it is a place of its own,
    not the address of 天水 (「甘肃省天水市的X和Y」 is one place)."""
    from policyqa.qa.regions import asked_regions

    meta, _, _ = _nested()
    assert [r.full for r in asked_regions("天水的小巨人奖励和甘肃省的技改补贴分别是多少", meta)] == ["甘肃省天水市", "甘肃省"]
    assert [r.full for r in asked_regions("甘肃省天水市的小巨人奖励和技改补贴分别是多少", meta)] == ["甘肃省天水市"]


def test_a_comparison_row_keeps_the_items_that_answer_not_the_first_of_a_long_enumeration(tmp_path):
    """tests/data/compare_lists (written for this test): each county lists its services as an
    enumeration of five or six items; the item on listing rewards is the fifth in 林山's and
    the second in 河阳's.  A row shows at most three items, and those kept are the ones
    that answer, in document order."""
    from policyqa.qa.answerer import MAX_PER_REGION

    ask = folder_answerer(DATA.parent / "compare_lists", ["挂牌", "股权市场", "诉求", "答复"], tmp_path / "index",
                          today=lambda: date(2026, 6, 1), threshold=0.0).answer
    a = ask("林山和河阳，支持企业到股权市场挂牌分别有哪些措施？")  # a list question: each row an enumeration
    b = blocks(a)
    ls = next(v for k, v in b.items() if k.endswith("林山县"))
    hy = next(v for k, v in b.items() if k.endswith("河阳县"))
    assert "20万元" in ls and "10万元" in hy
    assert "20万元" not in hy and "10万元" not in ls
    assert len([x for x in a.text.split("\n来源：", 1)[0].splitlines() if x.startswith("【")]) <= 2 * MAX_PER_REGION


def test_best_in_order_keeps_the_highest_scored_in_their_order():
    from policyqa.qa.answerer import _best_in_order
    from policyqa.qa.compose import Selected

    sel = [Selected(hit=None, text=t, score=s) for t, s in [("a", 0.1), ("b", 0.9), ("c", 0.1), ("d", 0.5), ("e", 0.9)]]
    assert [s.text for s in _best_in_order(sel, 3)] == ["b", "d", "e"]
    assert [s.text for s in _best_in_order(sel, 9)] == ["a", "b", "c", "d", "e"]
    tied = [Selected(hit=None, text=t, score=0.5) for t in "abcd"]
    assert [s.text for s in _best_in_order(tied, 2)] == ["a", "b"]  # equals: the earlier first


def test_places_each_with_their_own_object_are_each_asked_about_their_own():
    """「A的X和B的Y」: each place's row is the question about its own object, not both (pure)."""
    import re

    from policyqa.qa.cues import load_cues
    from policyqa.qa.regions import asked_regions, own_objects

    c = load_cues()
    stop = re.compile("|".join(p.pattern for p in (c.comparison_cue, c.difference, c.question_word)))

    def rows(q):
        return {r.name: t for r, t in own_objects(q, asked_regions(q, {}), {}, stop).items()}

    got = rows("我们想做改造，宿迁的技改补助和四川省的智能化改造补助，比例各是多少？")
    assert got == {"宿迁市": "我们想做改造，技改补助，比例各是多少？", "四川省": "我们想做改造，智能化改造补助，比例各是多少？"}
    got = rows("资金多久到账？绵阳的专精特新奖励和四川省专项资金分别怎么规定？")  # the last object ends at a comparing word
    assert "专精特新奖励" in got["绵阳市"] and "专项资金" not in got["绵阳市"]
    assert "专项资金" in got["四川省"] and "专精特新" not in got["四川省"] and got["四川省"].startswith("资金多久到账？")
    # one object of several places, or a place without one: not that shape
    assert rows("宿迁和宿州的小巨人奖励分别是多少") == {}
    assert rows("宿迁的小巨人奖励和宿州比哪个高") == {}


def test_each_place_with_its_own_object_is_answered_on_its_own_object(answerer):
    """德清's row answers the object asked of 德清 (贷款贴息), not the one asked of 永丰
    (展位费), though 德清's document states both; in either order."""
    for q in ("永丰的展位费补助和德清的贷款贴息各是多少？", "德清的流动资金贷款贴息和永丰的境外展会展位费，分别补多少？"):
        b = blocks(answerer.answer(q))
        dq = next(v for k, v in b.items() if k.endswith("德清县"))
        yf = next(v for k, v in b.items() if k.endswith("永丰县"))
        assert "40%" in dq and "25万元" in dq and "展位费" not in dq, q
        assert "50%" in yf and "10万元" in yf, q
