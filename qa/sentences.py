"""Sentences of a passage (pure function), on the index's sentence boundaries.

``split_sentences`` wraps :func:`policyqa.index.sentences.split_spans`, the one
splitter of the project, so quoted sentences line up with the stored sentence
vectors.  Scoring lives in :mod:`policyqa.qa.features` (learned weights).
"""

from __future__ import annotations

from dataclasses import dataclass

from policyqa.index.sentences import split_spans


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset within the chunk text
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of a passage; a trailing parenthesised note stays with the sentence before it."""
    return [Sentence(text[s:e], s, e) for s, e in split_spans(text)]
