"""Plain dataclasses of the answer stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from policyqa.index.types import Hit


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation (what ``--history`` files hold)."""

    question: str
    answer: str = ""
    resolved_question: str = ""


@dataclass(frozen=True)
class Citation:
    """A numbered source: the quoted sentence(s) and where they stand."""

    n: int
    doc_id: str
    chunk_id: str
    title: str
    doc_number: str
    issuer: str
    date: str
    region: str
    section: str
    text: str  # the quoted sentence(s) that support the statement
    score: float
    passage: str = ""  # the whole chunk, for showing the sentence in context

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("passage")
        d["score"] = round(float(self.score), 4)
        return d


@dataclass(frozen=True)
class Statement:
    """One answer statement: sentences from one source, ending in [n]."""

    text: str
    n: int
    region: str = ""
    is_list: bool = False
    items: tuple[str, ...] = ()
    label: str = ""  # shown before the text, e.g. 旧版（2021-05-20），已被新文件取代
    bullet: bool = False  # one item of a list answer


@dataclass(frozen=True)
class Answer:
    question: str
    resolved_question: str
    text: str  # plain text, ready to copy and paste
    markdown: str
    refused: bool = False
    region_note: str | None = None
    notes: tuple[str, ...] = ()  # validity (expired policy) and other notes
    citations: tuple[Citation, ...] = ()
    statements: tuple[Statement, ...] = ()
    hits: tuple[Hit, ...] = field(default=(), repr=False)  # ranked retrieval results
    kind: str = "answer"  # answer | interview | refusal | invalid
    decision: str = "answered"  # qa.decision.Reason value: answered | partial | refused_out_of_corpus | refused_region | invalid
    timings_ms: dict[str, float] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)  # {"used": bool, "fallback_reason": str}
    extra: dict[str, Any] = field(default_factory=dict)  # answers from policy items: {"eligibility": …} or {"comparison": …}

    def to_json(self) -> dict[str, Any]:
        """The stable ``policyqa ask --json`` contract."""
        return {
            "question": self.question,
            "resolved_question": self.resolved_question,
            "answer": self.text,
            "answer_markdown": self.markdown,
            "refused": self.refused,
            "region_note": self.region_note,
            "citations": [c.to_json() for c in self.citations],
            "decision": self.decision,
            "timings_ms": {k: round(float(v), 1) for k, v in self.timings_ms.items()},
            **{k: v for k, v in self.extra.items() if k in ("eligibility", "comparison")},
        }
