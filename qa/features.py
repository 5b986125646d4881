"""Features of answer candidates and of answerability (pure functions).

``candidate_features`` turns (question, hits, candidates) into a matrix, one
row per candidate, columns :data:`CANDIDATE_FEATURES`; ``answerability_features``
turns a question's retrieval and its best candidate into one row, columns
:data:`ANSWERABILITY_FEATURES`.  Nothing here is fitted: the weights live in
``qa/models/*.json`` (:mod:`policyqa.qa.model`), refitted by ``policyqa train``.

Features (all documented where computed):

- dense similarity of the candidate to the question (max over the stored
  sentence vectors it covers; NaN when no vectors, imputed by the model) and
  its gap to the best candidate;
- lexical: IDF-weighted coverage of the question's tokens in the candidate,
  added by the heading path, in its neighbours; a BM25 score of the
  candidate (corpus document frequencies) relative to the best; character
  bigram overlap with the question; the longest verbatim run of the
  question's characters (and its gap to the best unit's); novelty (share of its bigrams not in the
  question) and whether the clause before it restates the question;
- domain: question policy terms missing from the candidate and its context;
- figure kinds: for amount, rate, count, date, measure and unit, "asked and
  present"; "asked but none present"; any number at all;
- relative to the question's unit candidates (:class:`Reference`): z-score and
  rank of the dense similarity, coverage / bigram overlap
  minus the best unit's, rank of BM25, rank by asked figure then coverage
  (absolute similarities are compressed, 0.85-0.93 for every candidate);
- passage: 1/fused rank, fused score relative to the top, dense and BM25
  presence of the passage;
- position and shape: position in passage, length, kind (sentence, item,
  note, clause), interviewer turn, cap words.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from policyqa.index.types import Hit
from policyqa.index.word_tags import word_tag
from policyqa.qa.candidates import Candidate, cases_intro
from policyqa.qa.cues import (FIGURE_KINDS, GENERIC_WEIGHT, Cues, abbreviates, asked_kinds, asks_list, asks_rule, has_number, load_cues, present,
                              present_kinds, states_exclusion, token_weight, written_apart)
from policyqa.qa.terms import domain_terms

CANDIDATE_FEATURES = (
    "dense", "dense_gap", "cov", "cov_head_extra", "cov_nb", "bm25_rel", "bigram", "novelty", "prev_restates", "missing_terms",
    *(f"fig_{k}" for k in FIGURE_KINDS), "fig_asked_absent", "fig_none_asked_has_number",
    "inv_rank", "score_rel", "passage_dense", "in_sparse",
    "inv_pos", "log_len", "short", "long", "is_item", "is_note", "is_clause", "host", "cap", "cap_asked", "list_item",
    # relative to the question's other candidates (absolute similarities are compressed: 0.85-0.93 for all)
    "dense_z", "dense_rank", "cov_gap", "bigram_gap", "bm25_rank", "fig_rank",
    # the longest run of the question's own characters the candidate repeats verbatim, and its gap to the best unit's
    "phrase", "phrase_gap",
    # coverage with each question word weighed by how few of the question's units state it: the words
    # that tell the units apart (「发奖金」 among units that all say 专精特新奖励)
    "cov_local",
    # the question asks whether something is allowed or counts (能不能, 还能…吗: cues.json rule_asked) and the
    # unit states a permission or restriction (不得, 不再享受, 除外, 按差额: rule_markers)
    "rule_asked",
)
ANSWERABILITY_FEATURES = (
    "best_logit", "best_cov", "top_cov", "top3_cov", "missing_terms", "missing_idf", "top_dense", "top_in_both",
    "asked_absent", "english", "n_qtokens", "outside_lead",
)


@dataclass(frozen=True)
class TermStats:
    """Document frequencies of tokens over the indexed chunks (for IDF)."""

    df: Mapping[str, int]
    n: int

    def idf(self, token: str) -> float:
        d = self.df.get(token, 0)
        return math.log(1.0 + (self.n - d + 0.5) / (d + 0.5))

    @classmethod
    def from_texts(cls, texts: Sequence[str], tokenize: Callable[[str], list[str]]) -> "TermStats":
        df: Counter = Counter()
        for t in texts:
            df.update(set(tokenize(t)))
        return cls(dict(df), max(1, len(texts)))


@dataclass(frozen=True)
class Query:
    """What the features need to know about the question (computed once)."""

    text: str
    tokens: tuple[str, ...]  # distinct content tokens (lower case)
    weights: tuple[float, ...]  # IDF x length weight per token
    terms: tuple[str, ...]  # policy terms of the question (qa.terms)
    kinds: tuple[str, ...]  # figure kinds asked
    wants_list: bool
    bigrams: frozenset[str]
    vector: np.ndarray | None = None
    alts: tuple[tuple[str, ...], ...] = ()  # per token: its synonyms (cues.json), which count as the token
    # per token: the figure kind it asks for ("cap" for a cap word; "" for a topic word); such a word
    # weighs like a question word: the figure features judge whether a text states what it asks
    # (「比例」 by 「10%」, 「上限」 by 「最高不超过」), coverage judges the topic
    asks: tuple[str, ...] = ()
    asks_cap: bool = False  # the question names a cap (最多, 最高, 上限, 封顶: cues.json cap_words)
    core: str = ""  # the question's characters without question words and punctuation (:func:`phrase`)
    asked: str = ""  # the whole question when ``text`` is part of it (without its places): what names a version
    asks_rule: bool = False  # the question asks whether something is allowed or counts (cues.json rule_asked)

    @property
    def whole(self) -> str:
        """The question as asked, place names and version years included (「谷城2021年那版」)."""
        return self.asked or self.text


_QCHARS = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]")


@lru_cache(maxsize=8192)
def bigrams(text: str) -> frozenset[str]:
    s = _QCHARS.sub("", text)
    return frozenset(s[i : i + 2] for i in range(len(s) - 1))


def make_query(text: str, tokenize, stats: TermStats | None, vector=None, cues: Cues | None = None) -> Query:
    c = cues or load_cues()
    toks = tuple(dict.fromkeys(t.lower() for t in tokenize(text) if t.strip()))
    # an English word no indexed text contains cannot be matched by any candidate: counted, it would only
    # make every candidate look as far off (an English question is judged by the Chinese words of its terms)
    known = tuple(t for t in toks if not _unseen_english(t, stats))
    toks = known or toks
    kinds = asked_kinds(text, c)
    asks = ask_words(toks, kinds, c)
    w = tuple((GENERIC_WEIGHT if k else token_weight(t, c)) * (stats.idf(t) if stats else 1.0) for t, k in zip(toks, asks))
    asked = c.question_word.sub("", text)  # what the question says, its question words left out
    qb = bigrams(asked)
    alts = tuple(tuple(s.lower() for s in c.synonyms.get(t, ())) for t in toks)
    return Query(text, toks, w, tuple(t for t in dict.fromkeys(domain_terms(text)) if t not in c.not_topic), kinds,
                 asks_list(text, c), qb, vector, alts, asks, bool(c.cap.search(text)), _QCHARS.sub("", asked),
                 asks_rule=asks_rule(text, c))


def _unseen_english(token: str, stats: TermStats | None) -> bool:
    """A word of Latin letters that no indexed chunk contains (``stats`` known)."""
    return stats is not None and token.isascii() and token.isalpha() and stats.df.get(token, 0) == 0


def ask_words(tokens: Sequence[str], kinds: Sequence[str], cues: Cues) -> tuple[str, ...]:
    """Per token, the figure kind it asks for: a whole phrase asking a kind the question
    asks (比例, 金额, 期限; not 奖励 of 奖励多少), or "cap" for a cap word (上限, 最高); else ""."""
    out = []
    for t in tokens:
        k = next((k for k in kinds if cues.asked[k].fullmatch(t)), "")
        out.append(k or ("cap" if cues.cap.fullmatch(t) else ""))
    return tuple(out)


def coverage(q: Query, text: str, lowered: bool = False) -> float:
    """IDF-weighted share of the question's tokens that occur in ``text``, a synonym
    (规上 / 规模以上) or the full form of an abbreviation (智改数转 / 智能化改造数字化转型,
    :func:`abbreviates`) counting as its token (0..1)."""
    total = sum(q.weights)
    if total <= 0:
        return 0.0
    low = text if lowered else text.lower()
    alts = q.alts or ((),) * len(q.tokens)
    return sum(w for t, w, a in zip(q.tokens, q.weights, alts)
               if t in low or any(x in low for x in a) or (len(t) >= 3 and abbreviates(t, low))) / total


def topic_weight(q: Query, text: str) -> float:
    """Weight of the question's topic words (two characters or more; not generic, not asking
    for a figure) that ``text`` states, itself or by a synonym."""
    low = text.lower()
    alts = q.alts or ((),) * len(q.tokens)
    asks = q.asks or ("",) * len(q.tokens)
    return sum(w for t, w, a, k in zip(q.tokens, q.weights, alts, asks)
               if len(t) >= 2 and not k and token_weight(t) > GENERIC_WEIGHT and (t in low or any(x in low for x in a)))


OUTSIDE_DEPTH = 3  # the other regions' best passages read for ``outside_lead`` and :func:`region_absent`


def document_texts(chunks) -> dict[str, str]:
    """Each document's passages (headers and texts) as one lower-case text, by document id:
    what :func:`region_absent` searches for the asked place's words."""
    by_doc: dict[str, list[str]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c.header + "\n" + c.text)
    return {d: "\n".join(t).lower() for d, t in by_doc.items()}


