"""Domain cue words of the answer stage, loaded from ``qa/data/cues.json``.

Every word list the answer stage uses (figure kinds and their units, list and
comparison cues, cap words, synonyms, generic words, follow-up slot groups)
lives in that one data file; this module only compiles it into patterns and
offers small pure functions over it.  Edit the JSON, not the code, to extend
the vocabulary, and keep each entry general (never a test question's words).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

DATA = Path(__file__).parent / "data" / "cues.json"

FIGURE_KINDS = ("amount", "rate", "count", "date", "measure", "unit")
GENERIC_WEIGHT = 0.2  # coverage weight of a generic or question word (a topic word weighs its length, up to 4)

_CN_NUM = "零一二两三四五六七八九十百千万亿"


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _opening(spec) -> str:
    """An alternative for words that ask only where a question or a clause opens (or after
    ``spec["after"]``: 「until when」), never as a conjunction inside a clause; '' without ``spec``."""
    if not spec or not spec.get("words"):
        return ""
    after = r"|\b(?:" + _alt(spec["after"]) + r")\s+" if spec.get("after") else ""
    return rf"|(?:^|[,;:，；：。?？!！]\s*{after})(?:{_alt(spec['words'])})\b"


@dataclass(frozen=True, eq=False)  # hashed by identity (memoised functions take it)
class Cues:
    generic: frozenset[str]
    not_topic: frozenset[str]
    synonyms: Mapping[str, tuple[str, ...]]
    asked: Mapping[str, re.Pattern]  # figure kind -> question pattern
    open_count: re.Pattern  # 多少 + a noun that is not another kind's unit (多少隐患)
    present: Mapping[str, re.Pattern]  # figure kind -> evidence pattern
    money_topic: re.Pattern
    list_cue: re.Pattern
    overview_cue: re.Pattern
    comparison_cue: re.Pattern
    cap: re.Pattern
    continuation: re.Pattern
    question_word: re.Pattern
    followup_start: re.Pattern
    followup_lean: re.Pattern
    slot_groups: tuple[tuple[str, ...], ...]
    level_words: Mapping[str, str]  # 区里 -> 区级
    level_forms: Mapping[str, tuple[str, ...]]  # 区级 -> 区级, 各区, 区财政 …; 第四年 -> 第四个年度 … (how a text names a slot word)
    subject_heads: tuple[str, ...]  # 企业, 单位 …: a follow-up naming one changes who, not what
    anaphora: re.Pattern = re.compile("(?!)")  # 这笔钱, 这条 … at the start of a follow-up's object: the previous topic
    difference: re.Pattern = re.compile("(?!)")  # 一样, 区别 …: comparing rewards asks for their amounts
    filler: re.Pattern = re.compile("(?!)")  # 一下, 看看 …: words of asking that name no topic
    addon: re.Pattern = re.compile("(?!)")  # 再给予, 基础上 …: a grant on top of another
    recipient_standard: re.Pattern = re.compile("(?!)")  # 新认定的, 获批 …: how a recipient is introduced
    explanation: re.Pattern = re.compile("(?!)")  # 即, 也就是 … at the start of a clause: it explains the clause before
    ask_verbs: re.Pattern = re.compile("(?!)")  # 要满足, 还有 … words at the end of a follow-up's object: part of the ask
    version_word: re.Pattern = re.compile("(?!)")  # 那版, 政策 … after a year that follows a place: names the place's version
    version_now: re.Pattern = re.compile("(?!)")  # 现在, 最新, 新 …: the version in force
    joiner: re.Pattern = re.compile("(?!)")  # 且, 或者 … at the start of a clause: it joins the clause before (never a quote's start)
    respective: re.Pattern = re.compile("(?!)")  # 分别, 各是 …: several figures asked at once (respective_cues)
    ask_qualifier: re.Pattern = re.compile("(?!)")  # 每年, 最晚 … at the end of a text (ask_qualifiers)
    # comparing, difference and question words: where the last place's own object ends (「四川省专项资金分别怎么规定」)
    object_end: re.Pattern = re.compile("(?!)")
    context_subject: re.Pattern = re.compile("(?!)")  # 我们, 我司 …: a clause telling the asker's situation
    context_end: re.Pattern = re.compile("(?!)")  # 了 at a clause's end: a completed event, told not asked
    context_mark: re.Pattern = re.compile("(?!)")  # 了 anywhere: a completed event when it stands as a word (制定了一项)
    asking_verb: re.Pattern = re.compile("(?!)")  # 想知道, 请问 …: a clause with one asks
    rule_asked: re.Pattern = re.compile("(?!)")  # 能不能, 还能 …: the question asks whether something is allowed
    rule_marker: re.Pattern = re.compile("(?!)")  # 不得, 除外, 按差额 …: a clause states a permission or restriction
    qualifier: re.Pattern = re.compile("(?!)")  # 差额, 只奖励一次 …: a short sentence qualifies the rule before it
    rule_modal: re.Pattern = re.compile("(?!)")  # 能, 可以: with a yes-or-no end (吗), a clause asks whether something is allowed
    # a word that asks whether something is allowed or excluded (能不能, 可以, 不能, 不予 …: rule_asked, rule_modals,
    # exclusion_negations): how the question asks, not what it is about
    asking_word: re.Pattern = re.compile("(?!)")
    yes_no_ends: tuple[str, ...] = ()
    topic_tags: frozenset[str] = frozenset()  # n, vn, l …: jieba tags of words that can name a topic
    item_tags: frozenset[str] = frozenset()  # topic_tags and s (境外): jieba tags of words that can name an item
    benefit: re.Pattern = re.compile("(?!)")  # 给予, 纳入, 一事一议 …: a unit grants something (benefit_words)
    item_figures: frozenset[str] = frozenset()  # amount, rate: the figures an item of a policy grants (item_figure_kinds)
    abroad: frozenset[str] = frozenset()  # 香港, 德国 …: places abroad, which documents call 境外 (abroad_places)
    total: re.Pattern = re.compile("(?!)")  # 加起来, 一共 …: a total over a policy's items is asked (total_words)
    document_self: re.Pattern = re.compile("(?!)")  # 本措施, 本办法 …: a text names its own document (document_self_words)
    function_chars: frozenset[str] = frozenset()  # 能, 对, 在 …: grammar characters jieba's HMM may glue to a word
    amount_ask: re.Pattern = re.compile("(?!)")  # 多少, 标准 …: with a money word, the question asks an amount
    money_yes_no: re.Pattern = re.compile("(?!)")  # 有没有, 有…吗: with a money word, whether there is money: an amount
    excluded_before: re.Pattern = re.compile("(?!)")  # 不得享受, 不能申报 …: a negation, then a benefit verb
    excluded_after: re.Pattern = re.compile("(?!)")  # 享受不了, 拿不到 …: a benefit verb, then a negation
    exclusion_phrase: re.Pattern = re.compile("(?!)")  # 挡在 …: a question's words of being excluded
    exclusion_text: re.Pattern = re.compile("(?!)")  # 取消, 调出 …: a clause's words of excluding


@lru_cache(maxsize=4)
def load_cues(path: str | Path = DATA) -> Cues:
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    syn: dict[str, tuple[str, ...]] = {}
    for group in d["synonyms"]:
        for w in group:
            syn[w] = tuple(x for x in group if x != w)
    for scale in d.get("level_scales", []):  # a rule from a lower level up covers a higher one
        for i, level in enumerate(scale):
            covering = tuple(f"{low}{tail}" for low in scale[: i + 1] for tail in ("及以上", "以上"))
            syn[level] = syn.get(level, ()) + tuple(x for x in covering if x not in syn.get(level, ()))
    for place in d.get("abroad_places", []):  # 德国 is 境外 (one way)
        syn[place] = syn.get(place, ()) + tuple(x for x in d.get("abroad_words", []) if x not in syn.get(place, ()))
    kinds = d["figure_kinds"]
    # 「哪个局」「哪家单位」: a which-word and a body's noun ask for a unit as the listed phrases do
    # 「谁来审」「谁管」: who, a link word or none, and an administrative verb ask for a unit too
    asked = {k: re.compile(_alt(v["asked"]) + ("|(?:" + _alt(v["which_words"]) + ")(?:" + _alt(v["which_nouns"]) + ")"
                                               if v.get("which_words") and v.get("which_nouns") else "")
                           + ("|(?:" + _alt(v["who_words"]) + ")" + (f"(?:{_alt(v['who_links'])})?" if v.get("who_links") else "")
                              + "(?:" + _alt(v["who_verbs"]) + ")"
                              if v.get("who_words") and v.get("who_verbs") else "") + _opening(v.get("asked_opening")), re.I)
             for k, v in kinds.items()}
    num = rf"(?:\d+(?:\.\d+)?|[{_CN_NUM}]+)"
    present: dict[str, re.Pattern] = {}
    for k, v in kinds.items():
        units = _alt(v["units"])
        if k == "unit":  # a named body: 市工信局, 县财政局, 管委会 …
            # … or a body named without an office word: the treasury that pays (市财政, 同级政府)
            bodies = "|" + _alt(v["bodies"]) if v.get("bodies") else ""
            roles = "|" + _alt(v["roles"]) if v.get("roles") else ""  # … or a person's post (由分管副市长兼任)
            places = _alt(v.get("places") or ["市", "县", "区", "省", "州", "镇", "人民政府"])
            after = "|" + _alt(v["after"]) if v.get("after") else ""
            present[k] = re.compile(rf"(?:牵头单位|责任单位|主管部门|联系部门{bodies}{roles})|(?:{places})(?!级)[\u4e00-\u9fff]{{1,6}}?(?:{units})(?=[、，,；;：:）)\s。]|${after})")
        elif k == "date":
            # a date, a period, or a frequency (每季度, 每个工作日)
            present[k] = re.compile(rf"\d{{4}}\s*年|\d{{1,2}}\s*月\s*\d{{0,2}}|{num}\s*(?:{units})(?:内|以内|前|起)?|起施行|之日起|每(?:个)?(?:{units})")
        elif k == "rate":
            present[k] = re.compile(rf"\d+(?:\.\d+)?\s*(?:{units})|[一二三四五六七八九]成|百分之[{_CN_NUM}]+")
        else:
            present[k] = re.compile(rf"{num}\s*(?:{units})")
    oc = kinds["count"].get("open_asked") or {"word": "多少", "not_before": []}
    not_before = set(oc["not_before"]) | {u[0] for k in ("amount", "rate", "date", "measure") for u in kinds[k]["units"]}
    open_count = re.compile(re.escape(oc["word"]) + "(?=[\u4e00-\u9fff])(?!" + _alt(not_before) + ")")
    return Cues(
        generic=frozenset(d["generic_words"]),
        not_topic=frozenset(d["not_topic_terms"]),
        synonyms=syn,
        asked=asked,
        open_count=open_count,
        present=present,
        money_topic=re.compile(_alt(kinds["amount"]["topic"]), re.I),
        list_cue=re.compile(_alt(d["list_cues"]), re.I),
        overview_cue=re.compile(_alt(d["overview_cues"]), re.I),
        comparison_cue=re.compile(_alt(d["comparison_cues"]), re.I),
        cap=re.compile(_alt(d["cap_words"])),
        continuation=re.compile("^(?:" + _alt(d["continuation_starts"]) + ")"),
        question_word=re.compile(_alt(d["question_words"])),
        # a start word, then optionally the asker's own firm and a copula (「如果我们只是…呢」)
        followup_start=re.compile("^(?:" + _alt(d["followup_starts"]) + ")"
                                  + ("(?:" + _alt(d["followup_start_self"]) + ")?" if d.get("followup_start_self") else "")
                                  + ("(?:" + _alt(d["followup_start_copulas"]) + ")?" if d.get("followup_start_copulas") else "")),
        followup_lean=re.compile(_alt(d["followup_leans"] + d.get("cap_words", []))),  # a cap asked (封顶, 不超过) refines the previous question too
        slot_groups=tuple(tuple(g) for g in d["followup_slot_groups"]),
        level_words=dict(d["followup_level_words"]),
        level_forms={k: tuple(v) for k, v in d.get("followup_level_forms", {}).items()},
        subject_heads=tuple(d["subject_heads"]),
        anaphora=re.compile("^(?:" + _alt(d.get("followup_anaphora", [])) + ")") if d.get("followup_anaphora") else re.compile("(?!)"),
        difference=re.compile(_alt(d["difference_words"])) if d.get("difference_words") else re.compile("(?!)"),
        filler=re.compile(_alt(d["request_fillers"])) if d.get("request_fillers") else re.compile("(?!)"),
        addon=re.compile(_alt(d["addon_words"])) if d.get("addon_words") else re.compile("(?!)"),
        recipient_standard=re.compile(_alt(d["recipient_standard_words"])) if d.get("recipient_standard_words") else re.compile("(?!)"),
        explanation=re.compile("^(?:" + _alt(d["explanation_starts"]) + ")") if d.get("explanation_starts") else re.compile("(?!)"),
        ask_verbs=re.compile("(?:" + _alt(d.get("followup_ask_verbs", [])) + ")") if d.get("followup_ask_verbs") else re.compile("(?!)"),
        version_word=re.compile(_alt(d["version_words"])) if d.get("version_words") else re.compile("(?!)"),
        version_now=re.compile(_alt(d["version_now_words"])) if d.get("version_now_words") else re.compile("(?!)"),
        joiner=re.compile("^(?:" + _alt(d["joining_starts"]) + ")") if d.get("joining_starts") else re.compile("(?!)"),
        respective=re.compile(_alt(d["respective_cues"]), re.I) if d.get("respective_cues") else re.compile("(?!)"),
        ask_qualifier=re.compile(f"(?:{_alt(d['ask_qualifiers'])})+$") if d.get("ask_qualifiers") else re.compile("(?!)"),
        object_end=re.compile("|".join(_alt(d[k]) for k in ("comparison_cues", "difference_words", "question_words") if d.get(k)), re.I),
        context_subject=re.compile(_alt(d.get("followup_start_self", []) + d.get("context_subjects", []))) if d.get("context_subjects") else re.compile("(?!)"),
        context_end=re.compile("(?:" + _alt(d["context_clause_ends"]) + r")\s*$") if d.get("context_clause_ends") else re.compile("(?!)"),
        context_mark=re.compile(_alt(d["context_clause_ends"])) if d.get("context_clause_ends") else re.compile("(?!)"),
        asking_verb=re.compile(_alt(d["asking_verbs"])) if d.get("asking_verbs") else re.compile("(?!)"),
        rule_asked=re.compile(_alt(d["rule_asked"]), re.I) if d.get("rule_asked") else re.compile("(?!)"),
        rule_marker=re.compile(_alt(d["rule_markers"])) if d.get("rule_markers") else re.compile("(?!)"),
        qualifier=re.compile(_alt(d["qualifier_words"])) if d.get("qualifier_words") else re.compile("(?!)"),
        rule_modal=re.compile(_alt(d["rule_modals"])) if d.get("rule_modals") else re.compile("(?!)"),
        asking_word=_words(d, "rule_asked", "rule_modals", "exclusion_negations", "exclusion_negations_after"),
        yes_no_ends=tuple(d.get("yes_no_ends", ())),
        function_chars=frozenset(d.get("function_chars", "")),
        topic_tags=frozenset(d.get("topic_tags", ())),
        item_tags=frozenset(d.get("item_tags", ())),
        benefit=_words(d, "benefit_words"),
        item_figures=frozenset(d.get("item_figure_kinds", ())),
        abroad=frozenset(d.get("abroad_places", ())),
        total=_words(d, "total_words"),
        document_self=_words(d, "document_self_words"),
        amount_ask=re.compile(_alt(d["money_amount_asks"]), re.I) if d.get("money_amount_asks") else re.compile("(?!)"),
        money_yes_no=re.compile("|".join([_alt(d.get("money_yes_no", []))] + [
            # the particle ends its clause (not the 么 of 什么 or 怎么)
            "有[^，,。；;？?]{0,10}(?<![什怎这那多])(?:" + _alt(d["yes_no_ends"]) + r")(?=[？?，,。；;！!\s]|$)" if d.get("yes_no_ends") else "(?!)"])),
        **_exclusion(d),
    )


def _words(d: Mapping, *keys: str) -> re.Pattern:
    """The words of the ``cues.json`` lists ``keys`` as one pattern (never matching when they are empty)."""
    words = [w for k in keys for w in d.get(k, ())]
    return re.compile(_alt(words), re.I) if words else re.compile("(?!)")


def _exclusion(d: Mapping) -> dict[str, re.Pattern]:
    """The exclusion patterns of ``cues.json`` (``_about_exclusion``); none when it has no benefit verbs."""
    if not d.get("exclusion_benefits"):
        return {}
    verbs = _alt(d["exclusion_benefits"])
    pat = lambda words: re.compile(_alt(words)) if words else re.compile("(?!)")  # noqa: E731
    return {
        "excluded_before": re.compile(f"(?:{_alt(d['exclusion_negations'])})(?:{verbs})"),
        "excluded_after": re.compile(f"(?:{verbs})(?:{_alt(d['exclusion_negations_after'])})") if d.get("exclusion_negations_after") else re.compile("(?!)"),
        "exclusion_phrase": pat(d.get("exclusion_phrases")),
        "exclusion_text": pat(d.get("exclusion_text_phrases")),
    }


def _negates(text: str, m: re.Match) -> bool:
    """A negation match is not the middle of a yes-or-no pair (能不能享受, 给不给, 补不补):
    the character before its 不 is not the word it negates (or 能/可/会 before 不能/不可/不会)."""
    at = m.start()
    if at == 0 or text[at] != "不":
        return True
    before, after = text[at - 1], text[at + 1: at + 2]
    return before != after and not (before in "能可会" and after == before)


def asks_exclusion(question: str, cues: Cues | None = None) -> bool:
    """The question asks who or what is excluded from a benefit (「哪些情况享受不了」,
    「什么样的企业不能申报」, 「…被挡在政策外面」); 「能不能享受」「给不给」 do not."""
    c = cues or load_cues()
    return (any(_negates(question, m) for m in c.excluded_before.finditer(question))
            or bool(c.excluded_after.search(question)) or bool(c.exclusion_phrase.search(question)))


def states_exclusion(text: str, cues: Cues | None = None) -> bool:
    """A clause excludes someone from a benefit (「有下列情形之一的，不得享受本措施」, 「不予奖励」,
    「取消其申报资格」, 「…不在申报范围」)."""
    c = cues or load_cues()
    return any(_negates(text, m) for m in c.excluded_before.finditer(text)) or bool(c.exclusion_text.search(text))


_CLAUSE_NO = re.compile(r"(^|\n)\s*(?:第[一二三四五六七八九十百\d]+条|\d{1,3}[.、．]|[（(]\d{1,3}[)）]|[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)")


def strip_numbering(text: str) -> str:
    """Text without clause numbers (「22.」「第三条」「（一）」), which are not figures."""
    return _CLAUSE_NO.sub(" ", text)


def _spans(pat: re.Pattern, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pat.finditer(text)]


_CLAUSE = re.compile(r"[^，,。；;！!？?]+[，,。；;！!？?]*")


def asking_part(question: str, cues: Cues | None = None) -> str:
    """The question without the clauses that tell the asker's situation (「我们公司牵头起草的
    标准今年发布了，县里奖多少钱？」 -> 「县里奖多少钱？」): a clause before the last one, with no
    question word, question mark or asking verb (想知道), that names the asker's own firm or ends
    with a completed event or has one inside, its 了 standing as a word (「牵头制定了一项国家标准，」;
    cues.json context_subjects, context_clause_ends).  The whole question when every
    clause would go."""
    c = cues or load_cues()
    parts = _CLAUSE.findall(question)
    keep = []
    for i, p in enumerate(parts):
        body = p.rstrip("，,。；;！! ")
        told = (i < len(parts) - 1 and not p.rstrip().endswith(("？", "?")) and not c.question_word.search(body) and not c.asking_verb.search(body)
                and (c.context_subject.search(body) is not None or c.context_end.search(body) is not None or _completed(body, c)))
        if not told:
            keep.append(p)
    return "".join(keep) if keep and len(parts) > 1 else question


def _completed(clause: str, c: Cues) -> bool:
    """The clause tells a completed event: a context_clause_ends marker stands as a word of
    its own inside it (「牵头制定了一项国家标准」; not the 了 of 为了, 除了 or 了解)."""
    from policyqa.corpus.words import word_starts_at

    return any(word_starts_at(clause, m.start()) and (m.end() == len(clause) or word_starts_at(clause, m.end()))
               for m in c.context_mark.finditer(clause))


def asks_rule(question: str, cues: Cues | None = None) -> bool:
    """The question asks whether something is allowed or counts: a rule_asked phrase in its asking
    part (能不能, 还能, 算不算), or a clause of it that ends as a yes-or-no question and has a modal
    verb that is a word of its own (「…能直接给员工发奖金吗？」; not 「智能工厂有补贴吗」)."""
    from policyqa.corpus.words import word_starts_at

    c = cues or load_cues()
    part = asking_part(question, c)
    if c.rule_asked.search(part):
        return True
    if not c.yes_no_ends:
        return False
    for clause in _CLAUSE.findall(part):
        body = clause.rstrip("？?！!。，,；; ")
        if body.endswith(c.yes_no_ends) and any(
                word_starts_at(body, m.start()) and word_starts_at(body, m.end()) for m in c.rule_modal.finditer(body)):
            return True
    return False


def asked_kinds(question: str, cues: Cues | None = None) -> tuple[str, ...]:
    """Figure kinds a question asks for (amount, rate, count, date, measure, unit), in that order.

    A kind's phrase lying inside a longer phrase of another kind counts for the longer
    one only (「几个」 inside 「几个年度」 asks a date, not a count); 「多少」 followed by
    a noun that is not another kind's unit (「多少隐患」) asks a count."""
    c = cues or load_cues()
    question = asking_part(question, c)
    spans = {k: _spans(c.asked[k], question) for k in FIGURE_KINDS}

    def inside(k: str, s: tuple[int, int]) -> bool:
        return any(o != k and a <= s[0] and s[1] <= b and (b - a) > (s[1] - s[0]) for o in FIGURE_KINDS for a, b in spans[o])

    out = [k for k in FIGURE_KINDS if any(not inside(k, s) for s in spans[k])]
    if "count" not in out and not any(k in out for k in ("amount", "rate", "measure", "date")) and not c.money_topic.search(question):
        if c.open_count.search(question):
            out.append("count")
            out.sort(key=FIGURE_KINDS.index)
    # 「补贴多少」「奖励标准是多少」: a money word with 多少/标准 asks an amount; so does comparing rewards (「奖励一样吗」)
    # and asking whether there is money (「有没有补贴」「有奖励吗」: what the asker wants to know is how much)
    if "amount" not in out and c.money_topic.search(question) and (c.amount_ask.search(question) or c.difference.search(question)
                                                                   or c.money_yes_no.search(question)):
        if not any(k in out for k in ("rate", "count", "measure")):
            out.insert(0, "amount")
    return tuple(out)


