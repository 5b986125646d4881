"""Evaluation questions: the JSON Lines schema and its loader.

One JSON object per line, UTF-8 (a leading BOM is tolerated); blank lines are
skipped and unknown fields are ignored.  Fields:

``id``           string, required, unique in the file.
``question``     string, required.
``doc``          gold document id(s); several are separated by ``|``; empty for
                 out-of-corpus questions.  (A JSON list of ids is accepted too.)
``evidence``     a verbatim substring of the RAW gold document file (before
                 cleaning) that contains the answer.
``answer``       reference answer.
``must_include`` list of short fact strings a correct answer contains.
``kind``         free text: ``out-of-corpus`` (right behaviour is refusal),
                 ``region-trap``, ``figure``, ``list``, ``procedure``,
                 ``colloquial``, ``typo``, ``traditional``, ``english``,
                 ``followup``, ``interview``, ...
``followup_of``  id of the previous question in the same conversation; it must
                 be an id that appears on an earlier line.

``load_questions`` never stops at the first problem: each bad line is reported
as a ``SchemaError`` (line number + one-line message) and the good lines load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT_OF_CORPUS = "out-of-corpus"
SPLITS = ("tune", "test")
REGION_TRAP = "region-trap"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    docs: tuple[str, ...] = ()  # gold document ids; empty when out of corpus
    evidence: str = ""  # verbatim substring of the raw gold document file(s)
    answer: str = ""  # reference answer
    must_include: tuple[str, ...] = ()  # facts a correct answer states
    kind: str = ""
    followup_of: str = ""  # id of the previous turn, "" for a first turn

    @property
    def out_of_corpus(self) -> bool:
        return self.kind == OUT_OF_CORPUS


@dataclass(frozen=True)
class SchemaError:
    line: int  # 1-based line number in the file
    message: str  # e.g. "missing 'question'"

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def load_questions(path: str | Path) -> tuple[list[Question], list[SchemaError]]:
    """Read a questions file; return the valid questions and every schema error.

    A line that is not valid JSON, not an object, lacks ``id``/``question`` or
    has a field of the wrong type is reported and skipped.  A duplicate id is
    reported and the later line skipped.  A ``followup_of`` naming an unknown id
    or an id defined on a later line is reported; that question still loads
    (its text is fine, only the conversation link is wrong).
    Raises ``FileNotFoundError`` when ``path`` does not exist.
    """
    raw = Path(path).read_bytes()
    questions: list[Question] = []
    errors: list[SchemaError] = []
    line_of: dict[str, int] = {}
    for lineno, line in enumerate(raw.splitlines(), start=1):
        try:
            text = line.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            errors.append(SchemaError(lineno, f"not UTF-8 ({exc.reason} at byte {exc.start})"))
            continue
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(SchemaError(lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        parsed = _parse(obj)
        if isinstance(parsed, str):
            errors.append(SchemaError(lineno, parsed))
            continue
        if parsed.id in line_of:
            errors.append(SchemaError(lineno, f"duplicate id {parsed.id!r} (first on line {line_of[parsed.id]})"))
            continue
        line_of[parsed.id] = lineno
        questions.append(parsed)
    for q in questions:
        if not q.followup_of:
            continue
        target = line_of.get(q.followup_of)
        if target is None:
            errors.append(SchemaError(line_of[q.id], f"followup_of {q.followup_of!r} is not a known id"))
        elif target >= line_of[q.id]:
            errors.append(
                SchemaError(line_of[q.id], f"followup_of {q.followup_of!r} is not an earlier question (line {target})")
            )
    errors.sort(key=lambda e: e.line)
    return questions, errors


def _parse(obj: Any) -> Question | str:
    """Build a Question from one decoded JSON value, or return an error message."""
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    for name in ("id", "question"):
        value = obj.get(name)
        if value is None:
            return f"missing {name!r}"
        if not isinstance(value, str):
            return f"{name!r} must be a string"
        if not value.strip():
            return f"empty {name!r}"
    for name in ("evidence", "answer", "kind", "followup_of"):
        if not isinstance(obj.get(name) or "", str):
            return f"{name!r} must be a string"
    docs = obj.get("doc") or ""
    if isinstance(docs, str):
        docs = docs.split("|")
    if not isinstance(docs, list) or not all(isinstance(d, str) for d in docs):
        return "'doc' must be a string of ids separated by '|'"
    facts = obj.get("must_include") or []
    if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
        return "'must_include' must be a list of strings"
    return Question(
        id=obj["id"].strip(),
        question=obj["question"].strip(),
        docs=tuple(d.strip() for d in docs if d.strip()),
        evidence=obj.get("evidence") or "",
        answer=(obj.get("answer") or "").strip(),
        must_include=tuple(f.strip() for f in facts if f.strip()),
        kind=(obj.get("kind") or "").strip(),
        followup_of=(obj.get("followup_of") or "").strip(),
    )


def split_of(question_id: str) -> str:
    """The fixed half a conversation belongs to: ``"tune"`` or ``"test"``.

    Decided by the first byte of sha256 of the id (even: tune, odd: test), so
    it never changes when questions are added, reordered or edited.  Call it
    with the id of a conversation's FIRST question: :func:`assign_splits`
    does, so a follow-up always stays in its first question's half.
    """
    import hashlib

    return SPLITS[hashlib.sha256(question_id.encode("utf-8")).digest()[0] % 2]


def assign_splits(questions: list[Question]) -> dict[str, str]:
    """question id -> "tune" | "test"; a follow-up takes its conversation root's half."""
    by_id = {q.id: q for q in questions}
    out: dict[str, str] = {}
    for q in questions:
        root, seen = q, {q.id}
        while root.followup_of and root.followup_of in by_id and root.followup_of not in seen:
            root = by_id[root.followup_of]
            seen.add(root.id)
        out[q.id] = split_of(root.id)
    return out


def select_split(questions: list[Question], split: str) -> list[Question]:
    """The questions of one half (``"tune"``/``"test"``), or all for ``"all"``."""
    if split == "all":
        return list(questions)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose tune, test or all")
    halves = assign_splits(questions)
    return [q for q in questions if halves[q.id] == split]
