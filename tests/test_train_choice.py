"""The selector's regularisation is chosen by the one-standard-error rule (eval.train)."""

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
