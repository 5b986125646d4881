"""Gradient-boosted trees against the shipped linear selector: the experiment behind
README "Tried and dropped → a gradient-boosted selector" (nothing here is shipped).

The issue allows "a logistic-regression or gradient-boosted pairwise ranker".  This
script collects the selector's training data exactly as ``policyqa train`` does
(``policyqa.eval.train.collect_selector`` over the team tune half, the NCP tune
half and the dev set; test halves and the fresh set are never read) and scores, by
the same 2-fold cross-validation by question as ``fit_selector`` (even / odd
question index), the share of questions whose best non-clause candidate is labelled
positive (top-1), overall and per set, for:

    linear pairwise   the shipped model: pairwise logistic regression (C 0.01, 0.1)
    hgb pointwise     scikit-learn HistGradientBoostingClassifier on the candidate
                      labels, balanced per question as the linear model's Platt step
    hgb pairwise      the same trees on row differences of (better, worse) pairs
                      (the linear model's pairs); a candidate scores its mean
                      decision value against every other candidate of its question

    POLICYQA_HOME=$PWD/var/home .venv/bin/python scripts/selector_gbm_experiment.py

About 20 minutes on 2 cores (collection about 7, the pairwise trees most of the rest).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from policyqa.corpus.pipeline import builtin_corpus_dir, load_corpus
from policyqa.eval import train as T
from policyqa.eval.questions import load_questions, select_split
from policyqa.eval.run import CONFIGS, index_for
from policyqa.index.embeddings import load_embedder
from policyqa.index.tokenize import JiebaTokenizer
from policyqa.qa.features import CANDIDATE_FEATURES

ROOT = Path(__file__).resolve().parent.parent
NCP = ROOT.parent / "shared" / "external" / "ncp-policies"
CLAUSE = CANDIDATE_FEATURES.index("is_clause")


def collect() -> dict:
    cache = Path(os.environ.get("POLICYQA_HOME", ROOT / "var" / "home")) / "eval-indexes"
    emb, tok = load_embedder(), JiebaTokenizer()
    team = select_split(load_questions(str(ROOT / "eval" / "questions" / "team.jsonl"))[0], "tune")
    ncp = select_split(load_questions(str(NCP / "dev.jsonl"))[0], "tune")
    dev = load_questions(str(T.DEV_QUESTIONS))[0]
    store = lambda folders: index_for(CONFIGS["default"], load_corpus(folders).documents, cache, emb, tok, False)  # noqa: E731
    b, n = store([builtin_corpus_dir()]), store([str(NCP / "corpus.jsonl")])
    d = store([builtin_corpus_dir(), str(T.DEV_DOCUMENTS)])
    return {"team": T.collect_selector(T.Pipeline(b), team, T._team_grades, T._team_labels, 0.01, False, "team")[:4],
            "ncp": T.collect_selector(T.Pipeline(n), ncp, T._ncp_grades, T._ncp_labels, 0.2, False, "ncp")[:4],
            "dev": T.collect_selector(T.Pipeline(d), dev, T._team_grades, T._team_labels, 0.01, False, "dev")[:4]}


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = collect()
    names = [k for k in data for _ in data[k][0]]
    Xs, ys, ws, gs = ([x for d in data.values() for x in d[i]] for i in range(4))
    folds = [list(range(0, len(Xs), 2)), list(range(1, len(Xs), 2))]

    def run(label, fit):
        acc, per = [], {}
        for k in range(2):
            tr, te = folds[k], folds[1 - k]
            score = fit(tr)
            hits = {}
            for i in te:
                s = np.where(Xs[i][:, CLAUSE] > 0, -np.inf, score(Xs[i]))
                hits.setdefault(names[i], []).append(float(ys[i][int(np.argmax(s))] > 0))
            acc.append(np.mean([v for h in hits.values() for v in h]))
            for name, h in hits.items():
                per.setdefault(name, []).append(np.mean(h))
        print(f"{label:34s} cv top-1 {np.mean(acc):.4f}  " + "  ".join(f"{k} {np.mean(v):.3f}" for k, v in per.items()), flush=True)

    def linear(C):
        return lambda tr: T._fit_pairwise([Xs[i] for i in tr], [ys[i] for i in tr], [ws[i] for i in tr], [gs[i] for i in tr],
                                          C, CANDIDATE_FEATURES).logits

    def trees(depth, iters, lr):
        return HistGradientBoostingClassifier(max_depth=depth, max_iter=iters, learning_rate=lr, random_state=T.SEED)

    def pointwise(depth, iters, lr):
        def fit(tr):
            X, y, w = (np.concatenate([a[i] for i in tr]) for a in (Xs, ys, ws))
            m = trees(depth, iters, lr).fit(X, (y > 0).astype(int), sample_weight=w * len(w) / w.sum())
            return m.decision_function
        return fit

    def pairwise(depth, iters, lr):
        def fit(tr):
            rng, D, W = np.random.default_rng(T.SEED), [], []
            for i in tr:
                a, b = T._pairs(*gs[i], rng)
                if len(a):
                    D.append(Xs[i][a] - Xs[i][b])
                    W.append(np.full(len(a), 1.0 / len(a)))
            D, W = np.concatenate(D), np.concatenate(W)
            m = trees(depth, iters, lr).fit(np.concatenate([D, -D]), np.r_[np.ones(len(D)), np.zeros(len(D))],
                                            sample_weight=np.r_[W, W] * len(W) / W.sum())

            def score(X):
                n = len(X)
                return m.decision_function(np.repeat(X, n, 0) - np.tile(X, (n, 1))).reshape(n, n).mean(1)
            return score
        return fit

    print("questions: " + ", ".join(f"{k} {len(v[0])}" for k, v in data.items()), file=sys.stderr)
    for C in (0.01, 0.1):
        run(f"linear pairwise C={C}", linear(C))
    for depth, iters, lr in [(3, 100, 0.05), (3, 200, 0.05), (4, 200, 0.05), (6, 200, 0.05), (3, 400, 0.03)]:
        run(f"hgb pointwise depth {depth}, {iters}x{lr}", pointwise(depth, iters, lr))
    for depth, iters, lr in [(3, 100, 0.1), (4, 200, 0.05)]:
        run(f"hgb pairwise depth {depth}, {iters}x{lr}", pairwise(depth, iters, lr))


if __name__ == "__main__":
    main()
