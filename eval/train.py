"""``policyqa train``: fit the answer selector and the answerability model on the TUNE halves.

Reproduces ``qa/models/selector.json`` and ``qa/models/answerable.json``
deterministically from:

- the team set's tune half over the built-in documents (labels: a candidate
  states a ``must_include`` fact of the question and lies in its evidence);
- the dev set (``eval/questions/dev.jsonl``, a tune-only set: all of it is
  fitted on) over the built-in documents plus ``eval/dev/documents``, labelled
  like the team set;
- the NCP set's tune half over the NCP corpus (labels: character ROUGE-L of
  the candidate against the reference span).

The selector is a pairwise ranker: logistic regression (no intercept) on the
differences of standardised feature rows of two candidates of one question,
the one with the higher graded label (share of the required facts it states;
ROUGE-L for NCP, by at least 0.2) against the other; each question weighs the
same.  Its scores are then calibrated (Platt: one slope and an intercept,
fitted on the per-candidate labels), so the shipped file is still one linear
model whose ``proba`` is a probability.

Answerability: positives are the in-corpus tune questions asked against
their own corpus; negatives are the team tune half's and the dev set's
out-of-corpus questions and cross-corpus questions (NCP tune questions
against the built-in documents, team tune and dev questions against the NCP
corpus).  Questions that name a region are also judged on that region's
documents alone, as the answerer judges them: positive when their answer is in
those documents, a hard negative (weighed with the out-of-corpus questions)
when it is in another region's or the question is out of corpus.  The level of
``region_absent`` from which the answerer reads such a question as about
another region's rule is chosen on the same rows (:func:`choose_region_absent_min`).
The threshold is
the highest that keeps false refusals on the tune positives at or below
``max_false_refusal``; a reliability table (5-fold cross-validated
probabilities) is printed and stored in the model file.

Decoding settings (trim margin, list threshold) are then chosen by a small
grid on the same tune halves, end to end.  Test halves and the fresh set are
never read.  Needs scikit-learn (``pip install policyqa[train]``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from policyqa.corpus.clean import clean_text
from policyqa.corpus.pipeline import builtin_corpus_dir, load_corpus
from policyqa.eval.breakdown import declined
from policyqa.eval.metrics import chunk_relevant, facts_all, normalize, rouge_l_f
from policyqa.eval.questions import Question, load_questions, select_split
from policyqa.eval.run import CONFIGS, answer_body, index_for
from policyqa.index.tokenize import JiebaTokenizer
from policyqa.index.types import Filters, Hit
from policyqa.qa.answerer import DEFAULT_TOP_K, with_dense_scores
from policyqa.qa.candidates import candidates, clause_candidates
from policyqa.qa.compose import DEFAULT_PARAMS
from policyqa.qa.cues import load_cues
from policyqa.qa.features import (
    ANSWERABILITY_FEATURES,
    CANDIDATE_FEATURES,
    TermStats,
    answerability_features,
    candidate_features,
    document_texts,
    joined_passages,
    region_absent,
    make_query,
)
from policyqa.qa.followup import resolve_history
from policyqa.qa.glossary import with_chinese_terms
from policyqa.qa.guard import is_english
from policyqa.qa.model import MODELS, LinearModel
from policyqa.qa.regions import asked_regions, docs_for, place_spans, strip_regions
from policyqa.qa.types import Turn

SEED = 0


class Pipeline:
    """Retrieval and candidate features over one index, as the answerer computes them."""

    def __init__(self, store):
        self.store = store
        self.retriever = store.retriever(CONFIGS["default"].retrieval)
        self.tok = store.tokenizer.tokenize
        self.stats = TermStats.from_texts([c.indexed_text() for c in store.chunks.values()], self.tok)
        self.lookup = store.sentences.lookup if store.sentences is not None else None

    def region_docs(self, question: str) -> list[str]:
        """The documents of the regions ``question`` names (empty: it names none the index has)."""
        metas = self.store.docs
        return sorted({d for r in asked_regions(question, metas) for d in docs_for(r, metas)})

    def doc_texts(self, doc_ids: Sequence[str]) -> list[str]:
        """The documents ``doc_ids``, each as one lower-case text (``Answerer._doc_texts``)."""
        if not hasattr(self, "_texts"):
            self._texts = document_texts(self.store.chunks.values())
        return [self._texts.get(d, "") for d in doc_ids]

    def region_absent(self, q, own: Sequence[str], outside: Sequence[Hit]) -> float:
        """:func:`region_absent` of ``q`` judged within the documents ``own`` (``Answerer._elsewhere``)."""
        return region_absent(q, self.doc_texts(own), joined_passages(outside)) if outside else 0.0

    def outside(self, question: str, own: Sequence[str]) -> list[Hit]:
        """The other regions' passages among ``question``'s top 30, as the answerer weighs a
        question naming a region against them (``Answerer._regional``: ``outside_lead``)."""
        if is_english(question):
            question = with_chinese_terms(question)
        mine = set(own)
        return [h for h in self.retriever.search(question, k=max(30, DEFAULT_TOP_K)) if h.chunk.doc_id not in mine][:DEFAULT_TOP_K]

    def run(self, question: str, clauses: bool = True, doc_ids: Sequence[str] | None = None, regional: bool = False):
        """Hits, query, candidates and features of ``question`` (within ``doc_ids`` when given).
        ``regional``: as the answerer judges a question naming a region (``Answerer._regional``):
        the region's documents' hits among the question's top 30 (or, when none, a search within
        them), scored on the question without its place names."""
        if is_english(question):  # as the answerer searches it
            question = with_chinese_terms(question)
        filters = Filters(doc_ids=tuple(doc_ids)) if doc_ids else None
        # searched without the synonyms the answerer appends (qa.cues.with_synonyms): fitted on these
        # hits, the models served synonym-expanded retrieval better on the tune data than models fitted
        # on it (NCP tune false refusals 4/310 against 8/310; dev facts 296 against 295 of 347)
        text = question
        if regional and doc_ids:
            own = set(doc_ids)
            hits = [h for h in self.retriever.search(question, k=max(30, DEFAULT_TOP_K)) if h.chunk.doc_id in own][:DEFAULT_TOP_K]
            hits = hits or self.retriever.search(question, k=DEFAULT_TOP_K, filters=filters)
            hits = with_dense_scores(hits, self.retriever, question)
            text = strip_regions(question, self.store.docs, keep=load_cues().abroad) or question
        else:
            hits = with_dense_scores(self.retriever.search(question, k=DEFAULT_TOP_K, filters=filters), self.retriever, question)
        vec = self.retriever.dense.query_vectors([question])[0] if self.retriever.dense is not None else None
        q = make_query(text, self.tok, self.stats, vec)
        cands = candidates(hits, int(DEFAULT_PARAMS["depth"]))
        if clauses:
            cands = cands + [c for u in cands if u.kind == "sentence" for c in clause_candidates(u, hits[u.hit])]
        X = candidate_features(q, hits, cands, self.lookup)
        return q, hits, cands, X


def _resolved(questions: Sequence[Question], docs=None) -> dict[str, str]:
    by_id = {q.id: q for q in questions}
    out = {}
    for q in questions:
        chain, prev = [], q.followup_of
        while prev and prev in by_id:
            chain.append(by_id[prev].question)
            prev = by_id[prev].followup_of
        # a follow-up no cue marks is read in the previous turn's context, as the answerer reads it
        # when it is refused on its own
        out[q.id] = resolve_history(list(reversed(chain)), q.question, context=True,
                                    places=(lambda t: place_spans(t, docs)) if docs is not None else None)
    return out


def _team_grades(q: Question, hits, cands) -> np.ndarray:
    """Share of the question's required facts a candidate states (0 outside the evidence);
    without facts, 1 for a candidate of the evidence passage that overlaps the evidence."""
    facts = [normalize(f) for f in q.must_include]
    ev = clean_text(q.evidence) if q.evidence else ""
    nev = normalize(ev)
    g = np.zeros(len(cands), dtype=np.float32)
    for i, c in enumerate(cands):
        t = normalize(c.text)
        if not t:
            continue
        rel = bool(ev) and chunk_relevant(hits[c.hit].chunk, ev, q.docs)
        inside = bool(nev) and (t in nev or nev in t or rouge_l_f(c.text, ev) >= 0.3)
        if facts:
            g[i] = (sum(f in t for f in facts) / len(facts)) if (rel or inside or not ev) else 0.0
        else:
            g[i] = float(rel and inside)
    return g


def _team_labels(q: Question, hits, cands, grades: np.ndarray | None = None) -> np.ndarray:
    """Positive: states the most required facts any candidate states (at least one)."""
    g = _team_grades(q, hits, cands) if grades is None else grades
    best = float(g.max()) if len(g) else 0.0
    return ((g >= best - 1e-6) & (g > 0)).astype(np.float32)


def _ncp_grades(q: Question, hits, cands) -> np.ndarray:
    """Character ROUGE-L F of each candidate against the reference span."""
    return np.array([rouge_l_f(c.text, q.answer) for c in cands], dtype=np.float32)


def _ncp_labels(q: Question, hits, cands, grades: np.ndarray | None = None) -> np.ndarray:
    """A candidate is positive when its ROUGE-L F against the reference span is at least 0.5,
    when it is the best candidate (F >= 0.3), or when it is a sentence/item holding at
    least 80% of the reference (its clauses then compete in trimming)."""
    from policyqa.eval.metrics import _lcs_length

    ref = normalize(q.answer)
    f = _ncp_grades(q, hits, cands) if grades is None else grades
    if not len(f) or not ref:
        return f
    best = float(f.max())
    holds = np.array([c.kind != "clause" and len(normalize(c.text)) <= 4 * len(ref) + 40
                      and _lcs_length(normalize(c.text), ref) >= 0.8 * len(ref) for c in cands])
    return ((f >= 0.5) | ((f >= best - 1e-9) & (best >= 0.3)) | holds).astype(np.float32)


def collect_selector(pipe: Pipeline, questions: Sequence[Question], grader, labeler, delta: float, progress: bool, name: str):
    """Per question: candidate features, per-candidate labels, balanced weights, graded labels."""
    resolved = _resolved(questions, pipe.store.docs)
    Xs, ys, ws, gs, cache = [], [], [], [], {}
    for n, q in enumerate(questions):
        if progress and n % 50 == 0:
            print(f"[train] {name}: {n}/{len(questions)} questions", file=sys.stderr)
        if q.out_of_corpus:
            continue
        # a question naming the region of its answer is judged as the answerer judges it, within
        # that region's documents; a region trap on the whole corpus (its negatives: ``train``)
        within = pipe.region_docs(resolved[q.id])
        within = within if set(q.docs) & set(within) else []
        qq, hits, cands, X = pipe.run(resolved[q.id], doc_ids=within or None, regional=bool(within))
        g = grader(q, hits, cands)
        y = labeler(q, hits, cands, g)
        cache[q.id] = (qq, hits, cands, X)
        if not len(y) or y.sum() == 0 or y.sum() == len(y):
            continue
        pos, neg = y.sum(), len(y) - y.sum()
        Xs.append(X)
        ys.append(y)
        ws.append(np.where(y > 0, 0.5 / pos, 0.5 / neg))
        gs.append((g, delta))
    return Xs, ys, ws, gs, cache


MAX_PAIRS = 300  # pairs per question (a fixed random sample when there are more)


def _pairs(g: np.ndarray, delta: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """(better, worse) candidate indices whose graded labels differ by at least ``delta``."""
    d = g[:, None] - g[None, :]
    a, b = np.nonzero(d >= delta - 1e-9)
    if len(a) > MAX_PAIRS:
        keep = np.sort(rng.choice(len(a), MAX_PAIRS, replace=False))
        a, b = a[keep], b[keep]
    return a, b


def _fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, C: float, name: str, features: Sequence[str], params: dict) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = np.nanmean(X, axis=0)
    mean = np.where(np.isnan(mean), 0.0, mean)
    Xi = np.where(np.isnan(X), mean, X)
    scale = Xi.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    Z = (Xi - mean) / scale
    lr = LogisticRegression(C=C, max_iter=2000, random_state=SEED)
    lr.fit(Z, y, sample_weight=w * len(w) / w.sum())
    return LinearModel(name, tuple(features), mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0]), params)


def _standardise(X: np.ndarray):
    mean = np.nanmean(X, axis=0)
    mean = np.where(np.isnan(mean), 0.0, mean)
    scale = np.where(np.isnan(X), mean, X).std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def _fit_pairwise(Xs, ys, ws, gs, C: float, features: Sequence[str], mean=None, scale=None) -> LinearModel:
    """Pairwise logistic ranker on standardised row differences, then Platt-calibrated."""
    from sklearn.linear_model import LogisticRegression

    if mean is None:
        mean, scale = _standardise(np.concatenate(Xs))
    rng = np.random.default_rng(SEED)
    D, W = [], []
    Zs = []
    for X, (g, delta) in zip(Xs, gs):
        Z = (np.where(np.isnan(X), mean, X) - mean) / scale
        Zs.append(Z)
        a, b = _pairs(g, delta, rng)
        if not len(a):
            continue
        D.append(Z[a] - Z[b])
        W.append(np.full(len(a), 1.0 / len(a)))
    D = np.concatenate(D)
    W = np.concatenate(W)
    lr = LogisticRegression(C=C, fit_intercept=False, max_iter=3000, random_state=SEED)
    lr.fit(np.concatenate([D, -D]), np.r_[np.ones(len(D)), np.zeros(len(D))], sample_weight=np.r_[W, W] * len(W) / W.sum())
    w = lr.coef_[0].astype(np.float64)
    # Platt calibration of the ranking score on the per-candidate labels
    s = np.concatenate([Z @ w for Z in Zs])[:, None]
    y = np.concatenate(ys)
    sw = np.concatenate(ws)
    cal = LogisticRegression(C=100.0, max_iter=2000, random_state=SEED)
    cal.fit(s, y, sample_weight=sw * len(sw) / sw.sum())
    a, b = float(cal.coef_[0][0]), float(cal.intercept_[0])
    return LinearModel("selector", tuple(features), mean, scale, w * a, b, {})


def _top1(model: LinearModel, Xs, ys, clause_col: int) -> float:
    """Share of questions whose best non-clause candidate is labelled positive."""
    hits = 0
    for X, y in zip(Xs, ys):
        lg = model.logits(X)
        lg = np.where(X[:, clause_col] > 0, -np.inf, lg)
        hits += float(y[int(np.argmax(lg))] > 0)
    return hits / max(1, len(Xs))


def one_standard_error_choice(accuracy: dict[float, float], n: int) -> float:
    """The most regularised C (the smallest) whose cross-validated accuracy is within one
    binomial standard error, over ``n`` questions, of the best: differences smaller than
    that are noise, and choosing on them picks a different model from run to run of data."""
    top = max(accuracy.values())
    se = float(np.sqrt(top * (1 - top) / max(1, n)))
    return min(c for c, a in accuracy.items() if a >= top - se)


def fit_selector(data: dict, progress: bool) -> tuple[LinearModel, dict]:
    """Pairwise ranker; C chosen by 2-fold (by question) top-1 accuracy on the training questions,
    the most regularised within one standard error of the best."""
    Xs = [x for d in data.values() for x in d[0]]
    ys = [y for d in data.values() for y in d[1]]
    ws = [w for d in data.values() for w in d[2]]
    gs = [g for d in data.values() for g in d[3]]
    clause_col = CANDIDATE_FEATURES.index("is_clause")
    folds = [list(range(0, len(Xs), 2)), list(range(1, len(Xs), 2))]
    report = {}
    for C in (0.01, 0.1, 1.0):
        acc = []
        for k in range(2):
            tr, te = folds[k], folds[1 - k]
            m = _fit_pairwise([Xs[i] for i in tr], [ys[i] for i in tr], [ws[i] for i in tr], [gs[i] for i in tr], C, CANDIDATE_FEATURES)
            acc.append(_top1(m, [Xs[i] for i in te], [ys[i] for i in te], clause_col))
        report[C] = float(np.mean(acc))
        if progress:
            print(f"[train] selector C={C}: cross-validated top-1 {report[C]:.3f}", file=sys.stderr)
    best_c = one_standard_error_choice(report, len(Xs))
    if progress:
        print(f"[train] selector: C={best_c} (the most regularised within one standard error of the best)", file=sys.stderr)
    model = _fit_pairwise(Xs, ys, ws, gs, best_c, CANDIDATE_FEATURES)
    per_set = {name: round(_top1(model, d[0], d[1], clause_col), 4) for name, d in data.items()}
    return model, {"C": best_c, "cv_top1": {str(k): round(v, 4) for k, v in report.items()}, "train_top1": per_set}


def root_ids(questions: Sequence[Question]) -> dict[str, str]:
    """Each question's id -> the id of the first question of its conversation (a follow-up
    stays with the question it follows, as the tune/test split keeps it)."""
    by_id = {q.id: q for q in questions}
    out = {}
    for q in questions:
        r, seen = q, {q.id}
        while r.followup_of and r.followup_of in by_id and r.followup_of not in seen:
            r = by_id[r.followup_of]
            seen.add(r.id)
        out[q.id] = r.id
    return out


TRIM_UNITS = 3  # units per question whose runs are trimming examples: the selector's best sentences
TRIM_MIN_GRID = (0.5, 0.6, 0.7, 0.8)  # probabilities a run needs, compared end to end on the tune halves
LIST_MIN_GRID = (0.6, 0.8, 0.9, 0.95)  # probabilities a further unit of a list answer needs (compared end to end, as TRIM_MIN_GRID)
TRIM_C = 0.1  # inverse regularisation of the trimmer's logistic regression


def collect_trimmer(pipe: Pipeline, selector: LinearModel, questions: Sequence[Question], cache: dict, progress: bool, name: str):
    """Trimming examples: for the selector's best ``TRIM_UNITS`` sentences of each question with a
    reference answer, one row per allowed clause run (``qa.trim.allowed_runs``), the run-versus-unit
    features the composer computes.  Label: the run's ROUGE-L F against the reference answer is
    higher than the unit's and it keeps every required fact the unit states; weight: the size of the
    difference (a run that drops a required fact weighs as much as the unit's own F), normalised per
    unit so that a long sentence with many runs counts as much as a short one."""
    from policyqa.qa.features import candidate_features_ref
    from policyqa.qa.trim import allowed_runs, trim_features

    cues = load_cues()
    Xs, ys, ws = [], [], []
    for n, q in enumerate(questions):
        if progress and n % 100 == 0:
            print(f"[train] trimmer {name}: {n}/{len(questions)} questions", file=sys.stderr)
        if q.out_of_corpus or not q.answer or q.id not in cache:
            continue
        qq, hits, cands, _ = cache[q.id]
        units = [c for c in cands if c.kind != "clause"]
        X0, ref = candidate_features_ref(qq, hits, units, pipe.lookup, cues)
        lg0 = selector.logits(X0)
        order = [i for i in np.argsort(-lg0, kind="stable") if units[i].kind == "sentence" and not units[i].host][:TRIM_UNITS]
        for i in order:
            unit = units[i]
            runs = allowed_runs(qq, unit, hits[unit.hit], cues)
            if not runs:
                continue
            lg = selector.logits(candidate_features(qq, hits, runs, pipe.lookup, cues, ref=ref))
            X = trim_features(qq, unit, runs, float(lg0[i]), lg, hits[unit.hit].chunk.text, cues)
            y, w = trim_labels(unit.text, [r.text for r in runs], q.answer, q.must_include)
            Xs.append(X)
            ys.append(y)
            ws.append(w)
    return Xs, ys, ws


def trim_labels(unit: str, runs: Sequence[str], answer: str, facts: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """(labels, weights) of the clause runs of ``unit`` against the reference ``answer``: 1 when a
    run's ROUGE-L F is higher than the unit's (by more than 0.005) and it keeps every required fact
    the unit states; weight |difference| in [0.01, 0.5] (a run that drops a fact: as much as the
    unit's own F, at least 0.05), normalised to sum to 1 over the unit's runs."""
    f_unit = rouge_l_f(unit, answer)
    nu = normalize(unit)
    kept = [n for n in (normalize(f) for f in facts) if n in nu]
    gain = np.array([rouge_l_f(r, answer) - f_unit for r in runs], dtype=np.float64)
    lost = np.array([any(f not in normalize(r) for f in kept) for r in runs], dtype=bool)
    gain = np.where(lost, -max(0.05, f_unit), gain)
    w = np.clip(np.abs(gain), 0.01, 0.5)
    return (gain > 0.005).astype(np.float64), w / w.sum()


def fit_trimmer(data: dict, progress: bool) -> tuple[LinearModel, dict]:
    """The trimmer: a weighted logistic regression on every set's examples (each set weighs the same)."""
    from policyqa.qa.trim import TRIM_FEATURES

    X = np.concatenate([np.concatenate(d[0]) for d in data.values() if d[0]])
    y = np.concatenate([np.concatenate(d[1]) for d in data.values() if d[0]])
    w = np.concatenate([np.concatenate(d[2]) / len(d[2]) for d in data.values() if d[0]])
    model = _fit(X, y, w, TRIM_C, "trimmer", TRIM_FEATURES, {"trim_min": 0.5})
    p = model.proba(X)
    info = {"examples": int(len(y)), "positive": int(y.sum()), "C": TRIM_C,
            "weighted_accuracy": round(float(np.sum(w * ((p >= 0.5) == (y > 0))) / w.sum()), 4),
            "per_set_examples": {k: int(sum(len(x) for x in d[0])) for k, d in data.items()}}
    if progress:
        print(f"[train] trimmer {info}", file=sys.stderr)
    return model, info


def answerability_row(selector: LinearModel, q, hits, cands, X, english: bool, outside=None) -> np.ndarray:
    ok = np.array([not c.host and c.kind != "clause" for c in cands], dtype=bool)
    if not ok.any():
        best_logit, best_cov = -10.0, 0.0
    else:
        lg = np.where(ok, selector.logits(X), -np.inf)
        i = int(np.argmax(lg))
        best_logit, best_cov = float(lg[i]), float(X[i][CANDIDATE_FEATURES.index("cov")])
    return answerability_features(q, hits, best_logit, best_cov, english, outside=outside)


def fit_answerable(rows: np.ndarray, y: np.ndarray, max_false_refusal: float, progress: bool,
                   ooc: np.ndarray | None = None, groups: Sequence[str] | None = None) -> tuple[LinearModel, dict]:
    """Logistic regression; answerable questions weigh half, out-of-corpus questions (``ooc``)
    a quarter and cross-corpus questions a quarter (there are far more of the latter, and
    they are the easier negatives).  ``groups``: the conversation of each row; the
    cross-validated probabilities the threshold is chosen on keep a conversation's rows
    (a question against its own corpus, against the other, within its region) in one fold."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    ooc = np.zeros(len(y), dtype=bool) if ooc is None else ooc
    cross = (y == 0) & ~ooc
    w = np.where(y > 0, 0.5 / max(1, y.sum()), 0.0)
    if ooc.any():
        w = np.where(ooc, 0.25 / ooc.sum(), w)
        w = np.where(cross, 0.25 / max(1, cross.sum()), w)
    else:
        w = np.where(cross, 0.5 / max(1, cross.sum()), w)
    # cross-validated probabilities: calibration check and threshold choice
    cv = np.zeros(len(y))
    folds = (StratifiedGroupKFold(5, shuffle=True, random_state=SEED).split(rows, y, list(groups)) if groups is not None
             else StratifiedKFold(5, shuffle=True, random_state=SEED).split(rows, y))
    for tr, te in folds:
        m = _fit(rows[tr], y[tr], w[tr], 1.0, "answerable", ANSWERABILITY_FEATURES, {})
        cv[te] = m.proba(rows[te])
    thresholds = np.linspace(0.05, 0.95, 91)
    best_t = 0.05
    for t in thresholds:
        fr = float(((cv < t) & (y > 0)).sum() / max(1, (y > 0).sum()))
        if fr <= max_false_refusal:
            best_t = float(t)
    refused_neg = float(((cv < best_t) & (y == 0)).sum() / max(1, (y == 0).sum()))
    refused_ooc = float(((cv < best_t) & ooc).sum() / max(1, ooc.sum()))
    false_ref = float(((cv < best_t) & (y > 0)).sum() / max(1, (y > 0).sum()))
    bins = []
    for lo in np.arange(0, 1, 0.2):
        sel = (cv >= lo) & (cv < lo + 0.2 + (1e-9 if lo >= 0.8 else 0))
        if sel.any():
            bins.append({"p": f"{lo:.1f}-{lo + 0.2:.1f}", "n": int(sel.sum()), "mean_p": round(float(cv[sel].mean()), 3),
                         "answerable": round(float(y[sel].mean()), 3)})
    info = {"threshold": round(best_t, 3), "cv_false_refusal": round(false_ref, 4), "cv_negatives_refused": round(refused_neg, 4),
            "cv_out_of_corpus_refused": round(refused_ooc, 4),
            "reliability": bins, "n_pos": int(y.sum()), "n_neg": int(len(y) - y.sum())}
    if progress:
        print(f"[train] answerable: threshold {best_t:.2f}, cv false refusal {false_ref:.3f}, negatives refused {refused_neg:.3f}, out-of-corpus refused {refused_ooc:.3f}", file=sys.stderr)
        for b in bins:
            print(f"[train]   reliability {b}", file=sys.stderr)
    model = _fit(rows, y, w, 1.0, "answerable", ANSWERABILITY_FEATURES, {"threshold": round(best_t, 3)})
    return model, info


REGION_ABSENT_GRID = tuple(round(0.05 * i, 2) for i in range(1, 13))  # 0.05 … 0.60


def choose_region_absent_min(view: Sequence[tuple[float, bool]], grid: Sequence[float] = REGION_ABSENT_GRID) -> tuple[float, dict]:
    """The ``region_absent`` level from which a question naming a region is read as about
    another region's rule (``Answerer._elsewhere``): the one of ``grid`` with the most
    questions read right — region traps flagged minus questions answered in the region's own
    documents flagged, counted (each question weighs the same, so a level that flags many
    answerable questions to catch a few traps loses; the higher level on ties).
    ``view``: (region_absent, whether the answer is in the region's documents) per question."""
    inside = np.array([v for v, i in view if i], dtype=float)
    elsewhere = np.array([v for v, i in view if not i], dtype=float)
    if not len(inside) or not len(elsewhere):
        return max(grid), {"questions": len(view), "note": "no region traps or no answerable region questions"}
    best, best_gain = max(grid), -np.inf
    for t in sorted(grid, reverse=True):
        gain = int((elsewhere >= t).sum()) - int((inside >= t).sum())
        if gain > best_gain:
            best, best_gain = t, gain
    return best, {"questions": len(view), "elsewhere": len(elsewhere), "flagged_elsewhere": round(float((elsewhere >= best).mean()), 4),
                  "flagged_inside": round(float((inside >= best).mean()), 4)}


def _write(model: LinearModel, path: Path, **extra) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(**extra), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _tune_score(sets: dict, models: Path, params: dict) -> dict:
    """End-to-end metrics with decoding ``params`` on each (store, questions) of ``sets``:
    facts_all, false refusals and out-of-corpus questions declined; ROUGE-L for NCP."""
    from policyqa.qa.service import make_answerer

    out = {}
    for name, (store, qs) in sets.items():
        ans = make_answerer(store, CONFIGS["default"].retrieval, models=str(models))
        ans.composer.params.update(params)
        by_id = {q.id: q for q in qs}
        facts, rouge, fr, n_in, n_declined, n_out = [], [], 0, 0, 0, 0
        for q in qs:
            chain, prev = [], q.followup_of
            while prev and prev in by_id:
                chain.append(Turn(by_id[prev].question))
                prev = by_id[prev].followup_of
            a = ans.answer(q.question, history=list(reversed(chain)) or None)
            if q.out_of_corpus:
                n_out += 1
                n_declined += declined(a.refused, a.region_note)
                continue
            n_in += 1
            fr += a.refused
            body = answer_body(a)
            if q.must_include:
                facts.append(float(facts_all(body, q.must_include)))
            if q.answer and name == "ncp":
                rouge.append(rouge_l_f(body, q.answer))
        out[name] = {"facts_all": float(np.mean(facts)) if facts else None, "rouge_l": float(np.mean(rouge)) if rouge else None,
                     "false_refusal": fr / max(1, n_in), "ooc_declined": n_declined / n_out if n_out else None}
    return out


DEV_QUESTIONS = Path(__file__).parent / "questions" / "dev.jsonl"
DEV_DOCUMENTS = Path(__file__).parent / "dev" / "documents"


def train(team_path: str, ncp_path: str, ncp_corpus: str, cache: Path, out_dir: Path = MODELS, max_false_refusal: float = 0.025,
          grid: bool = True, progress: bool = True, dev_path: str | None = str(DEV_QUESTIONS),
          dev_docs: str = str(DEV_DOCUMENTS)) -> dict:
    from policyqa.index.embeddings import load_embedder

    emb = load_embedder()
    tok = JiebaTokenizer()
    team = select_split(load_questions(team_path)[0], "tune")
    ncp = select_split(load_questions(ncp_path)[0], "tune")
    dev = load_questions(dev_path)[0] if dev_path else []  # a tune-only set: all of it
    b_store = index_for(CONFIGS["default"], load_corpus([builtin_corpus_dir()]).documents, cache, emb, tok, progress)
    n_store = index_for(CONFIGS["default"], load_corpus([ncp_corpus]).documents, cache, emb, tok, progress)
    b_pipe, n_pipe = Pipeline(b_store), Pipeline(n_store)
    d_store = index_for(CONFIGS["default"], load_corpus([builtin_corpus_dir(), dev_docs]).documents, cache, emb, tok, progress) if dev else None
    d_pipe = Pipeline(d_store) if dev else None

    data = {"team": collect_selector(b_pipe, team, _team_grades, _team_labels, 0.01, progress, "team tune"),
            "ncp": collect_selector(n_pipe, ncp, _ncp_grades, _ncp_labels, 0.2, progress, "NCP tune")}
    if dev:
        data["dev"] = collect_selector(d_pipe, dev, _team_grades, _team_labels, 0.01, progress, "dev")
    selector, sel_info = fit_selector({k: v[:4] for k, v in data.items()}, progress)
    roots = {**root_ids(team), **root_ids(ncp), **root_ids(dev)}  # each row's conversation: one fold in fit_answerable
    pipes = {"team": (b_pipe, team), "ncp": (n_pipe, ncp), **({"dev": (d_pipe, dev)} if dev else {})}
    trimmer, trim_info = fit_trimmer({k: collect_trimmer(p, selector, qs, data[k][4], progress, k) for k, (p, qs) in pipes.items()}, progress)

    rows, ys, oocs, groups = [], [], [], []
    region_view: list[tuple[float, bool]] = []  # questions naming a region: (region_absent, answer in its documents)
    sets = [("team", team, b_pipe, n_pipe), ("ncp", ncp, n_pipe, b_pipe)] + ([("dev", dev, d_pipe, n_pipe)] if dev else [])
    for name, qs, pipe, other in sets:
        resolved = _resolved(qs, pipe.store.docs)
        cache_q = data[name][4]
        for q in qs:
            text = resolved[q.id]
            eng = is_english(text)
            if q.out_of_corpus:
                rows.append(answerability_row(selector, *pipe.run(text, clauses=False), eng))
                ys.append(0.0)
                oocs.append(True)
                groups.append(roots[q.id])
                continue
            if q.id in cache_q:  # the question against its own corpus: answerable
                qq, hits, cands, X = cache_q[q.id]
                keep = [i for i, c in enumerate(cands) if c.kind != "clause"]
                within = pipe.region_docs(text)  # judged within its region (collect_selector): weighed against the others
                within = within if set(q.docs) & set(within) else []
                out = pipe.outside(text, within) if within else None
                rows.append(answerability_row(selector, qq, hits, [cands[i] for i in keep], X[keep], eng, outside=out))
                if within and not q.followup_of:
                    region_view.append((pipe.region_absent(qq, within, out), True))
                ys.append(1.0)
                oocs.append(False)
                groups.append(roots[q.id])
            if not q.followup_of:  # and against the other corpus: not answerable there
                rows.append(answerability_row(selector, *other.run(text, clauses=False), eng))
                ys.append(0.0)
                oocs.append(False)
                groups.append(roots[q.id])
    # the answerer also judges a question that names a region on that region's documents alone:
    # answerable there when its answer is in them, not when it is in another region's (a region trap)
    for name, qs, pipe in [("team", team, b_pipe)] + ([("dev", dev, d_pipe)] if dev else []):
        for q in qs:
            if q.followup_of or not (q.docs or q.out_of_corpus):
                continue
            region_docs = pipe.region_docs(q.question)
            if not region_docs:
                continue
            inside = bool(set(q.docs) & set(region_docs))
            if inside and q.id in data[name][4]:
                continue  # its answerable row above is already this view (``collect_selector``)
            run = pipe.run(q.question, clauses=False, doc_ids=region_docs, regional=True)
            out = pipe.outside(q.question, region_docs)
            rows.append(answerability_row(selector, *run, is_english(q.question), outside=out))
            groups.append(roots[q.id])
            if not q.out_of_corpus:  # (an out-of-corpus question is answered nowhere: no side to choose)
                region_view.append((pipe.region_absent(run[0], region_docs, out), inside))
            ys.append(1.0 if inside else 0.0)
            oocs.append(not inside)  # a hard negative (a region trap, or out of corpus), weighed with the out-of-corpus questions
    answerable, ans_info = fit_answerable(np.stack(rows), np.array(ys), max_false_refusal, progress, np.array(oocs, dtype=bool),
                                          groups=groups)
    ra_min, ra_info = choose_region_absent_min(region_view)
    answerable = replace(answerable, params={**answerable.params, "region_absent_min": ra_min})
    ans_info = {**ans_info, "region_absent": ra_info}
    if progress:
        print(f"[train] region_absent_min {ra_min} {ra_info}", file=sys.stderr)

    trained_on = {"team": f"{team_path} (tune half, {len(team)} questions)", "ncp": f"{ncp_path} (tune half, {len(ncp)} questions)"}
    if dev:
        trained_on["dev"] = f"{dev_path} over the built-in documents + {dev_docs} (all {len(dev)} questions; a tune-only set)"
    trained_on = {k: v.replace(str(Path(__file__).parent.parent) + "/", "") for k, v in trained_on.items()}
    emb_name = (b_store.manifest.get("embedding") or {}).get("model", "")
    params = dict(DEFAULT_PARAMS)
    selector = replace(selector, params=params)
    _write(selector, out_dir / "selector.json", trained_on=trained_on, fit=sel_info, embedding_model=emb_name, command="policyqa train")
    _write(answerable, out_dir / "answerable.json", trained_on=trained_on, fit=ans_info, embedding_model=emb_name, command="policyqa train")
    _write(trimmer, out_dir / "trimmer.json", trained_on=trained_on, fit=trim_info, embedding_model=emb_name, command="policyqa train")
    from policyqa.qa.model import load_model

    load_model.cache_clear()
    grid_report = []
    if grid:
        best = None
        for trim_min in TRIM_MIN_GRID:
            trimmer = replace(trimmer, params={"trim_min": trim_min})
            _write(trimmer, out_dir / "trimmer.json", trained_on=trained_on, fit=trim_info, embedding_model=emb_name, command="policyqa train")
            load_model.cache_clear()
            for list_min in LIST_MIN_GRID:
                p = {**params, "list_min": list_min}
                s = _tune_score({"team": (b_store, team), "ncp": (n_store, ncp), **({"dev": (d_store, dev)} if dev else {})}, out_dir, p)
                score = (s["team"]["facts_all"] or 0) + (s["ncp"]["rouge_l"] or 0) + (s.get("dev", {}).get("facts_all") or 0)
                grid_report.append({"trim_min": trim_min, "list_min": list_min, **{f"{k}_{m}": round(v, 4) for k, d in s.items() for m, v in d.items() if v is not None}})
                if progress:
                    print(f"[train] decode {grid_report[-1]}", file=sys.stderr)
                if best is None or score > best[0] + 1e-9:
                    best = (score, p, trim_min)
        params = best[1]
        selector = replace(selector, params=params)
        trimmer = replace(trimmer, params={"trim_min": best[2]})
        _write(selector, out_dir / "selector.json", trained_on=trained_on, fit=sel_info, decode_grid=grid_report, embedding_model=emb_name, command="policyqa train")
        _write(trimmer, out_dir / "trimmer.json", trained_on=trained_on, fit=trim_info, decode_grid=grid_report, embedding_model=emb_name, command="policyqa train")
        load_model.cache_clear()
    return {"selector": sel_info, "answerable": ans_info, "trimmer": trim_info, "params": params, "grid": grid_report}
