"""cov_local: question words weighed by how few of the question's units state them, so the
word that tells the units apart counts most (own sentences, no index, no model)."""

from __future__ import annotations

import numpy as np

from policyqa.qa.features import local_coverage, local_weights, make_query

TOK = lambda s: [w for w in ("专精特新", "奖励", "员工", "奖金", "发放") if w in s]  # noqa: E731


def test_a_word_every_unit_states_weighs_nothing_and_a_rare_one_most():
    q = make_query("专精特新奖励能给员工发放奖金吗？", TOK, None)
    units = ["国家级专精特新企业奖励100万元", "省级专精特新企业奖励20万元", "专精特新奖励资金不得用于发放个人奖金"]
    local = local_weights(q, units)
    rarity = {t: lw / w for t, lw, w in zip(q.tokens, local, q.weights)}  # the factor the units give each word
    assert rarity["发放"] > rarity["专精特新"] and rarity["发放"] > rarity["奖励"]
    assert rarity["员工"] == max(rarity.values())  # stated by no unit
    covs = [local_coverage(q, u, local) for u in units]
    assert covs[2] == max(covs) and covs[2] > covs[0]


def test_local_weights_do_not_change_the_question_or_the_units():
    q = make_query("专精特新奖励能给员工发放奖金吗？", TOK, None)
    units = ["专精特新奖励", "奖金"]
    before = (q.tokens, q.weights, list(units))
    local_weights(q, units)
    assert (q.tokens, q.weights, units) == before


def test_coverage_counts_the_full_form_of_an_abbreviation():
    """A question word that abbreviates what a passage writes out (智改数转 ← 智能化改造数字化转型)
    covers that passage as a synonym does; a passage without it is not covered."""
    from policyqa.qa.features import coverage

    tok = lambda s: [w for w in ("智改数转", "专项资金") if w in s]  # noqa: E731
    q = make_query("智改数转专项资金支持哪些方面", tok, None)
    assert coverage(q, "制造业智能化改造数字化转型专项资金重点支持以下方面") == 1.0
    assert coverage(q, "专项资金重点支持以下方面") == 0.5