def joined_passages(hits: Sequence[Hit]) -> str:
    """The other places' best passages (``OUTSIDE_DEPTH`` of them) as one text, for :func:`region_absent`."""
    return "\n".join(h.chunk.header + "\n" + h.chunk.text for h in list(hits)[:OUTSIDE_DEPTH])


def region_absent_terms(q: Query, region_texts: Sequence[str], outside_text: str) -> list[str]:
    """The question's topic words (two characters or more, not asking for a figure, not
    generic, not a word asking whether something is allowed or excluded (不能, 可否: how the
    question asks, which the region writes as 不予 or 不得), without digits: an amount the
    asker states is their situation, not the topic)
    that no text of ``region_texts`` (the asked region's documents, lower case) states,
    itself, by a synonym, as an abbreviation's full form or with its two words apart in one
    sentence (贷款贴息 in 「新增贷款…给予贴息」), while ``outside_text`` (the
    other regions' best passages) does: the question is about a rule of another place (a
    region trap) or about something the place has no rule on."""
    out = outside_text.lower()
    return [t for t, a in topic_words(q) if _states(t, a, out) and not any(_states(t, a, x) for x in region_texts)]


def topic_words(q: Query) -> list[tuple[str, tuple[str, ...]]]:
    """The question's topic words with their synonyms: two characters or more, not asking for a
    figure, not generic, not a word asking whether something is allowed or excluded (不能, 可否:
    how the question asks, which a document writes as 不予 or 不得), without digits (an amount
    the asker states is their situation, not the topic)."""
    asking = load_cues().asking_word
    alts = q.alts or ((),) * len(q.tokens)
    asks = q.asks or ("",) * len(q.tokens)
    return [(t, a) for t, a, k in zip(q.tokens, alts, asks)
            if len(t) >= 2 and not k and not any(ch.isdigit() for ch in t) and token_weight(t) > GENERIC_WEIGHT
            and not asking.fullmatch(t)]


