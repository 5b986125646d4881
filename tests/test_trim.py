"""The learned trimmer: which clause runs a trim may quote, its features, its decision,
and the labels it is fitted on (own sentences; no index, no embedding model)."""

from __future__ import annotations

import numpy as np
import pytest

from policyqa.corpus.types import Chunk
from policyqa.index.types import Hit
from policyqa.qa.candidates import candidates
from policyqa.qa.cues import load_cues, present_kinds
from policyqa.qa.features import make_query
from policyqa.qa.model import LinearModel
from policyqa.qa.trim import TRIM_FEATURES, Trimmer, allowed_runs, trim_features

CUES = load_cues()
TOK = lambda s: [s[i : i + 2] for i in range(0, len(s) - 1)]  # noqa: E731  character bigrams stand in for words
COL = {n: i for i, n in enumerate(TRIM_FEATURES)}


def _hit(text: str) -> Hit:
    ch = Chunk(chunk_id="c1", doc_id="d", section="一、扶持政策", text=text, start=0, end=len(text), header="《某县扶持办法》 一、扶持政策")
    return Hit(chunk=ch, score=1.0, rank=1, dense_score=0.9, dense_rank=1, sparse_score=1.0, sparse_rank=1)


def _unit(text: str):
    hit = _hit(text)
    return hit, next(c for c in candidates([hit]) if c.kind == "sentence")


RULES = [
    "为加快设备更新，对企业购置工业机器人的，按设备投资额的15%给予补助，单个企业最高不超过100万元，所需资金由县财政承担。",
    "对首次认定的高新技术企业，一次性奖励30万元；对重新认定的，奖励10万元，奖励资金次年兑现。",
    "鼓励企业上云用云，对购买云服务的中小企业，按实际费用的50%给予补贴，每家每年不超过5万元。",
]


@pytest.mark.parametrize("text", RULES)
def test_a_run_a_trim_may_quote_keeps_every_figure_of_its_unit_and_the_cap_asked_for(text):
    hit, unit = _unit(text)
    q = make_query("补助比例是多少，最高多少？", TOK, None)
    figures = [m.group(0) for k in ("amount", "rate", "count", "measure") for m in CUES.present[k].finditer(unit.text)]
    runs = allowed_runs(q, unit, hit, CUES)
    assert runs, "a long rule has shorter runs to choose from"
    for r in runs:
        assert len(r.text) < len(unit.text)
        assert all(f in r.text for f in figures)
        assert CUES.cap.search(r.text) or not CUES.cap.search(unit.text)
        assert text[r.start : r.end] == r.text  # a verbatim span of the passage


def test_a_run_that_starts_after_a_condition_keeps_the_condition():
    text = "企业年营业收入首次超过2000万元的，给予一次性奖励10万元，奖励资金次年兑现。"
    hit, unit = _unit(text)
    runs = allowed_runs(make_query("营业收入首次超过2000万元奖励多少？", TOK, None), unit, hit, CUES)
    assert runs
    assert all(r.text.startswith("企业年营业收入首次超过2000万元的") for r in runs)


def test_a_figure_mentioned_twice_is_kept_twice():
    """「1000万元以上的」 is a threshold, 「最高不超过1000万元」 a cap: a run holding only the
    cap's mention would lose the threshold, so no run may drop either."""
    text = "对设备投资额1000万元以上的技术改造项目，按设备投资额的8%给予奖励，单个项目最高不超过1000万元。"
    hit, unit = _unit(text)
    runs = allowed_runs(make_query("技改项目设备投资多少以上才有奖励？", TOK, None), unit, hit, CUES)
    assert all(r.text.count("1000万元") == 2 for r in runs)


def test_a_date_or_a_bare_number_is_never_trimmed_away():
    text = "本细则施行当年的申报时间延长至10月31日，此前获得认定的企业可一并申报，奖励标准为200克金牌。"
    hit, unit = _unit(text)
    runs = allowed_runs(make_query("申报时间延长到什么时候？", TOK, None), unit, hit, CUES)
    assert all("10月31日" in r.text and "200克" in r.text for r in runs)


def test_a_rule_in_tiers_and_a_note_are_never_trimmed():
    text = "对设备投资500万元以上的，按设备投资额的8%给予补助；设备投资3000万元以上的，按设备投资额的10%给予补助。"
    hit = _hit(text)
    q = make_query("设备投资补助比例？", TOK, None)
    for c in candidates([hit]):
        if c.tiers:
            assert allowed_runs(q, c, hit, CUES) == []
    assert any(c.tiers for c in candidates([hit]))


