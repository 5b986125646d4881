"""Choices made by `policyqa train` (eval.train): the selector's regularisation by the one-standard-error
rule; the answerability threshold raised end to end within the false-refusal limit."""

from __future__ import annotations

import pytest

pytest.importorskip("numpy")
from policyqa.eval.train import one_standard_error_choice  # noqa: E402


def test_a_difference_within_one_standard_error_picks_the_most_regularised():
    # 1,000 questions at 0.69: one standard error is about 0.015
    assert one_standard_error_choice({0.01: 0.690, 0.1: 0.690, 1.0: 0.692}, 1000) == 0.01


def test_a_difference_beyond_one_standard_error_picks_the_best():
    assert one_standard_error_choice({0.01: 0.60, 0.1: 0.69, 1.0: 0.70}, 1000) == 0.1
    assert one_standard_error_choice({0.01: 0.60, 0.1: 0.65, 1.0: 0.70}, 1000) == 1.0


def test_the_scores_are_not_changed():
    scores = {0.01: 0.5, 1.0: 0.6}
    one_standard_error_choice(scores, 10)
    assert scores == {0.01: 0.5, 1.0: 0.6}


def test_the_threshold_rises_while_every_set_keeps_false_refusals_within_the_limit():
    from policyqa.eval.train import raise_threshold

    rates = {0.25: {"a": 0.0, "b": 0.01}, 0.3: {"a": 0.02, "b": 0.02}, 0.35: {"a": 0.01, "b": 0.03}, 0.4: {"a": 0.0, "b": 0.0}}
    asked = []

    def fr(t):
        asked.append(t)
        return rates[t]

    t, steps = raise_threshold(0.2, fr, 0.025)
    assert t == 0.3  # 0.35 puts set b over the limit
    assert asked == [0.25, 0.3, 0.35]  # stops at the first step over: 0.4 is never tried
    assert [s["threshold"] for s in steps] == [0.25, 0.3, 0.35] and steps[-1]["b_false_refusal"] == 0.03


def test_the_threshold_stays_where_the_first_step_is_already_over_the_limit():
    from policyqa.eval.train import raise_threshold

    assert raise_threshold(0.4, lambda t: {"a": 0.05}, 0.025)[0] == 0.4
    assert raise_threshold(0.85, lambda t: {"a": 0.0}, 0.025, top=0.9)[0] == 0.9
