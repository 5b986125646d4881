"""Trimming a chosen unit to the clauses that answer, with a learned model.

The selector (:mod:`policyqa.qa.compose`) picks a unit: a sentence with its
caps, or a numbered item.  A unit often says more than the question asks (a
leading clause that restates the question, a second rule after ；).  The
trimmer compares each allowed clause run of the unit with the whole unit and
estimates the probability that quoting the run alone is the better answer.

- :func:`allowed_runs`: the runs a trim may quote.  Hard limits that protect
  facts, not fitted: every figure of the unit stays, each as often as the unit
  mentions it (amounts, rates, counts, measures, dates, any number: a threshold
  「1000万元以上的」 is not dropped because the cap repeats 1000万元);
  a cap stays when the question asks for a figure; a run that starts after a
  condition clause (「…的，」) keeps the condition; a run never starts with a
  conjunction joining it to the clause before (且, 或者: ``cues.json``
  ``joining_starts``) nor ends right before one, never ends inside brackets
  or quotes, and a run past a sentence end ends at one (not on
  「…400万元。同时」); a rule in tiers and a table row are never cut.
- :func:`trim_features`: run-versus-unit features (``TRIM_FEATURES``): length,
  position, question coverage and restatement gained or lost, figure kinds
  kept, the selector's score of the run against the unit's.
- :class:`Trimmer`: applies ``qa/models/trimmer.json`` (logistic coefficients in
  JSON, fitted by ``policyqa train`` on the tune halves, the label being "the run's
  ROUGE-L F against the reference answer is higher than the unit's, and it keeps
  every required fact the unit states") and quotes the best run when its
  probability is at least the model's ``trim_min``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import replace
from typing import Sequence

import numpy as np

from policyqa.corpus.tables import is_table_row
from policyqa.index.types import Hit
from policyqa.qa.candidates import _CLAUSE_END, _CONDITION_END, Candidate, clause_candidates
from policyqa.qa.cues import Cues, present_kinds
from policyqa.qa.features import Query, coverage, restates, topic_weight
from policyqa.qa.model import MODELS, LinearModel, load_model

MAX_CLAUSES = 12  # longest run considered (clauses split at ，；：); not fitted: longer than nearly every sentence's clause count

TRIM_FEATURES = (
    "len_ratio",  # run length / unit length
    "log_len",  # log characters of the run
    "log_unit_len",  # log characters of the unit
    "share_clauses",  # clauses of the run / clauses of the unit
    "starts_unit",  # the run starts where the unit starts
    "ends_unit",  # the run ends where the unit ends
    "cov_run",  # IDF-weighted question coverage of the run
    "cov_lost",  # coverage of the unit minus that of the run
    "topic_kept",  # share of the unit's question-topic weight the run keeps
    "restates_run",  # share of the run's bigrams found in the question
    "restates_dropped",  # share of the dropped text's bigrams found in the question
    "kinds_kept",  # share of the unit's figure kinds the run states
    "asked_kind_in_run",  # the run states a figure kind the question asks for
    "sel_gain",  # selector logit of the run minus the unit's
    "list_question",  # the question asks for a list (有哪些…)
)



def with_condition(run: Candidate, unit: Candidate, text: str) -> Candidate:
    """A clause run that starts right after a condition clause (「…的，」) keeps that condition."""
    if run.start <= unit.start or not _CONDITION_END.search(text[unit.start : run.start]):
        return run
    prev = max((m.end() for m in re.finditer(r"[，,；;：:]", text[unit.start : run.start - 1])), default=0)
    start = unit.start + prev
    return replace(run, start=start, text=text[start : run.end])


def allowed_runs(q: Query, unit: Candidate, hit: Hit, cues: Cues) -> list[Candidate]:
    """The clause runs of ``unit`` a trim may quote (the hard limits above), deduplicated."""
    if unit.kind not in ("sentence", "item") or unit.start < 0 or is_table_row(unit.text):
        return []  # a table row's cells are label：value pairs: a part would be a bare value
    subs = clause_candidates(unit, hit, max_clauses=MAX_CLAUSES, cues=cues)
    if not subs:
        return []
    text = hit.chunk.text
    figures = _figures(unit.text, cues)
    need_cap = bool(cues.cap.search(unit.text)) and bool(q.kinds)
    unit_kinds = present_kinds(unit.text, cues)
    out, seen = [], set()
    for s in subs:
        s = with_condition(s, unit, text)
        if (s.start, s.end) in seen:
            continue
        if figures - _figures(s.text, cues):
            continue  # a figure (or a second mention of one: 「1000万元以上的」 and 「最高不超过1000万元」) would be lost
        if need_cap and not cues.cap.search(s.text):
            continue
        if unit_kinds and not present_kinds(s.text, cues):
            continue
        if not _balanced(s.text):
            continue  # a run cut inside brackets or quotes (「…（责任单位」) is not a quote
        if s.start > unit.start and cues.joiner.match(s.text):
            continue  # 「且当年投入不低于30万元…」 would lose the clause its 且 joins
        if s.end < unit.end and cues.joiner.match(text[s.end : unit.end].lstrip("，,；;：:。 \n")):
            continue  # nor stops before one (「…≥1亿元。或企业研发经费支出占比高于10%」: the alternative is part of the rule)
        if s.end < unit.end and text[s.end - 1] not in _SENTENCE_ENDS and _SENTENCE_END.search(text, s.start, s.end - 1):
            continue  # past a sentence end, it ends at one: not on the next sentence's first words (「…400万元。同时」)
        seen.add((s.start, s.end))
        out.append(s)
    return out


_SENTENCE_ENDS = "。！？!?"
_SENTENCE_END = re.compile(f"[{_SENTENCE_ENDS}]")
_PAIRS = ("（）", "()", "“”", "《》", "【】", "[]")


def _balanced(text: str) -> bool:
    """Every bracket and quotation mark ``text`` opens it also closes, in order."""
    for a, b in _PAIRS:
        depth = 0
        for ch in text:
            depth += (ch == a) - (ch == b)
            if depth < 0:
                return False
        if depth:
            return False
    return True


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _figures(text: str, cues: Cues) -> Counter:
    """Every figure of ``text`` with its number of mentions: amounts, rates, counts, measures,
    dates and any other number (「200克金牌」)."""
    found = Counter(m.group(0) for k in ("amount", "rate", "count", "measure", "date") for m in cues.present[k].finditer(text))
    found.update("#" + m.group(0) for m in _NUMBER.finditer(text))
    return found


def _clauses(text: str) -> int:
    return 1 + len(_CLAUSE_END.findall(text.rstrip("，,；;：:。")))


def trim_features(q: Query, unit: Candidate, runs: Sequence[Candidate], unit_logit: float, run_logits: Sequence[float],
                  text: str, cues: Cues) -> np.ndarray:
    """One ``TRIM_FEATURES`` row per run of ``unit`` (``text``: the unit's chunk text)."""
    ulen = max(1, len(unit.text))
    ucov = coverage(q, unit.text)
    utopic = topic_weight(q, unit.text)
    ukinds = present_kinds(unit.text, cues)
    nclauses = _clauses(unit.text)
    rows = []
    for r, lg in zip(runs, run_logits):
        dropped = text[unit.start : r.start] + text[r.end : unit.end]
        rkinds = present_kinds(r.text, cues)
        rows.append([
            len(r.text) / ulen,
            math.log(1 + len(r.text)),
            math.log(1 + ulen),
            _clauses(r.text) / nclauses,
            float(r.start <= unit.start),
            float(r.end >= unit.end),
            coverage(q, r.text),
            ucov - coverage(q, r.text),
            topic_weight(q, r.text) / utopic if utopic > 0 else 1.0,
            restates(q, r.text),
            restates(q, dropped) if dropped.strip() else 0.0,
            len(rkinds & ukinds) / len(ukinds) if ukinds else 1.0,
            float(bool(set(q.kinds) & rkinds)),
            float(lg) - float(unit_logit),
            float(q.wants_list),
        ])
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(TRIM_FEATURES))


class Trimmer:
    """Chooses the clause run of a unit to quote, or the whole unit.

    Args:
        model: the fitted trimmer (``qa/models/trimmer.json``); its ``params``
            hold ``trim_min``, the probability a run needs (chosen on the tune halves).
    """

    def __init__(self, model: LinearModel):
        self.model = model
        self.trim_min = float(model.params.get("trim_min", 0.5))

    def choose(self, X: np.ndarray) -> int | None:
        """Index of the run to quote, or None to quote the whole unit."""
        if not len(X):
            return None
        p = self.model.proba(X)
        j = int(np.argmax(p))
        return j if p[j] >= self.trim_min else None


def default_trimmer(folder: str | None = None) -> Trimmer | None:
    """The trimmer of ``qa/models`` (or ``folder``); None when the folder has none
    (a models folder written before the trimmer existed: whole units are quoted)."""
    try:
        return Trimmer(load_model("trimmer", TRIM_FEATURES, str(folder or MODELS)))
    except FileNotFoundError:
        return None
