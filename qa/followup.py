"""Resolve short follow-up questions against the previous turn, without an LLM.

A follow-up keeps the previous question's region, topic and ask and replaces
only what it changes:

- a calendar or ordinal year (「2017年呢」「第四年呢」) replaces the year;
- a word sharing a slot with one of the previous question (a level of
  「国家级/省级/市级」, a star rating: ``followup_slot_groups`` in
  ``qa/data/cues.json``) or sharing its head characters (「智能车间」 for
  「智能工厂」, 「省级」 for 「国家级」) replaces that word;
- a place replaces the previous place (「亭湖区呢？」);
- a new ask (「要什么条件？」「找谁？」) keeps the previous topic and region;
- any other object (「人才这块呢？」) replaces the previous topic, keeping the
  region and the ask (「…补贴多少」).

A question that carries its own topic starts fresh.  :func:`changed_object`
names what the follow-up changed, so the answerer can check it against the
previous turn's documents and say so when they do not mention it.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from policyqa.corpus.clean import normalize_query
from policyqa.corpus.regions import find_mentions
from policyqa.qa.cues import FIGURE_KINDS, load_cues

Places = Callable[[str], list[tuple[int, int]]]  # a text -> the spans of the place names in it

_YEAR = re.compile(r"\d{4}\s*年(?:度)?")  # a calendar year (「2024年」「2024年度」)
_ORDINAL = re.compile(r"第[一二三四五六七八九十\d]+(?:个)?(?:年度|年)")
_TAIL = re.compile(r"(的)?(呢|怎么样|怎样|又如何|如何|咋样)?[?？。!！\s]*$")
_FILLER = re.compile(r"(这块|这一块|这方面|方面|这边|那边|的话|这项|这个)$")
_TOPIC_WORDS = re.compile(r"补贴|补助|奖励|条件|申报|政策|标准|资金|认定|目标|支持|办理|材料|流程")


def _core(q: str) -> str:
    c = load_cues()
    s = c.followup_start.sub("", q.strip())
    s = _TAIL.sub("", s).strip(" ，,")
    return _FILLER.sub("", s).strip(" ，,")


def in_context(question: str, previous: str) -> str:
    """``question`` read as continuing ``previous`` (a resolved question) though no cue marks
    it as a follow-up: the previous question's topic — its words before its ask — then the
    question in full (「…集群申报，对主导产业规模，我们县在东北，也得这么多吗？」)."""
    prev = normalize_query(previous)
    topic = _topic(prev, _asks(prev)).rstrip("?？。，, ")
    return f"{topic}，{normalize_query(question)}"


def _asks(text: str) -> re.Match | None:
    """Where the ask of a question starts (补贴多少 / 需要什么条件 / 谁牵头 …)."""
    c = load_cues()
    found = [m for m in [c.money_topic.search(text), c.question_word.search(text), *(c.asked[k].search(text) for k in FIGURE_KINDS)] if m]
    found += [m for m in [re.search(r"(需要|要|有|能|可以|怎么|如何|由)(?=什么|哪些|啥|多少|谁|几)", text)] if m]
    return min(found, key=lambda m: m.start()) if found else None


def _topic(prev: str, ask: re.Match | None) -> str:
    """The previous question's words before its ask; a money word the ask starts with is the
    topic's (「…生活补贴每个月多少？」 -> 「…生活补贴」, not 「…生活」); words qualifying the ask
    (``cues.json`` ask_qualifiers: 「培育库每年什么时候」 -> 「培育库」) are not."""
    if ask is None:
        return prev.rstrip("?？。")
    c = load_cues()
    money = c.money_topic.match(prev, ask.start())
    if money:
        return prev[: money.end()]
    head = prev[: ask.start()]
    return c.ask_qualifier.sub("", head) or head


def version_asked(core: str) -> str | None:
    """A follow-up that only names a version of the previous question's policy: its year
    (「2024年的新政策」「2024年版的」), or "" for the version in force (「新版」「现在的政策」):
    a year, ``version_now_words`` and ``version_words`` with 的 between; None for anything else."""
    c = load_cues()
    years = _YEAR.findall(core)
    rest = _YEAR.sub("", core)
    now = bool(c.version_now.search(rest))
    rest = c.version_word.sub("", c.version_now.sub("", rest)).replace("的", "").strip(" ，,")
    if rest or len(years) > 1 or not (years or now):
        return None
    return years[0].replace(" ", "") if years else ""


def _gazetteer_places(text: str) -> list[tuple[int, int]]:
    return [(m.start, m.start + len(m.text)) for m in find_mentions(text, short_districts=True)]


def is_followup(question: str, places: Places | None = None) -> bool:
    """A question that continues the previous one (see the module docstring).  ``places``:
    the spans of the place names in a text (default: the gazetteer's; the answerer passes one
    that also knows its documents' own places, :func:`policyqa.qa.regions.place_spans`)."""
    places = places or _gazetteer_places
    c = load_cues()
    q = question.strip()
    if not q:
        return False
    core = _core(q)
    if len(core) > 12:
        return False
    ends_ne = bool(re.search(r"呢[?？]?$", q))
    starts = bool(c.followup_start.search(q))
    if _YEAR.fullmatch(core) or _ORDINAL.fullmatch(core) or any(core in g or core.rstrip("的") in g for g in c.slot_groups):
        return True
    if version_asked(core) is not None and (ends_ne or starts):  # 「现在2024年的新政策呢？」「新版呢？」
        return True
    if places(core) and len(core) <= 8:
        return ends_ne or starts
    if (ends_ne or starts) and not (_TOPIC_WORDS.search(core) and len(core) > 6):
        return True
    # a short question that leans on the previous one: 「单个项目最多补多少？」「要什么条件？」
    return len(q) <= 12 and not places(q) and bool(c.followup_lean.search(q) or (_asks(q) and not _TOPIC_WORDS.search(_core(q)[: (_asks(q).start() if _asks(q) else 0)])))


def changed_object(question: str) -> str:
    """What a follow-up changes (「人才这块呢？」 -> 人才; 「要什么条件？」, 「这笔钱谁出？」 -> "";
    「第二年还有吗？」 -> 第二年): the words before its ask, without a word pointing back to
    the previous topic (这笔钱, 这条) or the verbs that belong to the ask (要满足, 还有)."""
    core = _core(normalize_query(question)).rstrip("的")
    if version_asked(core) is not None and not _YEAR.fullmatch(core):
        return ""  # another version of the same rule (「新版呢？」): the object stays
    m = _asks(core)
    return _object_words(core[: m.start()] if m else core)


def _object_words(text: str) -> str:
    """``text`` without a leading word pointing back and without trailing words of the ask,
    taken as whole words (节能 keeps its 能, 节能有 loses its 有)."""
    c = load_cues()
    obj = c.anaphora.sub("", text.strip(" ，,"), count=1).strip(" ，,")
    # an ask verb the tokenizer leaves out (可以 is a stop word) is a word too
    words = _segment(obj, [m.group() for m in c.ask_verbs.finditer(obj) if len(m.group()) >= 2])
    while words and c.ask_verbs.fullmatch(words[-1]):
        words.pop()
    return "".join(words).strip(" ，,的") if words else ""


def _segment(text: str, extra: Sequence[str] = ()) -> list[str]:
    """``text`` cut into whole words, longest first, from the tokenizer's words (which include
    the sub-words of a long word: 智能化改造 yields 智能 and 改造 too) and ``extra``; a
    character no word covers is a word of its own."""
    vocab = sorted({w for w in [*_default_tokenize()(text), *extra] if len(w) >= 2}, key=len, reverse=True)
    out, i = [], 0
    while i < len(text):
        w = next((v for v in vocab if text.startswith(v, i)), text[i])
        out.append(w)
        i += len(w)
    return out


_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:个)?(?:万|亿|千|百)?(?:元|家|人|个|年|%)?|[一二两三四五六七八九十百千]+\s*(?:个)?(?:万|亿)(?:元)?")