def asks_list(question: str, cues: Cues | None = None) -> bool:
    """The question asks for a list (有哪些, 哪几类, 条件 …); a list word that is part of
    a responsible-unit phrase (「由哪些部门负责」), asks for a difference (「有什么不同」) or
    names where to look (「措施里」「条件中」) does not."""
    c = cues or load_cues()
    unit = _spans(c.asked["unit"], question)
    return any(not any(a <= m.start() and m.end() <= b for a, b in unit) and not c.difference.match(question, m.end())
               and not (_CONTAINER.match(question, m.end()) and not _ASKING.search(m.group()))  # 「…那版措施里，贴息按多少比例」
               for m in c.list_cue.finditer(question))  # 「有什么区别」 asks a difference, not a list


_CONTAINER = re.compile(r"\s*[里中]")  # after a list noun (措施, 条件, 材料): where to look, not what to list
_ASKING = re.compile(r"[哪什啥几]|what", re.I)  # a list cue that asks (哪些, 有什么: 「哪些中小企业」 still asks)


def comparison_topic(question: str, cues: Cues | None = None) -> str:
    """A comparison question without its comparing words (区别, 一样, 分别, 对比 …:
    ``difference_words`` and ``comparison_cues``) and words of asking (一下, 看看:
    ``request_fillers``): what each region is asked about.  The joining 的/、/和 that
    the place names removed before it left at its start go too."""
    c = cues or load_cues()
    topic = c.filler.sub("", c.comparison_cue.sub("", c.difference.sub("", question)))
    return re.sub(r"^[\s的、，,和与及跟同]+", "", topic)