def _states(t: str, a, low: str) -> bool:
    """As cues.present: the word itself, a synonym, an abbreviation's full form, its two words apart."""
    return t in low or any(x in low for x in a) or (len(t) >= 3 and abbreviates(t, low)) or written_apart(t, low)


def item_words(q: Query, unit: str, chosen: str, figured: Sequence[str]) -> list[str]:
    """The words naming the item the question asks, when ``unit`` names it and ``chosen``
    names a sibling (「主导制定团体标准…」 and 「主导制定国家标准、行业标准…」 for 团体标准): the
    question's topic words (:func:`topic_words`; not money words such as 奖励, which name the
    benefit, not the item) that ``unit`` states and ``chosen`` does not,
    those whose jieba tag can name an item (cues.json ``item_tags``: nouns, and place words such
    as 境外); none unless ``unit`` states every topic word ``chosen`` states, and ``chosen`` states
    one at least (a sibling adds to what they share: a unit about something else, or a chosen
    unit sharing nothing with the question, proves no kinship) and no text of ``figured``
    (the units stating the kind of figure asked) states every topic word ``unit`` states (then
    the document gives the item a figure).  All texts lower case, with titles and headings."""
    c = load_cues()
    words = [(t, a) for t, a in topic_words(q) if not c.money_topic.fullmatch(t)]  # 奖励, 补贴: the benefit, not the item

    def stated(text: str) -> set[str]:
        return {t for t, a in words if _states(t, a, text)}

    named, other = stated(unit), stated(chosen)
    if not other or not other <= named or any(named <= stated(f) for f in figured):
        return []
    return [t for t, _ in words if t in named and t not in other and word_tag(t) in c.item_tags]


