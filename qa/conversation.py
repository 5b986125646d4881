"""Follow-up steps of :class:`policyqa.qa.answerer.Answerer` (mixed into it).

A follow-up (「那区里呢？」「要什么条件？」) is resolved against the previous turn
(:mod:`policyqa.qa.followup` does the text work), answered within that turn's
documents where they mention what it changed, and typed with its scope
(:class:`~policyqa.qa.decision.FollowupScope`).  The methods read the answerer's
parts (``docs``, ``cues``, ``tokenize``, ``composer``, ``threshold``) and use its
retrieval and decision steps (``_search``, ``_select``, ``_decide`` …); they hold
no state of their own.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from policyqa.corpus.clean import normalize_query
from policyqa.index.types import Filters
from policyqa.qa.compose import Selected, beyond_heading
from policyqa.qa.cues import names_word, present, present_kinds
from policyqa.qa.decision import Decision, FollowupScope, Reason
from policyqa.qa.followup import changed_object, in_context, is_followup, resolve, resolve_history
from policyqa.qa.regions import asked_regions, docs_for, place_names, place_spans, region_label
from policyqa.qa.types import Turn
from policyqa.qa.versions import newer_first


class FollowupSteps:
    """The answerer's steps for a question that continues the previous turn."""

    def _resolve(self, text: str, history, filters) -> tuple[str, tuple | None, list[str]]:
        """(resolved question, (FollowupScope, changed object, previous titles) for a follow-up
        else None, the previous turn's documents to answer within)."""
        last = self._last_question(history)
        if not last:
            return normalize_query(text), None, []
        searched: list[list[str]] = []  # the previous question's documents, searched once, when first needed

        def previous_docs() -> list[str]:
            if not searched:
                searched.append(self._previous_docs(last, filters))
            return searched[0]

        resolved = resolve(text, last, self.tokenize, self._places, self._qualifier_of(history, previous_docs))
        if resolved == normalize_query(text) or not is_followup(normalize_query(text), self._places):
            return self._in_previous_place(resolved, last), None, []
        prev_docs = previous_docs()
        raw = changed_object(text)
        obj = self.cues.level_words.get(raw, raw)
        titles = tuple(self._title(d) for d in prev_docs[:2])
        if obj and prev_docs and not self._slot_change(raw) and not self._mentioned(obj, prev_docs):
            return resolved, (FollowupScope.NOT_IN_PREVIOUS, obj, titles, tuple(prev_docs)), []
        return resolved, (FollowupScope.WITHIN, obj, titles, tuple(prev_docs)), prev_docs

    def _qualifier_of(self, history, previous_docs: Callable[[], list[str]]):
        """``qualifies(object, topic)`` for :func:`resolve`: the object a follow-up names is stated in a
        passage the previous answer quoted from (「那中西部呢？」 after an answer quoting the article
        「主导产业年营业收入…不低于50亿元，中西部…不低于30亿元」): it qualifies the previous rule, it is
        not a new topic.  ``previous_docs``: the previous question's documents (searched once)."""
        prev = turn(history[-1]).answer if history else ""

        def qualifies(obj: str, topic: str) -> bool:
            if not prev or not obj or obj in topic:
                return False
            docs = previous_docs()
            quoted = [c for d in docs for c in self._doc_chunks(d)
                      if any(len(x) >= 10 and x in prev for x in re.split(r"[。；;！？!?\n]", c.text))]
            return any(obj in c.text for c in quoted)

        return qualifies

    def _in_previous_place(self, question: str, last: str) -> str:
        """A question of a conversation that names no place is asked where the previous one was
        (「我们企业去年亏了点钱，还能申报四川省…吗？」 then 「那我们只报上云用云的补贴呢？」):
        the previous question's place is put before it.  Only one place: after a comparison
        of two the question does not say which it means."""
        if asked_regions(question, self.docs):
            return question
        before = asked_regions(last, self.docs)
        names = place_names(last, self.docs)
        if len(before) != 1 or not names:
            return question
        # the name of the place asked about, not another the question names (the province of an
        # honour: 「评上安徽省的数字化车间，霁川县里给多少」 was asked in 霁川)
        label = region_label(before[0])
        own = [n for n in names if [region_label(r) for r in asked_regions(n, self.docs)] == [label]]
        return f"{(own or names)[0]}{question}"

    def _followup_outcome(self, d: Decision, follow: tuple | None, resolved: str, q, ask: str, prev_docs: Sequence[str],
                          history, top_k: int) -> Decision:
        """The decision for a follow-up (``follow``: its scope, changed object, previous titles
        and documents, see :meth:`_resolve`) given the one its resolved question got: answered
        within the previous turn's documents when refused, about the changed object rather than
        the previous turn's rule, a new ask answered with a clause not quoted before; typed with
        its scope.  ``d`` itself for a question that is no follow-up."""
        if follow is not None and follow[0] == FollowupScope.WITHIN and (d.refused or d.reason == Reason.REFUSED_REGION):
            d = self._within_previous(resolved, q, follow[1], prev_docs or follow[3], top_k) or d
        elif (follow is not None and follow[0] == FollowupScope.WITHIN and follow[1] and d.reason in (Reason.ANSWERED, Reason.PARTIAL)
              and d.shape != "comparison" and not asked_regions(follow[1], self.docs)
              and not any(self._names(follow[1], s.text + " ".join(s.items)) for s in d.selected)
              and (repeats(d, history) or not any(present(follow[1], s.hit.chunk.section + "\n" + s.hit.chunk.text, self.cues)
                                                   for s in d.selected))):
            # the answer must be about what the follow-up changed, not repeat the previous turn's rule
            # (a changed place is named by the answer's region, not its text); a new rule whose quote does
            # not name it is kept when its passage does (融资 by 贷款, a synonym, in 「七、特色金融…」)
            found = self._within_previous(resolved, q, follow[1], prev_docs or follow[3], top_k)
            if found is not None:
                d = found
            else:
                follow = (FollowupScope.NOT_STATED, *follow[1:])
        elif (follow is not None and follow[0] == FollowupScope.WITHIN and not follow[1] and d.reason in (Reason.ANSWERED, Reason.PARTIAL)
              and d.shape != "comparison" and repeats(d, history)
              and not (q.kinds and all(k in present_kinds(" ".join(s.text for s in d.selected), self.cues) for k in q.kinds))):
            # a new ask about the same topic (「要什么条件？」 after 「…奖多少？」) answered with the very quote the
            # previous turn gave, which does not state what is asked now: the previous documents' best answer
            # among the clauses not quoted before
            d = self._new_ask(ask, prev_docs or follow[3], history, top_k) or d
        if follow is not None:
            d = replace(d, followup=follow[0], followup_object=follow[1], followup_docs=follow[2])
        return d

    def _in_context(self, text: str, history, filters) -> tuple[str, tuple, list[str]] | None:
        """A question read as continuing the previous turn (:func:`in_context`), within the
        previous turn's documents."""
        last = self._last_question(history)
        if not last:
            return None
        resolved = in_context(text, last)
        prev_docs = self._previous_docs(last, filters, answered_only=True)
        if not prev_docs:
            return None
        return resolved, (FollowupScope.WITHIN, "", tuple(self._title(d) for d in prev_docs[:2]), tuple(prev_docs)), prev_docs

    def _last_question(self, history) -> str | None:
        """The previous turn's question as resolved (each earlier follow-up in its context)."""
        prev = [normalize_query(p) for p in (turn(h).resolved_question or turn(h).question for h in (history or [])) if p]
        return resolve_history(prev[:-1], prev[-1], self.tokenize, places=self._places) if prev else None

    def _places(self, text: str) -> list[tuple[int, int]]:
        """Spans of the place names in ``text``, the documents' own places included."""
        return place_spans(text, self.docs)

    def _previous_docs(self, last: str, filters, answered_only: bool = False) -> list[str]:
        """The documents the previous question is answered from: its best three passages,
        within the region it names.  ``answered_only``: none when the previous question is
        not answerable from them (a refused turn gives no context to read a question in)."""
        regions = [] if (filters and filters.region) else asked_regions(last, self.docs)
        scope = filters
        if regions and not (filters and filters.doc_ids):
            docs = sorted({d for r in regions for d in docs_for(r, self.docs)})
            scope = Filters(doc_ids=tuple(docs)) if docs else filters
        if not answered_only:
            return list(dict.fromkeys(h.chunk.doc_id for h in self._search(last, k=3, filters=scope)))
        prev_hits = self._search(last, k=self.top_k, filters=scope)
        if not prev_hits or self._p_answerable(self.composer.score(self._query(last), prev_hits), False) < self.threshold:
            return []
        return list(dict.fromkeys(h.chunk.doc_id for h in prev_hits[:3]))

    def _new_ask(self, ask: str, prev_docs: Sequence[str], history, top_k: int) -> Decision | None:
        """The answer to a follow-up's new ask (「要什么条件？」) from the previous turn's documents,
        searched and scored on the ask itself — the documents are the topic; a conditions section
        need not repeat the reward's name — leaving out the candidates the previous answer quoted;
        None when nothing else is found."""
        prev = turn(history[-1]).answer if history else ""
        if not prev or not prev_docs:
            return None
        scope = Filters(doc_ids=tuple(prev_docs))
        hits = newer_first(self.docs, self._search(ask, k=top_k, filters=scope), ask)
        q = self._query(ask)
        if not hits:
            return None
        sc = self.composer.score(q, hits)
        quoted = np.array([c.text.strip()[:60] in prev for c in sc.cands], dtype=bool)
        if not len(quoted) or quoted.all():
            return None
        sc = replace(sc, logits=np.where(quoted, -60.0, sc.logits))  # far below any real logit: never chosen
        selected, shape = self._select(q, sc, scope, top_k)
        if not selected or repeats(Decision(Reason.ANSWERED, tuple(selected)), history):
            return None
        # the other clause must be about the ask (条件 in its heading 「四、申报条件」 or text): a reward
        # sentence that states its own conditions (「对首次纳入规模以上工业统计的企业…」) is rightly repeated
        c = self.cues
        words = [w for w in self.tokenize(c.anaphora.sub("", ask.strip(), count=1))
                 if len(w) >= 2 and w not in c.generic and not c.question_word.fullmatch(w)]
        if words and not any(present(w, s.hit.chunk.section + "\n" + s.text, c) for s in selected for w in words):
            return None
        selected, shape = self._complete_intro(selected, shape, q)
        # a quoted reward sentence that states its own condition with a figure (「对首次纳入…且上年度营业收入
        # 2000万元以上的企业，给予…」) answers the new ask too: it comes first, the other clause after it
        kept = self._own_condition(history[-1], prev, scope, top_k)
        if kept is not None and not any(kept.text.strip()[:60] in s.text or s.text.strip()[:60] in kept.text for s in selected):
            selected, shape = [kept, *selected], "list"
        missing = self._missing(q, selected)
        return Decision(Reason.PARTIAL if missing else Reason.ANSWERED, tuple(selected), missing=tuple(missing), shape=shape)

    def _own_condition(self, last, prev: str, scope: Filters, top_k: int) -> Selected | None:
        """The unit the previous answer quoted when it states its own condition with a figure
        (:meth:`_states_condition`), found again by the previous question; None otherwise."""
        t = turn(last)
        asked = t.resolved_question or t.question
        hits = self._search(asked, k=top_k, filters=scope) if asked else []
        if not hits:
            return None
        sc = self.composer.score(self._query(asked), hits)
        own = [i for i, c in enumerate(sc.cands) if c.kind in ("sentence", "item") and not c.host
               and c.text.strip()[:60] in prev and self._states_condition(c.text)]
        if not own:
            return None
        i = max(own, key=lambda k: sc.logits[k])
        c = sc.cands[i]
        return Selected(sc.hits[c.hit], c.text.strip(), float(1 / (1 + np.exp(-sc.logits[i]))), kind=c.kind, start=c.start)

    def _states_condition(self, text: str) -> bool:
        """``text`` has a clause stating a condition with a figure (「…营业收入2000万元以上的，」
        or 「…以上的企业，」 before what is granted)."""
        return any(present_kinds(m.group(0), self.cues) for m in re.finditer(r"[^，,；;。]*的(?:企业|单位|项目)?\s*[，,]", text))

    def _within_previous(self, resolved: str, q, obj: str, prev_docs: Sequence[str], top_k: int) -> Decision | None:
        """A follow-up about something the previous turn's documents mention, refused by the
        general judgement or answered with a clause that does not name it: the clause of
        those documents that names the changed object (:meth:`_names`; answered, or partial
        when it lacks the figure asked); None when no clause names it."""
        if not obj or not prev_docs:
            return None
        hits = newer_first(self.docs, self._search(resolved, k=top_k, filters=Filters(doc_ids=tuple(prev_docs))), resolved)
        if not hits:
            return None
        sc = self.composer.score(replace(q, kinds=()), hits)
        i = sc.best(lambda c: not c.host and c.kind in ("sentence", "item")
                    and self._names(obj, c.text, sentence_before(sc.hits[c.hit].chunk.text, c.start)))
        if i is None:
            return None
        c = sc.cands[i]
        text, start = c.text.strip(), c.start
        if not self._names(obj, c.text):  # named with the sentence's earlier clauses: quoted with them, or it says not of what
            before = sentence_before(sc.hits[c.hit].chunk.text, c.start)
            text, start = (before + c.text).strip(), c.start - len(before)
        sel = [beyond_heading(Selected(sc.hits[c.hit], text, float(1 / (1 + np.exp(-sc.logits[i]))), kind=c.kind, start=start))]
        missing = tuple(self._missing(q, sel))
        return Decision(Reason.PARTIAL if missing else Reason.ANSWERED, tuple(sel), missing=missing)

    def _slot_change(self, obj: str) -> bool:
        """A follow-up changing a slot of the same topic — a level (区里, 省级), a rank of a
        slot group (四星), an amount or threshold (过1个亿), the place (亭湖区) — stays in the
        previous context."""
        from policyqa.qa.cues import has_number

        if has_number(obj) or re.search(r"\d", obj):
            return True
        if asked_regions(obj, self.docs) and sum(b - a for a, b in self._places(obj)) >= len(obj) - 1:
            return True
        if obj in self.cues.level_words or obj in self.cues.level_words.values():
            return True
        return any(w in obj for g in self.cues.slot_groups for w in g)

    def _mentioned(self, obj: str, doc_ids: Sequence[str]) -> bool:
        """Whether documents mention a follow-up's object: it occurs (itself or by a synonym,
        融资 by 贷款), or one of its content words (the tokenizer's, generic words aside)
        does, or half of its character bigrams do."""
        texts = [c.header + "\n" + c.text for d in doc_ids for c in self._doc_chunks(d)]
        joined = "\n".join(texts)
        if names_word(obj, joined, self.cues):  # itself, a synonym, or half of its bigrams
            return True
        words = [t for t in self.tokenize(obj) if len(t) >= 2 and t not in self.cues.generic]
        return any(present(w, joined, self.cues) for w in words)  # one of its words: the documents may name it otherwise (预留 …份额)

    def _names(self, obj: str, text: str, before: str = "") -> bool:
        """Whether ``text`` names a follow-up's changed object: the object itself; else every
        slot word it holds (a level by one of its forms: 区级 by 各区, 区财政 …; a rank such
        as 四星 literally) and at least half of its other content words or of their character
        bigrams (「之后连续3年在库」 in 「此后连续3年在库的」).  The other words may be in
        ``before``, the earlier clauses of ``text``'s sentence, which a clause naming only the
        slot leaves out (「对新认定的国家级绿色工厂…奖励50万元；新认定为省级的，奖励20万元」
        names 省级绿色工厂); the slot words must be in ``text`` itself."""
        if not obj or obj in text:
            return bool(obj)
        rest = obj
        for group in self.cues.slot_groups:
            for w in group:
                if w in rest:
                    if not any(f in text for f in self.cues.level_forms.get(w, (w,))):
                        return False
                    rest = rest.replace(w, " ")
        if rest != obj:  # a slot word held: the rest of the object may be what the sentence said before it
            text = before + text
        words = [t for t in dict.fromkeys(self.tokenize(rest)) if len(t) >= 2 and t not in self.cues.generic]
        if not words or sum(w in text for w in words) * 2 >= len(words):
            return True
        grams = {g for part in rest.split() for g in (part[i : i + 2] for i in range(len(part) - 1))}
        return bool(grams) and sum(g in text for g in grams) * 2 >= len(grams)

    def _title(self, doc_id: str) -> str:
        m = self.docs.get(doc_id)
        return (m.title if m and m.title else doc_id)


def sentence_before(text: str, start: int) -> str:
    """The earlier clauses of the sentence that ``text[start:]`` continues: from the last
    sentence end (。！？ or a line break) before ``start``; "" at a sentence's start."""
    if start <= 0:
        return ""
    head = text[:start]
    cut = max(head.rfind(ch) for ch in "。！？!?\n")
    return head[cut + 1 :]


def repeats(d: Decision, history) -> bool:
    """Every quote of ``d`` was already in the previous turn's answer (known only when the
    history carries the answers' text)."""
    prev = turn(history[-1]).answer if history else ""
    return bool(prev) and bool(d.selected) and all(s.text.strip()[:60] in prev for s in d.selected)


def turn(h) -> Turn:
    """A history entry (a :class:`Turn`, a dict of its fields, or a question) as a Turn."""
    if isinstance(h, Turn):
        return h
    if isinstance(h, str):
        return Turn(question=h)
    return Turn(question=str(h.get("question", "")), answer=str(h.get("answer", "")), resolved_question=str(h.get("resolved_question", "")))