def present_kinds(text: str, cues: Cues | None = None) -> frozenset[str]:
    """Figure kinds stated in ``text`` (clause numbers do not count)."""
    return _present_kinds(text, cues or load_cues())


@lru_cache(maxsize=16384)
def _present_kinds(text: str, c: Cues) -> frozenset[str]:
    t = strip_numbering(text)
    return frozenset(k for k in FIGURE_KINDS if c.present[k].search(t))


def has_number(text: str) -> bool:
    return bool(re.search(rf"\d|[{_CN_NUM}]+(?:个|家|户|名|人|项|条|所|次|台|件|批|万|亿|成|年)", strip_numbering(text)))


def token_weight(token: str, cues: Cues | None = None) -> float:
    """Weight of a question token in coverage: generic words count little, long words more."""
    c = cues or load_cues()
    if token in c.generic or c.question_word.fullmatch(token):
        return GENERIC_WEIGHT
    return float(min(len(token), 4))


def present(term: str, text: str, cues: Cues | None = None) -> bool:
    """``term`` or one of its synonyms occurs in ``text``, or the term is an abbreviation of
    what the text writes out (:func:`abbreviates`: 智改数转 of 智能化改造数字化转型)."""
    c = cues or load_cues()
    return term in text or any(s in text for s in c.synonyms.get(term, ())) or abbreviates(term, text) or written_apart(term, text)