def about_title(q: Query, title: str) -> bool:
    """Every topic word of the question (:func:`topic_words`) is stated by ``title`` (a
    document's title line): the question asks about what the whole document is about, so its
    words tell none of the document's passages apart."""
    words = topic_words(q)
    low = title.lower()
    return bool(words) and all(_states(t, a, low) for t, a in words)


def unknown_terms(q: Query, region_texts: Sequence[str], outside_text: str, stats: TermStats) -> list[str]:
    """The question's topic words (:func:`topic_words`) that the whole knowledge base never
    writes: no indexed passage has the word or a synonym among its tokens (``stats``), and
    neither the asked region's documents (``region_texts``) nor the other regions' best
    passages (``outside_text``) state it in any form.  A question about such a word
    (残疾人, 公积金 asked of a place whose rules never mention them) has no rule anywhere, so
    a clause of the place's that shares its other words is the nearest text, not its answer.
    Only dictionary words that can name a topic count (nouns, by jieba's tags; not 去年, 准备,
    头一回, nor jieba's HMM guesses: 局管, 特心), and a known word with a grammar character
    glued on (费能) is known."""
    out = outside_text.lower()
    texts = (out, *region_texts)
    c = load_cues()
    grammar = c.function_chars

    def known(t: str, a=()) -> bool:
        return any(stats.df.get(x, 0) for x in (t, *a)) or any(_states(t, a, x) for x in texts)

    def glued(t: str) -> bool:  # a known word with a grammar character jieba's HMM stuck to it (费能, 在霁川)
        core = t
        while core and core[0] in grammar:
            core = core[1:]
        while core and core[-1] in grammar:
            core = core[:-1]
        return core != t and (not core or known(core))

    def thing(t: str) -> bool:  # a dictionary word that can name a topic (jieba's tags): not 去年, 准备, 头一回, 哪几个,
        # nor a word for money (补贴: the kind of benefit asked, which documents write as 奖补, 贴息 …)
        return word_tag(t) in c.topic_tags and not c.question_word.search(t) and not c.money_topic.fullmatch(t)

    return [t for t, a in topic_words(q) if not known(t, a) and not glued(t) and thing(t)]


