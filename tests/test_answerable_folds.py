"""The answerability threshold is chosen on cross-validated probabilities whose folds keep
a conversation's rows together (eval.train): a question is asked against its own corpus,
against the other corpus and within its region, and a follow-up goes with the question it
follows.  Split across folds, a question's rows vouch for each other and the threshold is
chosen on probabilities surer than any new question gets.  Synthetic rows, no index."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

pytest.importorskip("sklearn")
from policyqa.eval.questions import Question  # noqa: E402
from policyqa.eval.train import fit_answerable, root_ids  # noqa: E402
from policyqa.qa.features import ANSWERABILITY_FEATURES  # noqa: E402


def test_a_followup_belongs_to_the_conversation_it_follows():
    qs = [Question("a", "问题一"), Question("b", "那省级的呢", followup_of="a"), Question("c", "要什么条件", followup_of="b"),
          Question("d", "另一个问题"), Question("e", "孤立的追问", followup_of="missing")]
    assert root_ids(qs) == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "e"}


def test_a_cycle_of_followups_ends():
    qs = [Question("a", "一", followup_of="b"), Question("b", "二", followup_of="a")]
    assert set(root_ids(qs)) == {"a", "b"}


def test_a_conversations_rows_are_never_on_both_sides_of_a_fold(monkeypatch):
    import policyqa.eval.train as T

    rng = np.random.default_rng(0)
    n_conv, per = 60, 3
    base = rng.normal(size=(n_conv, len(ANSWERABILITY_FEATURES)))
    rows = np.repeat(base, per, axis=0) + rng.normal(scale=1e-3, size=(n_conv * per, len(ANSWERABILITY_FEATURES)))
    y = np.tile([1.0, 0.0, 0.0], n_conv)  # asked against its own corpus, the other corpus, another region
    groups = [f"c{i}" for i in range(n_conv) for _ in range(per)]
    conv_of = {tuple(np.round(r, 6)): g for r, g in zip(rows, groups)}
    seen = []
    real_fit = T._fit

    def spy(X, yy, w, C, name, features, params):
        if not params:  # a cross-validation fold (the final fit carries the threshold)
            seen.append(Counter(conv_of[tuple(np.round(r, 6))] for r in X))
        return real_fit(X, yy, w, C, name, features, params)

    monkeypatch.setattr(T, "_fit", spy)
    model, info = fit_answerable(rows, y, 0.025, False, groups=groups)
    assert len(seen) == 5
    for trained_on in seen:
        assert set(trained_on.values()) == {per}  # every conversation wholly in training, or wholly held out
        assert 0 < len(trained_on) < n_conv
    assert 0.05 <= model.params["threshold"] <= 0.95 and info["n_pos"] == n_conv