def written_apart(term: str, text: str) -> bool:
    """A compound term (four characters or more) whose two words the text writes apart,
    in order, within one sentence (贷款贴息 in 「新增的流动资金贷款，按实际支付利息的50%给予贴息」,
    技改补助 in 「技改项目按投资额给予补助」); each word has two characters at least."""
    if len(term) < 4 or term in text:
        return False
    return _apart_in(term, text)


@lru_cache(maxsize=4096)
def _apart_in(term: str, text: str) -> bool:
    for k in range(2, len(term) - 1):
        head, tail = term[:k], term[k:]
        at = text.find(head)
        while at >= 0:
            end = next((i for i in range(at + len(head), len(text)) if text[i] in _SENTENCE_END), len(text))
            if tail in text[at + len(head) : end]:
                return True
            at = text.find(head, at + 1)
    return False


def with_synonyms(text: str, cues: Cues | None = None) -> str:
    """``text`` with the synonyms (``cues.json``) of the words it contains appended in （）,
    for searching: BM25 and the embedding then also find a passage that writes 贷款 or 信贷
    where the question says 融资.  Unchanged when it contains none."""
    c = cues or load_cues()
    add: list[str] = []
    for w in sorted(c.synonyms, key=len, reverse=True):
        if len(w) >= 2 and w in text:
            add += [s for s in c.synonyms[w] if s not in text and s not in add]
    return f"{text}（{' '.join(add)}）" if add else text