def weight_share(q: Query, terms) -> float:
    """IDF-weighted share of the question's words that are among ``terms`` (0..1)."""
    total = sum(q.weights)
    if total <= 0:
        return 0.0
    terms = set(terms)
    return sum(w for t, w in zip(q.tokens, q.weights) if t in terms) / total


def region_absent(q: Query, region_texts: Sequence[str], outside_text: str) -> float:
    """IDF-weighted share of the question's words that are :func:`region_absent_terms` (0..1)."""
    return weight_share(q, region_absent_terms(q, region_texts, outside_text))


def bm25(q: Query, text: str, avg_len: float = 60.0, k1: float = 1.2, b: float = 0.75) -> float:
    """BM25 of ``text`` as a document (term frequency by substring count; IDF in the weights)."""
    low = text.lower()
    n = len(text)
    s = 0.0
    for t, w in zip(q.tokens, q.weights):
        f = low.count(t)
        if f:
            s += w * f * (k1 + 1) / (f + k1 * (1 - b + b * n / avg_len))
    return s


def phrase(q: Query, text: str) -> float:
    """The longest run of consecutive question characters (:attr:`Query.core`) that ``text``
    repeats verbatim, over the length of the question's core (0..1): 「市政府主要负责同志」
    asked is matched whole by the sentence about 市政府主要负责同志, not by the one about
    市政府负责同志, though both hold every word of it."""
    core = q.core.lower()
    if len(core) < 2:
        return 0.0
    low = _QCHARS.sub("", text.lower())
    best = 0
    for i in range(len(core) - 1):
        j = i + best + 1  # only a longer run matters
        while j <= len(core) and core[i:j] in low:
            best, j = j - i, j + 1
    return best / len(core) if best >= 2 else 0.0


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def novelty(q: Query, text: str) -> float:
    """Share of the text's character bigrams that are not the question's (0: it only restates it)."""
    b = bigrams(text)
    return 1.0 - len(b & q.bigrams) / len(b) if b else 0.0


def restates(q: Query, text: str) -> float:
    """Share of the text's character bigrams found in the question (1: it restates the question)."""
    b = bigrams(text)
    return len(b & q.bigrams) / len(b) if b else 0.0


_CLAUSE_SPLIT = re.compile(r"[，,；;：:。！？!?\n]")


def preceding_clause(text: str, start: int, window: int = 80) -> str:
    """The clause (or heading) just before ``text[start:]``: an answer often follows the
    clause that restates the question (「（四）做好客流预测。」 then what to do)."""
    pieces = [p for p in _CLAUSE_SPLIT.split(text[max(0, start - window) : start]) if p.strip()]
    return pieces[-1] if pieces else ""


def context_coverage(X: np.ndarray) -> np.ndarray:
    """Coverage of the question's terms by candidate + heading path, from feature rows."""
    return X[:, CANDIDATE_FEATURES.index("cov")] + X[:, CANDIDATE_FEATURES.index("cov_head_extra")]


def missing(q: Query, text: str, cues: Cues | None = None) -> int:
    return sum(1 for t in q.terms if not present(t, text, cues))


def dense_sims(q: Query, hits: Sequence[Hit], cands: Sequence[Candidate], lookup) -> np.ndarray:
    """Max cosine of each candidate's stored sentence vectors to the question (NaN when unknown)."""
    out = np.full(len(cands), np.nan, dtype=np.float32)
    if q.vector is None or lookup is None:
        return out
    cache: dict[int, np.ndarray | None] = {}
    for i, c in enumerate(cands):
        if c.hit not in cache:
            got = lookup(hits[c.hit].chunk.chunk_id)
            cache[c.hit] = None if got is None else np.asarray(got[1], dtype=np.float32) @ q.vector
        sims = cache[c.hit]
        if sims is None:
            continue
        if c.kind == "note":
            out[i] = float(sims.max()) if len(sims) else np.nan
        elif c.sents and max(c.sents) < len(sims):
            out[i] = float(sims[list(c.sents)].max())
    return out


