"""Question checks before retrieval: empty, huge, emoji-only, markup.

``check_question`` returns the text to search with (markup stripped, trimmed
to ``max_chars``) or a polite reply that ends the turn.  An ordinary question
is never refused for its words (「政府扮演什么角色」「忘记带原件」「提示词工程」):
extractive answers only quote documents, so nothing can be obeyed.  The
prompt-injection check, :func:`looks_like_injection`, guards only text sent to
an LLM (:mod:`policyqa.qa.llm`), which then keeps the extractive answer.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_CHARS = 500

_TAG = re.compile(r"<\s*(script|style)[^>]*>.*?<\s*/\s*\1\s*>|<[^>]{0,500}>", re.I | re.S)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^)]*)\)")
_LETTERS = re.compile(r"[A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
ENGLISH_LATIN_PER_HAN = 4  # an English question has at least this many Latin letters per Chinese character
_INJECTION = re.compile(
    r"(忽略|无视|忘记|忘掉|跳过).{0,8}(之前|以上|前面|先前|所有|全部|你的).{0,6}(指令|指示|提示|规则|设定)"
    r"|(系统|system)\s*(提示|prompt)|(输出|透露|告诉我|显示).{0,6}提示词|越狱|jailbreak|developer mode|开发者模式"
    r"|ignore\s+(all\s+|the\s+)?(previous|prior|above)\s+(instructions|prompts?)"
    r"|disregard\s+(all\s+|the\s+)?(previous|prior|above)|you\s+are\s+now|from\s+now\s+on\s+you"
    r"|你现在是|(你|请你|请)(来)?扮演|假装你是",
    re.I,
)


@dataclass(frozen=True)
class Checked:
    text: str  # what to search with ("" when ``reply`` ends the turn)
    reply: str = ""  # a polite answer instead of searching
    reason: str = ""  # empty | too_long | no_text | markup
    english: bool = False
    truncated: bool = False


def strip_markup(q: str) -> str:
    q = _TAG.sub(" ", q)
    q = _MD_LINK.sub(r"\1", q)
    return html.unescape(q)


def looks_like_injection(text: str) -> bool:
    """An attempt to change an LLM's instructions (checked before text is sent to an LLM only)."""
    return bool(_INJECTION.search(text or ""))


def is_english(q: str) -> bool:
    """An English question: Latin letters carry it; a Chinese term or two quoted in it (「a
    national first-of-its-kind (首台套) product」) leave it English, a Chinese question naming
    MES or ERP is not."""
    latin = len(_LATIN.findall(q))
    return latin >= 3 and latin >= ENGLISH_LATIN_PER_HAN * len(_HAN.findall(q))


def check_question(question: str | None, max_chars: int = MAX_CHARS) -> Checked:
    q = (question or "").replace("\x00", "")
    if not q.strip():
        return Checked("", "请输入您想咨询的政策问题，例如：「亭湖区企业买工业机器人有补贴吗？」", "empty")
    if len(q) > 4 * max_chars:
        return Checked(
            "",
            f"问题太长了（{len(q)}字）。请把问题精简到{max_chars}字以内，例如只写明地区、企业类型和想了解的补贴或奖励。",
            "too_long",
        )
    had_markup = bool(_TAG.search(q) or _MD_LINK.search(q))
    text = re.sub(r"\s+", " ", strip_markup(q)).strip()
    if not _LETTERS.search(text) and not re.search(r"\d", text):
        return Checked("", "没有看懂这个问题。请用文字描述您想了解的政策，例如「宿迁专精特新小巨人奖励多少」。", "no_text")
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars]
    return Checked(text, "", "markup" if had_markup else "", english=is_english(text), truncated=truncated)