def _replace_figure(prev: str, new: str) -> str | None:
    """A follow-up that changes a figure of the previous question (「过1个亿呢」 after
    「…过3000万奖多少」, 「设备投资800万呢」): the previous figure — with the words before
    it that the follow-up repeats — is replaced, the rest kept; None when either has no figure."""
    m_new = _FIGURE.search(new)
    olds = list(_FIGURE.finditer(prev))
    if not m_new or not olds or not m_new.group(0).strip():
        return None
    lead = new[: m_new.start()]
    for m in olds:
        if lead and prev[: m.start()].endswith(lead):
            return prev[: m.start() - len(lead)] + new + prev[m.end():]
    if len(olds) == 1 and len(lead) <= 2:
        m = olds[0]
        s = m.start() - len(lead) if lead and prev[: m.start()].endswith(lead) else m.start()
        return prev[:s] + (new if s < m.start() else new[len(lead):] if lead else new) + prev[m.end():]
    return None


def _replace_same_form(prev: str, new: str) -> str | None:
    """Replace the word of ``prev`` with the same form as ``new`` (the same last
    character and length: 市里 -> 区里), or None."""
    if len(new) < 2:
        return None
    for m in re.finditer(re.escape(new[-1]), prev):
        s = m.start() - (len(new) - 1)
        if s >= 0 and prev[s : m.end()] != new and not re.search(r"[，,。？?！!\s]", prev[s : m.end()]):
            old = prev[s : m.end()]
            if load_cues().level_words.get(old):
                return prev[:s] + new + prev[m.end():]
    return None


