"""Speaker turns of interview transcripts (答记者问, 访谈).

Two ways of writing a turn are read: a speaker in brackets 「[主持人]…」
「[嘉宾]…」, and a role with a colon 「问：…」「答：…」「记者：…」, the form most
government 答记者问 pages use.  The asking roles (主持人, 记者, 网友, 问) open a
question-and-answer unit; the others answer in it.
"""

from __future__ import annotations

import re

ASKING_ROLES = frozenset({"主持人", "记者", "网友", "问"})
QUESTION_ROLES = frozenset({"问"})  # a turn in this role is a question whatever its words (「问：请介绍一下…。」)
ANSWERING_ROLES = frozenset({"嘉宾", "答", "受访者"})
_ROLES = "|".join(sorted(ASKING_ROLES | ANSWERING_ROLES, key=len, reverse=True))
# 「[主持人]」 or 「问：」 at the start of a line (the bracket form also with 【】/［］)
TURN = re.compile(rf"^\s*(?:[\[【［]({_ROLES})[\]】］]|({_ROLES})\s*[：:])\s*")


def turn_role(line: str) -> tuple[str, int] | None:
    """(role, where the turn's words start) when ``line`` opens a speaker's turn."""
    m = TURN.match(line)
    if not m:
        return None
    return m.group(1) or m.group(2), m.end()


def asks(role: str) -> bool:
    """The role's turns ask (a host's may also just talk: 「[主持人]欢迎收看…」)."""
    return role in ASKING_ROLES


def is_question_role(role: str) -> bool:
    return role in QUESTION_ROLES