@dataclass(frozen=True)
class Reference:
    """The values of a question's unit candidates (sentences, items, notes, not clauses)
    that relative features compare a candidate with; kept by the composer so clause runs
    made later for trimming are measured against the same units as in training."""

    dense: np.ndarray  # finite dense similarities
    bm: np.ndarray  # raw BM25
    cov: np.ndarray
    cov_ctx: np.ndarray
    bigram: np.ndarray
    fig: np.ndarray  # asked-figure match x 10 + context coverage
    phrase: np.ndarray
    local: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per question token: its weight among the units (:func:`local_weights`)

    @classmethod
    def of(cls, dense, bm, cov, cov_ctx, bigram, fig, phr, mask, local=None) -> "Reference":
        if not mask.any():
            mask = np.ones(len(mask), dtype=bool)
        d = dense[mask]
        return cls(d[np.isfinite(d)], bm[mask], cov[mask], cov_ctx[mask], bigram[mask], fig[mask], phr[mask],
                   np.zeros(0) if local is None else local)


def local_weights(q: Query, texts: Sequence[str]) -> np.ndarray:
    """Per question token, its weight times how rare it is among ``texts`` (the question's
    units): log((n + 1) / (units stating it, itself or by a synonym, + 0.5)), floored at 0."""
    n = len(texts)
    low = [t.lower() for t in texts]
    alts = q.alts or ((),) * len(q.tokens)
    out = np.zeros(len(q.tokens))
    for j, (t, w, a) in enumerate(zip(q.tokens, q.weights, alts)):
        df = sum(1 for x in low if t in x or any(y in x for y in a))
        out[j] = w * max(0.0, math.log((n + 1) / (df + 0.5)))
    return out


def local_coverage(q: Query, text: str, weights: np.ndarray) -> float:
    """Share of :func:`local_weights` of the question's tokens that ``text`` states (0..1)."""
    total = float(weights.sum()) if len(weights) == len(q.tokens) else 0.0
    if total <= 0:
        return 0.0
    low = text.lower()
    alts = q.alts or ((),) * len(q.tokens)
    return sum(float(w) for t, w, a in zip(q.tokens, weights, alts) if t in low or any(y in low for y in a)) / total