def _replace_slot(prev: str, new: str, tokens: Sequence[str]) -> str | None:
    c = load_cues()
    for grp in c.slot_groups:
        # the slot word itself, or one the new words contain (省级以上 holds 省级)
        word = new if new in grp else next((w for w in sorted(grp, key=len, reverse=True) if w in new), None)
        if word is None:
            continue
        for old in sorted(grp, key=len, reverse=True):
            if old != word and old in prev:
                rest = new.replace(word, "", 1).strip("的")
                at = prev.index(old) + len(old)
                # the whole word the old level qualifies (专精特新小巨人, not its part 专精特新)
                nxt = max((t for t in tokens if prev.startswith(t, at) and len(t) >= 2), key=len, default="")
                narrower = bool(nxt) and nxt != rest and nxt.startswith(rest)  # 专精特新 asked where 专精特新小巨人 was
                if new == word or not rest or (rest in prev and not narrower):  # 省级以上 for 市级及以上: the level changes
                    return prev.replace(old, word, 1)
                # 省级专精特新 for 国家级小巨人 or for 国家级专精特新小巨人: the level and the word it qualifies change
                return prev[: at - len(old)] + new + prev[at + len(nxt):]
    # a word of the previous question sharing the new word's head or tail (智能车间 ~ 智能工厂, 省级 ~ 国家级)
    best, score = None, 0
    for t in dict.fromkeys(tokens):
        if len(t) < 2 or t == new or t not in prev or find_mentions(t, short_districts=True):
            continue
        head = len(_common_prefix(t, new))
        tail = len(_common_prefix(t[::-1], new[::-1]))
        s = max(head, tail)
        # half of the new word at least (硕士 ~ 博士, 智能车间 ~ 智能工厂); one character of four (规上企业 ~ 工业) is chance
        if s >= 1 and 2 * s >= len(new) and s > score and not (head == len(t) or tail == len(t)):
            best, score = t, s
    if best is not None:
        return prev.replace(best, new, 1)
    return None


def _level_phrase(prev: str, ask: re.Match | None, cues) -> tuple[int, int] | None:
    """Where the previous question names a category by its level (「省级专精特新小巨人」 in
    「…评上省级专精特新小巨人奖多少」): from the level word to where the ask starts."""
    levels = set(cues.level_words.values())
    found = [(m.start(), m.end()) for lv in levels for m in re.finditer(re.escape(lv), prev)]
    if not found or ask is None:
        return None
    a, b = min(found)
    return (a, ask.start()) if ask.start() > b else None


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


_OBJECT_THEN_ASK = re.compile(r"^(.+?呢)[？?，,]\s*(\S.*?)[？?。\s]*$")  # 「X呢？<a question of its own>」


