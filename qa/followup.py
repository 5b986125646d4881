"""Resolve follow-up questions against the previous turn, without an LLM.

「那省级的呢？」 after 「评上国家级小巨人宿迁给多少钱？」 becomes
「评上省级小巨人宿迁给多少钱？」: the previous question keeps its topic and
region and only the slot that changed is replaced (level, ordinal year, a
sibling item such as 智能工厂/智能车间, a region).  A question that carries
its own topic starts fresh.
"""

from __future__ import annotations

import re
from typing import Sequence

from policyqa.corpus.clean import normalize_query
from policyqa.corpus.regions import find_mentions

# Items that can stand in for each other in a follow-up ("X呢？").
SIBLINGS: tuple[tuple[str, ...], ...] = (
    ("国家级", "省级", "市级", "区级", "县级"),
    ("智能工厂", "智能车间", "标杆工厂", "互联网标杆工厂", "工业互联网平台", "重点互联网平台", "数字化车间"),
    ("小巨人", "单项冠军", "专精特新中小企业", "专精特新企业", "创新型中小企业", "专精特新冠军企业"),
    ("五星", "四星", "三星"),
    ("绿色工厂", "绿色园区", "绿色供应链", "绿色设计产品"),
    ("工业机器人", "机器人", "智能化管理系统", "软件", "ERP", "MES"),
    ("企业技术中心", "工程技术研究中心", "工业设计中心"),
    ("小升规", "小升高"),
)
_ORDINAL = re.compile(r"第[一二三四五六七八九十\d]+(?:个)?(?:年度|年)")
_FOLLOW_START = re.compile(r"^(那|那么|那如果|如果是|还有|再问|另外|换成|改成|如果换成)")
_FOLLOW_END = re.compile(r"(呢|的呢|怎么样|怎样|如何|又如何|多少|吗)?[?？。!！]*$")
_LEANS = re.compile(r"^(单个|每个|每家|区里|市里|省里|县里|这个|这项|该|最多|最高|上限)|还|另外|也")
_TOPIC_WORDS = re.compile(r"补贴|补助|奖励|奖|条件|申报|政策|多少|哪些|怎么|如何|标准|资金|认定|目标|支持")


def _core(q: str) -> str:
    s = _FOLLOW_START.sub("", q.strip())
    s = re.sub(r"(的)?(呢|怎么样|怎样|又如何)?[?？。!！\s]*$", "", s)
    return s.strip(" ，,")


def is_followup(question: str) -> bool:
    q = question.strip()
    if not q:
        return False
    core = _core(q)
    if len(core) > 12:
        return False
    ends_ne = bool(re.search(r"呢[?？]?$", q))
    starts = bool(_FOLLOW_START.search(q))
    if re.fullmatch(r"\d{4}\s*年(?:度)?", core) or _ORDINAL.fullmatch(core) or any(core in grp or core.rstrip("的") in grp for grp in SIBLINGS):
        return True
    if find_mentions(core, short_districts=True) and len(core) <= 8:
        return ends_ne or starts
    if (ends_ne or starts) and not _TOPIC_WORDS.search(core):
        return True
    # a short question that leans on the previous one: 「单个项目最多补多少？」「区里还另外奖钱吗？」
    return len(q) <= 14 and not find_mentions(q, short_districts=True) and bool(_LEANS.search(q))


def _replace_sibling(prev: str, new: str) -> str | None:
    for grp in SIBLINGS:
        if new in grp:
            for old in sorted(grp, key=len, reverse=True):
                if old != new and old in prev:
                    return prev.replace(old, new, 1)
    return None


def resolve(question: str, previous: str | None) -> str:
    """The self-contained question a follow-up stands for (``question`` itself
    when it is not a follow-up or there is no previous turn)."""
    q = normalize_query(question)
    if not previous or not is_followup(q):
        return q
    prev = normalize_query(previous)
    core = _core(q).rstrip("的")
    # a calendar year: 2017年呢 -> replace 2020年
    if re.fullmatch(r"\d{4}\s*年(?:度)?", core):
        if re.search(r"\d{4}\s*年", prev):
            return re.sub(r"(到)?\d{4}\s*年", core, prev, count=1)
        return f"{core}{prev}"
    # an ordinal year: 第四年呢 -> replace 第一年/第一个年度
    if _ORDINAL.fullmatch(core):
        m = _ORDINAL.search(prev)
        if m:
            if "年度" in m.group(0) and "年度" not in core:  # keep the document's wording: 第四个年度
                core = re.sub(r"(?:个)?年$", "个年度", core)
            return prev[: m.start()] + core + prev[m.end():]
        return f"{prev.rstrip('?？。')}，{core}"
    swapped = _replace_sibling(prev, core)
    if swapped:
        return swapped
    mentions = find_mentions(core, short_districts=True)
    if mentions:
        prev_mentions = find_mentions(prev, short_districts=True)
        if prev_mentions:
            m = prev_mentions[0]
            return prev[: m.start] + core + prev[m.start + len(m.text):]
        return f"{core}{prev}"
    return f"{prev.rstrip('?？。')}，{core}"


def resolve_history(history: Sequence[str], question: str) -> str:
    """Resolve ``question`` after a conversation's earlier questions (oldest first)."""
    prev: str | None = None
    for h in history:
        prev = resolve(h, prev)
    return resolve(question, prev)