def _inv_rank(v: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """1 / (1 + number of reference values above each value)."""
    if not len(ref):
        return np.ones(len(v))
    return 1.0 / (1.0 + (ref[None, :] > v[:, None] + 1e-7).sum(axis=1))


def candidate_features(q: Query, hits: Sequence[Hit], cands: Sequence[Candidate], lookup=None, cues: Cues | None = None,
                       use_dense: bool = True, ref: "Reference | None" = None) -> np.ndarray:
    """One row per candidate (columns :data:`CANDIDATE_FEATURES`); relative features compare
    with ``ref`` (default: this call's non-clause candidates)."""
    return candidate_features_ref(q, hits, cands, lookup, cues, use_dense, ref)[0]


def candidate_features_ref(q: Query, hits: Sequence[Hit], cands: Sequence[Candidate], lookup=None, cues: Cues | None = None,
                           use_dense: bool = True, ref: "Reference | None" = None) -> tuple[np.ndarray, "Reference | None"]:
    c = cues or load_cues()
    m = len(cands)
    X = np.zeros((m, len(CANDIDATE_FEATURES)), dtype=np.float32)
    if not m:
        return X, ref
    dense = dense_sims(q, hits, cands, lookup)
    top_score = max((h.score for h in hits), default=1.0) or 1.0
    by_hit: dict[int, list[int]] = {}
    for i, cd in enumerate(cands):
        if cd.kind in ("sentence",):
            by_hit.setdefault(cd.hit, []).append(i)
    bm = np.array([bm25(q, cd.text if cd.kind != "note" else hits[cd.hit].chunk.section + cd.text) for cd in cands], dtype=np.float64)
    for i, cd in enumerate(cands):
        h = hits[cd.hit]
        ch = h.chunk
        text = cd.text
        ctx_text = ch.section + " " + (ch.header or "")
        body = text if cd.kind != "note" else ch.header + "\n" + ch.text
        sib = by_hit.get(cd.hit, [])
        nb = ""
        if cd.kind == "sentence" and i in sib:
            j = sib.index(i)
            nb = "".join(cands[k].text for k in sib[max(0, j - 1) : j + 2] if k != i)
        kinds = present_kinds(text, c)
        low_body, low_ctx = body.lower(), ctx_text.lower()
        cov_body = coverage(q, low_body, True)
        f = {
            "dense": dense[i],
            "cov": cov_body,
            "cov_head_extra": coverage(q, low_body + low_ctx, True) - cov_body,
            "cov_nb": coverage(q, nb) if nb else 0.0,
            "bigram": dice(q.bigrams, bigrams(text)),
            "phrase": phrase(q, text),
            "novelty": novelty(q, text),
            "prev_restates": restates(q, preceding_clause(ch.text, cd.start)) if cd.start > 0 else 0.0,
            "missing_terms": min(2, missing(q, body + ctx_text, c)),
            "fig_asked_absent": float(bool(q.kinds) and not any(k in kinds for k in q.kinds)),
            "fig_none_asked_has_number": float(not q.kinds and has_number(text)),
            "inv_rank": 1.0 / h.rank if h.rank else 0.0,
            "score_rel": h.score / top_score,
            "passage_dense": h.dense_score if (h.dense_score is not None and use_dense) else np.nan,
            "in_sparse": float(h.sparse_rank is not None),
            "inv_pos": 1.0 / (1 + cd.position),
            "log_len": math.log(1 + len(text)),
            "short": float(len(text) < 15),
            "long": float(len(text) > 150),
            "is_item": float(cd.kind == "item"),
            "is_note": float(cd.kind == "note"),
            "is_clause": float(cd.kind == "clause"),
            "host": float(cd.host),
            "cap": float(bool(c.cap.search(text))),
            # the question asks for a cap (最多, 上限, 封顶) and the unit states one (不超过, 最高)
            "cap_asked": float(q.asks_cap and bool(c.cap.search(text))),
            # (a case of an exclusion states the exclusion: 「有下列情形之一的，不予享受本政策：」 + 「（二）…的；」)
            "rule_asked": float(q.asks_rule and bool(c.rule_marker.search(text) or (cd.start > 0 and states_exclusion(cases_intro(ch.text, cd.start), c)))),
            "list_item": float(q.wants_list and cd.kind == "item"),
        }
        for k in FIGURE_KINDS:
            f[f"fig_{k}"] = float(k in q.kinds and k in kinds)
        X[i] = [f.get(name, 0.0) for name in CANDIDATE_FEATURES]
    col = lambda n: X[:, _COL[n]].astype(np.float64)  # noqa: E731
    cov, bg, phr = col("cov"), col("bigram"), col("phrase")
    cov_ctx = cov + col("cov_head_extra")
    fig = (sum(col(f"fig_{k}") for k in FIGURE_KINDS) - col("fig_asked_absent")) * 10 + cov_ctx
    dense = dense.astype(np.float64)
    if ref is None:
        units = np.array([cd.kind != "clause" for cd in cands])
        texts = [cd.text for cd, u in zip(cands, units) if u] or [cd.text for cd in cands]
        ref = Reference.of(dense, bm, cov, cov_ctx, bg, fig, phr, units, local_weights(q, texts))
    X[:, _COL["cov_local"]] = [local_coverage(q, cd.text, ref.local) for cd in cands]
    _relative(X, dense, bm, cov, cov_ctx, bg, fig, phr, ref)
    return X, ref


_COL = {n: i for i, n in enumerate(CANDIDATE_FEATURES)}


def _relative(X, dense, bm, cov, cov_ctx, bg, fig, phr, ref: Reference) -> None:
    """Features relative to the question's units (in place): gap to the best dense similarity,
    its z-score and rank; BM25 over the best and its rank; coverage, bigram overlap and
    verbatim phrase minus the best unit's; rank by asked-figure match then coverage."""
    fin = np.isfinite(dense)
    if len(ref.dense):
        sd = float(ref.dense.std()) or 1.0
        X[:, _COL["dense_gap"]] = np.where(fin, dense - ref.dense.max(), np.nan)
        X[:, _COL["dense_z"]] = np.where(fin, (dense - ref.dense.mean()) / sd, np.nan)
        X[:, _COL["dense_rank"]] = np.where(fin, _inv_rank(np.where(fin, dense, 0.0), ref.dense), np.nan)
    else:
        for n in ("dense_gap", "dense_z", "dense_rank"):
            X[:, _COL[n]] = np.nan
    bm_max = float(ref.bm.max()) if len(ref.bm) and ref.bm.max() > 0 else 1.0
    X[:, _COL["bm25_rel"]] = bm / bm_max
    X[:, _COL["bm25_rank"]] = _inv_rank(bm, ref.bm)
    for name, v, r in (("cov_gap", cov, ref.cov), ("bigram_gap", bg, ref.bigram), ("phrase_gap", phr, ref.phrase)):
        X[:, _COL[name]] = v - (r.max() if len(r) else 0.0)
    X[:, _COL["fig_rank"]] = _inv_rank(fig, ref.fig)


def answerability_features(q: Query, hits: Sequence[Hit], best_logit: float, best_cov: float, english: bool, cues: Cues | None = None,
                           depth: int = OUTSIDE_DEPTH, dense: bool = True, outside: Sequence[Hit] | None = None) -> np.ndarray:
    """One row: how well the top passages are about the question (``dense=False``:
    dense scores come from another model than the one fitted, so they are unknown).
    ``outside``: for a question judged within the region it names, the best passages of
    the other regions; ``outside_lead`` is how much better the best of them covers the
    question than the region's own (a region trap: another region has the rule), 0 when
    the question is not judged within a region."""
    c = cues or load_cues()
    top = list(hits[:depth])
    texts = [h.chunk.header + "\n" + h.chunk.text + "\n" + h.chunk.responsible for h in top]
    joined = "\n".join(texts)
    covs = [coverage(q, t) for t in texts]
    out_covs = [coverage(q, h.chunk.header + "\n" + h.chunk.text + "\n" + h.chunk.responsible) for h in list(outside or ())[:depth]]
    low = joined.lower()
    absent = [w for t, w in zip(q.tokens, q.weights) if t not in low and len(t) >= 2]
    total = sum(q.weights) or 1.0
    kinds = present_kinds(joined, c) if q.kinds else frozenset()
    f = {
        "best_logit": best_logit,
        "best_cov": best_cov,
        "top_cov": covs[0] if covs else 0.0,
        "top3_cov": max(covs, default=0.0),
        "missing_terms": min(3, missing(q, joined, c)),
        "missing_idf": max(absent, default=0.0) / total,
        "top_dense": max((h.dense_score for h in top if h.dense_score is not None), default=np.nan) if dense else np.nan,
        # unknown (imputed) when retrieval ran one list only (bm25 or dense mode)
        "top_in_both": (float(top[0].dense_rank is not None and top[0].sparse_rank is not None)
                        if top and any(h.dense_score is not None for h in top) and any(h.sparse_score is not None for h in top) else np.nan),
        "asked_absent": float(bool(q.kinds) and not any(k in kinds for k in q.kinds)),
        "english": float(english),
        "n_qtokens": min(len(q.tokens), 12) / 12.0,
        "outside_lead": (max(out_covs) - max(covs, default=0.0)) if out_covs else 0.0,
    }
    return np.array([f[n] for n in ANSWERABILITY_FEATURES], dtype=np.float32)
