"""CLI sub-commands beyond the corpus ones (index, answers, evaluation, app)."""

from __future__ import annotations


def register(sub) -> None:
    """Add the sub-commands of the later pipeline stages to the parser."""
