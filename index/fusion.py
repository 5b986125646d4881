"""Rank fusion: combine the result lists of several retrievers into one.

Pure functions; inputs are never mutated.  Output is sorted by fused score,
highest first, ties broken by id (ascending) so results are deterministic.

* :func:`rrf` - reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR
  2009): ``score(d) = sum_i w_i / (k + rank_i(d))`` with 1-based ranks; a list
  that does not contain ``d`` contributes nothing.  ``k = 60`` is the paper's
  default and flattens rank differences; a small ``k`` (e.g. 5) trusts the top
  of each list more.  Only ranks matter, so scores on different scales (BM25
  vs cosine) need no calibration.
* :func:`minmax` - score fusion: each list's scores are min-max normalised to
  [0, 1] (a list whose scores are all equal maps to 1.0), a missing item counts
  0, and the normalised scores are summed with weights.
"""

from __future__ import annotations

from typing import Hashable, Sequence, TypeVar

__all__ = ["rrf", "minmax"]

Id = TypeVar("Id", bound=Hashable)


def _weights(weights: Sequence[float] | None, n: int) -> list[float]:
    if weights is None:
        return [1.0] * n
    w = [float(x) for x in weights]
    if len(w) != n:
        raise ValueError(f"{len(w)} weights given for {n} lists")
    return w


def _ranked(scores: dict) -> list[tuple]:
    return sorted(scores.items(), key=lambda p: (-p[1], p[0]))


def rrf(
    ranked_lists: Sequence[Sequence[Id]],
    k: int = 60,
    weights: Sequence[float] | None = None,
) -> list[tuple[Id, float]]:
    """Reciprocal rank fusion of ranked id lists (best first).

    Args:
        ranked_lists: one list of ids per retriever, best first.  An id that
            repeats within one list counts at its first (best) rank.
        k: rank offset, > 0.  60 is Cormack et al.'s default; smaller values
            weigh top ranks more (1/(k+1) vs 1/(k+2) differ more).
        weights: one weight per list (default 1.0 each).

    Returns:
        ``[(id, score), ...]`` with ``score = sum_i w_i / (k + rank_i)``, best
        first, ties by id.
    """
    if k <= 0:
        raise ValueError(f"rrf k must be positive, got {k}")
    w = _weights(weights, len(ranked_lists))
    scores: dict = {}
    for wi, lst in zip(w, ranked_lists):
        seen = set()
        rank = 0
        for item in lst:
            if item in seen:
                continue
            seen.add(item)
            rank += 1
            scores[item] = scores.get(item, 0.0) + wi / (k + rank)
    return _ranked(scores)


def minmax(
    scored_lists: Sequence[Sequence[tuple[Id, float]]],
    weights: Sequence[float] | None = None,
) -> list[tuple[Id, float]]:
    """Weighted sum of per-list min-max normalised scores.

    Args:
        scored_lists: one list of ``(id, score)`` per retriever (any order;
            higher is better).  An id repeating within one list keeps its best
            score.
        weights: one weight per list (default 1.0 each), e.g. (0.3, 0.7) for
            (BM25, dense).

    Returns:
        ``[(id, score), ...]``, where each list contributes
        ``w_i * (s - min_i) / (max_i - min_i)`` (1.0 when ``max_i == min_i``)
        and a missing id contributes 0; best first, ties by id.
    """
    w = _weights(weights, len(scored_lists))
    fused: dict = {}
    for wi, lst in zip(w, scored_lists):
        best: dict = {}
        for item, s in lst:
            s = float(s)
            if item not in best or s > best[item]:
                best[item] = s
        if not best:
            continue
        lo, hi = min(best.values()), max(best.values())
        span = hi - lo
        for item, s in best.items():
            norm = (s - lo) / span if span > 0 else 1.0
            fused[item] = fused.get(item, 0.0) + wi * norm
    for lst in scored_lists:  # ids present only with weight 0 still appear
        for item, _ in lst:
            fused.setdefault(item, 0.0)
    return _ranked(fused)