def test_trim_features_describe_the_run_against_its_unit():
    text = RULES[0]
    hit, unit = _unit(text)
    q = make_query("购置工业机器人补助比例是多少？", TOK, None)
    runs = allowed_runs(q, unit, hit, CUES)
    X = trim_features(q, unit, runs, 1.0, [0.5] * len(runs), text, CUES)
    assert X.shape == (len(runs), len(TRIM_FEATURES))
    assert np.all(X[:, COL["len_ratio"]] < 1.0) and np.all(X[:, COL["len_ratio"]] > 0)
    assert np.allclose(X[:, COL["sel_gain"]], -0.5)
    for r, row in zip(runs, X):
        assert row[COL["starts_unit"]] == float(r.start <= unit.start)
        assert row[COL["ends_unit"]] == float(r.end >= unit.end)
        assert {"amount", "rate"} <= present_kinds(r.text)  # every figure stays (a named body need not)
        assert 0 < row[COL["kinds_kept"]] <= 1.0
    # the run without the leading 「为加快设备更新，」 has dropped text that is not the question's
    first = next(i for i, r in enumerate(runs) if not r.text.startswith("为加快"))
    assert X[first, COL["restates_dropped"]] < 0.5


def _model(coef: dict[str, float], intercept: float = 0.0, trim_min: float = 0.5) -> LinearModel:
    n = len(TRIM_FEATURES)
    c = np.zeros(n)
    for k, v in coef.items():
        c[COL[k]] = v
    return LinearModel("trimmer", TRIM_FEATURES, np.zeros(n), np.ones(n), c, intercept, {"trim_min": trim_min})


def test_the_trimmer_quotes_the_most_probable_run_only_when_it_is_probable_enough():
    X = np.zeros((3, len(TRIM_FEATURES)))
    X[:, COL["len_ratio"]] = [0.9, 0.4, 0.7]
    shorter_is_better = _model({"len_ratio": -4.0}, intercept=2.0)
    assert Trimmer(shorter_is_better).choose(X) == 1
    assert Trimmer(_model({"len_ratio": -4.0}, intercept=2.0, trim_min=0.99)).choose(X) is None
    assert Trimmer(shorter_is_better).choose(np.zeros((0, len(TRIM_FEATURES)))) is None


def test_without_a_trimmer_the_whole_unit_is_quoted():
    from policyqa.qa.compose import ExtractiveComposer

    comp = ExtractiveComposer(TOK, trimmer=None)
    hits = [_hit(RULES[0])]
    got = comp.select(comp.score(comp.query("购置工业机器人补助比例是多少？"), hits))
    assert got and got[0].text.rstrip("。") in RULES[0] and "所需资金由县财政承担" in got[0].text


@pytest.mark.parametrize("text", RULES)
def test_the_shipped_trimmer_never_quotes_less_than_the_figures_asked(text):
    """Whatever the shipped trimmer chooses, the quote is a span of the unit holding its figures."""
    from policyqa.qa.compose import ExtractiveComposer

    comp = ExtractiveComposer(TOK)
    assert comp.trimmer is not None
    hit = _hit(text)
    got = comp.select(comp.score(comp.query("这项补助（奖励）标准是多少？"), [hit]))
    assert got and got[0].text in text
    start = got[0].start
    unit = next(c for c in candidates([hit]) if c.kind == "sentence" and c.start <= start < c.end)
    for m in (m for k in ("amount", "rate") for m in CUES.present[k].finditer(unit.text)):
        assert m.group(0) in got[0].text


def test_trimming_labels_prefer_the_run_closer_to_the_reference_and_never_one_that_drops_a_fact():
    from policyqa.eval.train import trim_labels

    unit = "为支持企业发展，对新认定的专精特新企业奖励20万元，资金由县财政承担。"
    runs = ["对新认定的专精特新企业奖励20万元", "为支持企业发展，对新认定的专精特新企业", "资金由县财政承担"]
    y, w = trim_labels(unit, runs, "对新认定的专精特新企业奖励20万元", facts=["20万元"])
    assert y.tolist() == [1.0, 0.0, 0.0]
    assert w.sum() == pytest.approx(1.0) and np.all(w > 0)
    assert w[1] >= 0.05 / 1.5  # dropping the required fact weighs at least as a 0.05 loss
    y2, _ = trim_labels(unit, runs, unit, facts=[])
    assert y2.tolist() == [0.0, 0.0, 0.0]  # when the reference is the whole unit, no run is better