def names_word(word: str, text: str, cues: Cues | None = None) -> bool:
    """``text`` writes ``word`` (:func:`present`: itself, a synonym, an abbreviation's full
    form), or half of its character bigrams (专精特新企业 in 「专精特新“小巨人”企业」; not
    技术改造 in 「绿色制造技术」)."""
    if present(word, text, cues):
        return True
    grams = {word[i : i + 2] for i in range(len(word) - 1) if word[i : i + 2].strip()}
    return len(grams) > 1 and 2 * sum(g in text for g in grams) >= len(grams)


ABBREVIATION_GAP = 4  # characters the full form may hold between two characters of an abbreviation
_SENTENCE_END = frozenset("。；;！？!?\n")


def abbreviates(term: str, text: str) -> bool:
    """``term`` (three characters or more) abbreviates a phrase of ``text``: Chinese
    abbreviations keep characters of the full form in order (小升规 ← 小微企业升规, 智改数转 ←
    智能化改造数字化转型), so the term's characters occur in order within one sentence, at most
    ``ABBREVIATION_GAP`` other characters apart."""
    if len(term) < 3 or not all(ch in text for ch in term):
        return False
    return _abbreviated_in(term, text)


_PUNCT = re.compile(r"[，,、：:“”‘’\"'（）()《》\s]")