def resolve(question: str, previous: str | None, tokenize=None, places: Places | None = None,
            qualifies: Callable[[str, str], bool] | None = None) -> str:
    """The self-contained question a follow-up stands for (``question`` itself
    when it is not a follow-up or there is no previous turn).  ``places``: as for
    :func:`is_followup` (a place the documents name, 「那霁川呢？」, replaces the previous one).
    ``qualifies(object, topic)``: whether a new object the follow-up names qualifies the
    previous question's topic rather than replacing it (「那中西部呢？」 after 「主导产业营收要多少」,
    when the passage the previous answer quoted states 中西部 too: the conversation's judge): it
    is then added to the topic; without a judge (or when it says no) the object replaces the topic."""
    places = places or _gazetteer_places
    q = normalize_query(question)
    if not previous or not is_followup(q, places):
        return q
    prev = normalize_query(previous)
    two = _OBJECT_THEN_ASK.match(q)
    if two and _asks(two.group(2)) is not None:
        # 「硕士呢？要满足什么条件？」: the changed object read as a follow-up of its own, then its ask
        first = resolve(two.group(1) + "？", previous, tokenize, places, qualifies)
        return f"{_topic(first, _asks(first)).rstrip('，, ')}，{two.group(2)}？"
    core = _core(q).rstrip("的")
    if _YEAR.fullmatch(core):
        if re.search(r"\d{4}\s*年", prev):
            return re.sub(r"(到)?\d{4}\s*年", core, prev, count=1)
        return f"{core}{prev}"
    year = version_asked(core)
    if year is not None and not _YEAR.fullmatch(core):
        if year:  # the previous question asked of that year's version (谷城2021年那版… -> 谷城2024年那版…)
            at = _YEAR.search(prev)
            return prev[: at.start()] + year + prev[at.end():] if at else f"{year}{prev}"
        # the version in force: the previous question without the year (and version word) that chose an older one
        old = re.search(r"(?:到)?\d{4}\s*年(?:度)?(?:" + load_cues().version_word.pattern + r")?", prev)
        return (prev[: old.start()] + prev[old.end():]) if old else prev
    if _ORDINAL.fullmatch(core):
        m = _ORDINAL.search(prev)
        if m:
            if "年度" in m.group(0) and "年度" not in core:
                core = re.sub(r"(?:个)?年$", "个年度", core)
            return prev[: m.start()] + core + prev[m.end():]
        return f"{prev.rstrip('?？。')}，{core}"
    mentions = places(core)
    if mentions and mentions[0][1] - mentions[0][0] >= len(core) - 1:
        prev_mentions = places(prev)
        if prev_mentions:
            a, b = prev_mentions[0]
            return prev[:a] + core + prev[b:]
        return f"{core}{prev}"
    obj = changed_object(q)
    ask_new = _asks(core)
    ask_prev = _asks(prev)
    if not obj and ask_new is not None:  # a new ask about the same topic: 「要什么条件？」「这笔钱谁出？」
        topic = _topic(prev, ask_prev)
        # the whole follow-up is the new ask (its words before the ask name no object: 要满足, 这笔钱)
        sep = "，" if load_cues().anaphora.match(core) else ""
        money = load_cues().money_topic.match(core)
        if money and topic.endswith(money.group()):  # 「…租金补贴」 + 「补贴标准是多少」: the money word once
            core = core[money.end():]
        return f"{topic.rstrip('，, ')}{sep}{core}？"
    if obj and load_cues().anaphora.match(core) and not re.search(r"呢[?？]?$", q):
        # a question about what the previous one asked about (「这笔钱是市财政出吗？」): its words after the
        # pointer are a new ask, not a new topic (「…呢？」 after a pointer still changes the object: 这个省级的呢)
        topic = _topic(prev, ask_prev)
        return f"{topic.rstrip('，, ')}，{core}？"
    swapped = _replace_figure(prev, obj) if obj else None  # 过1个亿 for 过3000万: the figure changes, the topic stays
    if swapped:
        return swapped
    c = load_cues()
    raw = obj
    obj = c.level_words.get(obj, obj)
    tokens = (tokenize or _default_tokenize())(prev)
    # the word the previous question used in the same form (区里 for 市里) is replaced as it is written
    swapped = _replace_same_form(prev, raw) if raw and raw != obj else None
    swapped = swapped or (_replace_slot(prev, obj, tokens) if obj else None)
    if swapped:
        return swapped
    if c.followup_lean.search(core) and obj not in c.level_words.values():
        # a refinement of the previous question (「单个项目最多补多少？」「区里还另外奖钱吗？」): keep its topic
        topic = _topic(prev, ask_prev)
        return f"{topic.rstrip('，, ')}，{core}？"
    region_m = places(prev)[:1]
    region = "".join(prev[a:b] for a, b in region_m)
    if obj and (obj in c.level_words.values() or any(obj.endswith(h) for h in c.subject_heads)):
        # who or which level changes, not what: the previous subject of that kind is replaced, else it is added
        head = next((h for h in c.subject_heads if obj.endswith(h)), None)
        span = _level_phrase(prev, ask_prev, c) if obj not in c.level_words.values() else None
        if span:  # a category for the previous level-qualified one (创新型中小企业 for 省级专精特新小巨人)
            return prev[: span[0]] + obj + prev[span[1]:]
        old = next((t for t in tokens if head and t.endswith(head) and t in prev and t != obj), None)
        if old:
            return prev.replace(old, obj, 1)
        at = region_m[0][1] if region_m else 0
        return prev[:at] + obj + prev[at:]
    if obj:  # a new object: keep the region and the ask, replace the topic (or qualify it)
        tail = core[ask_new.start():] if ask_new is not None else (prev[ask_prev.start():] if ask_prev else "")
        topic = _topic(prev, ask_prev).rstrip("，, ")
        if qualifies is not None and topic and qualifies(obj, topic):
            return f"{topic}，{obj}{tail}".rstrip("?？。") + "？"
        return f"{region}{obj}{tail}".rstrip("?？。") + "？"
    return f"{prev.rstrip('?？。')}，{core}"


_TOKENIZER = []


def _default_tokenize():
    if not _TOKENIZER:
        from policyqa.index.tokenize import JiebaTokenizer

        _TOKENIZER.append(JiebaTokenizer().tokenize)
    return _TOKENIZER[0]


def resolve_history(history: Sequence[str], question: str, tokenize=None, context: bool = False, places: Places | None = None) -> str:
    """Resolve ``question`` after a conversation's earlier questions (oldest first);
    ``context``: a question no cue marks as a follow-up is read :func:`in_context` (as the
    answerer does when it is refused on its own); ``places`` as for :func:`resolve`."""
    prev: str | None = None
    for h in history:
        prev = resolve(h, prev, tokenize, places)
    out = resolve(question, prev, tokenize, places)
    if context and prev and out == normalize_query(question):
        return in_context(question, prev)
    return out