def test_a_run_never_cuts_inside_brackets_or_quotes():
    text = "落实阶段性降低用电成本政策，推行报装“零上门、零审批”服务。（责任单位：县发展和改革局、县供电公司）"
    hit, unit = _unit(text)
    runs = allowed_runs(make_query("降低用电成本有什么政策？", TOK, None), unit, hit, CUES)
    for r in runs:
        assert r.text.count("（") == r.text.count("）") and r.text.count("“") == r.text.count("”")


def test_a_table_row_is_never_trimmed():
    text = "序号：1 | 奖励类别：国家级制造业单项冠军企业（产品） | 奖励标准：150万元"
    hit = _hit(text)
    q = make_query("单项冠军奖多少？", TOK, None)
    units = [c for c in candidates([hit]) if c.kind == "sentence"]
    assert units and all(allowed_runs(q, u, hit, CUES) == [] for u in units)


def test_the_shipped_trimmer_file_names_its_features_threshold_and_command(tmp_path):
    import json

    from policyqa.qa.model import MODELS
    from policyqa.qa.trim import default_trimmer

    d = json.loads((MODELS / "trimmer.json").read_text(encoding="utf-8"))
    assert tuple(d["features"]) == TRIM_FEATURES and d["command"] == "policyqa train"
    assert 0.0 < d["params"]["trim_min"] < 1.0
    assert default_trimmer(str(tmp_path)) is None  # a models folder from before the trimmer: whole units


def test_a_run_never_starts_with_a_word_joining_it_to_the_clause_before():
    """「…，且当年投入不低于30万元，…」: a quote starting at 且 would lose what it joins."""
    text = "为推进智能化改造，当年采用智能化管理软件，且当年软件投入不低于30万元，正常使用后，按实际投入的30%给予补助。"
    hit, unit = _unit(text)
    runs = allowed_runs(make_query("智能化管理软件按投入的多少比例补助？", TOK, None), unit, hit, CUES)
    assert runs and not any(r.text.startswith("且") for r in runs)
    assert any(r.text.startswith("当年采用") for r in runs)


def test_a_run_that_goes_past_a_sentence_end_ends_at_a_sentence_end():
    """A unit of two sentences (the second continues the rule: 「同时，…」): a run that takes
    the first sentence and the start of the second would end on a fragment (「…400万元。同时」)."""
    text = "对企业技术改造项目，按照项目投资额10%给予补助，最高奖励400万元。同时，积极帮助企业争取省级专项资金，降低企业改造成本。"
    hit, unit = _unit(text)
    assert "同时" in unit.text  # the continuation is one unit with its rule
    runs = allowed_runs(make_query("技改项目补助比例是多少？最多补多少？", TOK, None), unit, hit, CUES)
    assert runs
    for r in runs:
        inner = r.text.rstrip("。！？!?；;，,：:")
        cut = max(inner.rfind(p) for p in "。！？!?")
        assert cut < 0 or r.end == unit.end or text[r.end - 1] in "。！？!?", r.text
    assert any(r.text.endswith("400万元。") or r.text.endswith("400万元") for r in runs)


def test_a_run_never_ends_before_a_clause_joined_to_it():
    """「…年销售收入≥1亿元。或企业研发经费支出占比高于10%以上；」: quoting the first condition
    without the alternative its 或 adds misstates the rule."""
    text = "为鼓励企业加大研发投入，申报企业年销售收入不低于2亿元，或拥有省级以上研发机构，并按规定报送申报材料。"
    hit, unit = _unit(text)
    runs = allowed_runs(make_query("销售收入不到2亿能申报吗？", TOK, None), unit, hit, CUES)
    assert runs
    for r in runs:
        assert not text[r.end:].lstrip("，,；;：:。 ").startswith("或"), r.text
    assert CUES.joiner.match("或企业研发经费支出")


def test_a_sentence_a_conjunction_joins_to_the_one_before_is_one_unit_with_it():
    text = "申报企业年销售收入不低于2亿元。或企业研发经费支出占主营业务收入的比重高于10%。对认定的企业奖励30万元。"
    units = [c.text for c in candidates([_hit(text)]) if c.kind == "sentence"]
    assert any("2亿元" in u and "10%" in u for u in units), units
    assert not any(u.startswith("或") for u in units)
    assert any(u.startswith("对认定的企业") for u in units)