MAX_ABBREVIATION = 8  # characters: a longer question word is no abbreviation (and bounds the work on user input)


def full_forms(term: str, text: str) -> tuple[str, ...]:
    """The phrases of ``text`` that ``term`` abbreviates (its characters in order, at most
    ``ABBREVIATION_GAP`` apart, no punctuation between) and that are longer than it but
    at most twice as long, shortest first: 「小微企业升规」 for 小升规.  A term of fewer than
    three characters or more than ``MAX_ABBREVIATION``, or with a character that is not
    Chinese, has none.  Bounded work for each start (no backtracking regex: a question is
    user input)."""
    if not 3 <= len(term) <= MAX_ABBREVIATION or not all("\u4e00" <= ch <= "\u9fff" for ch in term) or not abbreviates(term, text):
        return ()
    found = set()
    for i, ch in enumerate(text):
        if ch != term[0]:
            continue
        ends = {i}  # where the term's prefix so far can end, starting at i
        limit = min(len(text), i + 2 * len(term) + 2)  # a longer form is none
        for want in term[1:]:
            reached = set()
            for q in ends:
                for p in range(q + 1, min(limit, q + 2 + ABBREVIATION_GAP)):
                    if text[p] == want:
                        reached.add(p)
                    if text[p] in _SENTENCE_END or _PUNCT.match(text[p]):
                        break
            if not reached:
                break
            ends = reached
        else:
            form = text[i : min(ends) + 1]
            if len(term) < len(form) <= 2 * len(term) + 2 and term not in form:
                found.add(form)
    return tuple(sorted(found, key=lambda f: (len(f), f)))


@lru_cache(maxsize=4096)
def _abbreviated_in(term: str, text: str) -> bool:  # the same passage is asked about for each of its candidates
    # one pass per character of the term over the places that character occurs (linear, no backtracking):
    # ``ends`` are the offsets where the term's prefix so far can end
    ends = {i for i, ch in enumerate(text) if ch == term[0]}
    for ch in term[1:]:
        reached, p = set(), text.find(ch)
        while p >= 0:
            for q in range(p - 1, max(-1, p - 2 - ABBREVIATION_GAP), -1):
                if q in ends:
                    reached.add(p)
                    break
                if text[q] in _SENTENCE_END:
                    break
            p = text.find(ch, p + 1)
        if not reached:
            return False
        ends = reached
    return True
