"""A learned start/end span inside the chosen unit: the experiment behind README
"What still fails → NCP ROUGE-L" (tried and dropped; nothing here is shipped).

For each tune question (team and NCP tune halves, the dev set) the selector's
best unit is taken; every span between candidate boundaries (punctuation, and
the edges of the question's words at jieba word starts) gets 22 features; the
label is the span's character ROUGE-L against the reference answer (zero when
it drops a required fact).  A pairwise logistic ranker and a gradient-boosted
regressor are scored by 2-fold cross-validation by question (md5 of the id):
the mean ROUGE-L of the span each picks, against the whole unit and the best
span.  Test halves and the fresh set are never read.

    POLICYQA_HOME=$PWD/var/home .venv/bin/python scripts/span_experiment.py
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np

from policyqa.corpus.pipeline import builtin_corpus_dir, load_corpus
from policyqa.eval.metrics import normalize
from policyqa.eval.questions import load_questions, select_split
from policyqa.eval.run import CONFIGS, index_for
from policyqa.eval.train import Pipeline, _resolved
from policyqa.index.embeddings import load_embedder
from policyqa.index.tokenize import JiebaTokenizer, normalize_query, text_tokenizer
from policyqa.qa.cues import load_cues
from policyqa.qa.features import CANDIDATE_FEATURES
from policyqa.qa.model import load_model

FEATURES = ("len_log", "len_share", "restates", "adds", "q_before", "q_after", "starts_q", "ends_q", "start_clause", "end_clause",
            "start_inner", "end_inner", "clauses_log", "whole", "kind_kept", "kind_dropped", "len_if_kind", "len_if_list",
            "adds_if_list", "after_q", "before_q", "tail")
_CLAUSE = set("，,；;：:。！？!?\n")
_INNER = set("、“”\"‘’《》（）()【】[]〔〕")
_PUNCT = _CLAUSE | _INNER | set(" \t\u3000")


def word_starts(tok: JiebaTokenizer, text: str) -> frozenset[int]:
    norm = normalize_query(text)
    if len(norm) != len(text):
        return frozenset()
    jb = tok._memory if tok._memory is not None else text_tokenizer(tok._words, norm)
    out, i = set(), 0
    for w in jb.cut(norm, HMM=tok.hmm):
        out.add(i)
        i += len(w)
    return frozenset(out)


def spans(q, text: str, starts: frozenset[int], cues):
    """(S, E, X, allowed): candidate spans of ``text`` with features; ``allowed`` keeps every figure."""
    n = len(text)
    if not n or n > 400:
        return None
    cov = np.zeros(n, dtype=bool)
    for i in range(n - 1):
        if text[i : i + 2] in q.bigrams:
            cov[i] = cov[i + 1] = True
    is_p = np.array([ch in _PUNCT for ch in text])
    bnd = {0, n}
    for i, ch in enumerate(text):
        if ch in _PUNCT:
            bnd |= {i, i + 1}
        elif i > 0 and cov[i] != cov[i - 1] and text[i - 1] not in _PUNCT and (not starts or i in starts):
            bnd.add(i)
    pairs = set()
    for a in bnd:
        for b in bnd:
            if b > a:
                s, e = a, b
                while s < e and text[s] in _PUNCT and text[s] not in "“《（(【[":
                    s += 1
                while e > s and text[e - 1] in _PUNCT and text[e - 1] not in "”》）)】]":
                    e -= 1
                if e - s >= 2:
                    pairs.add((s, e))
    if not pairs:
        return None
    pairs = sorted(pairs)
    S, E = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    word = ~is_p
    cw = np.concatenate([[0], np.cumsum(word)])
    cq = np.concatenate([[0], np.cumsum(cov & word)])
    cn = np.concatenate([[0], np.cumsum(word & ~cov)])
    cc = np.concatenate([[0], np.cumsum([ch in "，,；;：:。" for ch in text])])
    chars = np.maximum(cw[E] - cw[S], 1)

    def near(i, step):
        j = i if step > 0 else i - 1
        while 0 <= j < n and is_p[j]:
            j += step
        return j if 0 <= j < n else -1

    pw = np.array([near(s, -1) for s in S])
    nw = np.array([near(e, 1) for e in E])
    q_before = np.array([p >= 0 and cov[p] for p in pw], dtype=float)
    q_after = np.array([p >= 0 and cov[p] for p in nw], dtype=float)
    starts_q, ends_q = cov[S].astype(float), cov[E - 1].astype(float)
    start_clause = np.array([s == 0 or text[s - 1] in _CLAUSE or p < 0 for s, p in zip(S, pw)], dtype=float)
    end_clause = np.array([e == n or text[e] in _CLAUSE or p < 0 for e, p in zip(E, nw)], dtype=float)
    start_inner = np.array([s > 0 and text[s - 1] in _INNER for s in S], dtype=float)
    end_inner = np.array([e < n and text[e] in _INNER for e in E], dtype=float)
    whole = ((cw[S] == 0) & (cw[E] == cw[-1])).astype(float)
    kinds = set(q.kinds)
    kept, in_unit, allowed = np.zeros(len(S)), np.zeros(len(S)), np.ones(len(S), dtype=bool)
    for k, pat in cues.present.items():
        for m in pat.finditer(text):
            inside = (S <= m.start()) & (E >= m.end())
            if k in kinds:
                kept, in_unit[:] = np.maximum(kept, inside), 1.0
            if k in ("amount", "rate", "count", "measure"):
                allowed &= inside
    if kinds:
        for m in cues.cap.finditer(text):
            allowed &= (S <= m.start()) & (E >= m.end())
    if not allowed.any():
        allowed = whole > 0
    idx = np.nonzero(cov & word)[0]
    first_q, last_q = (int(idx[0]), int(idx[-1]) + 1) if len(idx) else (n, 0)
    length, has_kind, lst = np.log1p(chars), float(bool(kinds)), float(bool(q.wants_list))
    adds = (cn[E] - cn[S]) / max(int(cn[-1]), 1)
    X = np.column_stack([length, chars / max(int(cw[-1]), 1), (cq[E] - cq[S]) / chars, adds, q_before, q_after, starts_q, ends_q,
                         start_clause, end_clause, start_inner, end_inner, np.log1p(cc[E] - cc[S]), whole, kept, in_unit * (1 - kept),
                         length * has_kind, length * lst, adds * lst,
                         (np.maximum(0, cw[E] - cw[np.maximum(S, last_q)]) * (E > last_q)) / chars,
                         (np.maximum(0, cw[np.minimum(E, first_q)] - cw[S]) * (S < first_q)) / chars,
                         q_before * end_clause * (1 - starts_q)])
    return S, E, X, allowed


def span_rouge(text, S, E, ref, facts=()):
    """Character ROUGE-L F of every span against ``ref`` (one LCS pass per start); 0 when a fact is dropped."""
    refn = normalize(ref)
    m = len(refn)
    out = np.zeros(len(S))
    if not m:
        return out
    rb = np.array([ord(c) for c in refn])
    normc = [normalize(ch) for ch in text]
    nf = [normalize(f) for f in facts]
    by_start: dict[int, dict[int, int]] = {}
    for i, (s, e) in enumerate(zip(S, E)):
        by_start.setdefault(int(s), {})[int(e)] = i
    for s, want in by_start.items():
        prev, L = np.zeros(m + 1, dtype=np.int32), 0
        for p in range(s, max(want)):
            for ch in normc[p]:
                L += 1
                v = prev.copy()
                v[1:] = np.maximum(prev[1:], np.where(rb == ord(ch), prev[:-1] + 1, 0))
                prev = np.maximum.accumulate(v)
            if p + 1 in want:
                lcs = int(prev[-1])
                f = 0.0 if not lcs else 2 * (lcs / L) * (lcs / m) / (lcs / L + lcs / m)
                if nf and not all(x in "".join(normc[s : p + 1]) for x in nf):
                    f = 0.0
                out[want[p + 1]] = f
    return out


def collect():
    home = Path(os.environ.get("POLICYQA_HOME", Path.home() / ".policyqa"))
    emb, tok, cues = load_embedder(), JiebaTokenizer(), load_cues()
    sel = load_model("selector", CANDIDATE_FEATURES)
    ncp = "../shared/external/ncp-policies"
    sets = [("ncp", select_split(load_questions(f"{ncp}/dev.jsonl")[0], "tune"), [f"{ncp}/corpus.jsonl"]),
            ("team", select_split(load_questions("eval/questions/team.jsonl")[0], "tune"), [builtin_corpus_dir()]),
            ("dev", load_questions("eval/questions/dev.jsonl")[0], [builtin_corpus_dir(), "eval/dev/documents"])]
    rows = []
    for name, qs, corpus in sets:
        pipe = Pipeline(index_for(CONFIGS["default"], load_corpus(corpus).documents, home / "eval-indexes", emb, tok, False))
        res = _resolved(qs)
        for q in qs:
            if q.out_of_corpus or not q.answer:
                continue
            qq, hits, cands, X = pipe.run(res[q.id], clauses=False)
            units = [i for i, c in enumerate(cands) if c.kind in ("sentence", "item") and not c.host]
            if not units:
                continue
            lg = sel.logits(X)
            text = cands[max(units, key=lambda i: lg[i])].text
            got = spans(qq, text, word_starts(tok, text), cues)
            if got is None:
                continue
            S, E, Xs, ok = got
            g = span_rouge(text, S, E, q.answer, q.must_include if name != "ncp" else ())
            rows.append((name, q.id, Xs[ok], g[ok], g[(Xs[:, FEATURES.index("whole")] > 0)].max(initial=0.0)))
        print(f"[span] {name}: {len(rows)} units", file=sys.stderr)
    return rows


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression

    rows = collect()
    X_all = np.concatenate([r[2] for r in rows])
    mean, sc = X_all.mean(0), X_all.std(0)
    sc[sc < 1e-9] = 1
    fold = [int(hashlib.md5(r[1].encode()).hexdigest(), 16) % 2 for r in rows]
    rng = np.random.default_rng(0)

    def fit_pairwise(idx):
        D, W = [], []
        for k in idx:
            X, g = rows[k][2], rows[k][3]
            a, b = np.nonzero(g[:, None] - g[None, :] >= 0.1)
            if not len(a):
                continue
            pick = rng.choice(len(a), min(300, len(a)), replace=False)
            Z = (X - mean) / sc
            D.append(Z[a[pick]] - Z[b[pick]])
            W.append(np.full(len(pick), 1 / len(pick)))
        D, W = np.concatenate(D), np.concatenate(W)
        w = LogisticRegression(C=1.0, fit_intercept=False, max_iter=3000).fit(np.r_[D, -D], np.r_[np.ones(len(D)), np.zeros(len(D))],
                                                                              sample_weight=np.r_[W, W]).coef_[0]
        return lambda X: ((X - mean) / sc) @ w

    def fit_gbm(idx):
        keep = [k for k in idx if len(rows[k][3]) > 1 and rows[k][3].max() > 0]
        m = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0).fit(
            np.concatenate([rows[k][2] for k in keep]), np.concatenate([rows[k][3] / rows[k][3].max() for k in keep]),
            sample_weight=np.concatenate([np.full(len(rows[k][3]), 1 / len(rows[k][3])) for k in keep]))
        return m.predict

    for label, fit in (("pairwise logistic", fit_pairwise), ("gradient boosting", fit_gbm)):
        pick = np.zeros(len(rows))
        for f in (0, 1):
            score = fit([k for k in range(len(rows)) if fold[k] == f])
            for k in range(len(rows)):
                if fold[k] != f and len(rows[k][3]):
                    pick[k] = rows[k][3][int(np.argmax(score(rows[k][2])))]
        for name in ("ncp", "team", "dev"):
            ks = [k for k in range(len(rows)) if rows[k][0] == name]
            print(f"{label:18} {name:5} n={len(ks):3}  whole unit {np.mean([rows[k][4] for k in ks]):.3f}  "
                  f"learned span {np.mean(pick[ks]):.3f}  best span {np.mean([rows[k][3].max(initial=0) for k in ks]):.3f}")


if __name__ == "__main__":
    main()
