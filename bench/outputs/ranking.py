"""Ranking helpers shared by the report, its plots and recommend (no plotting here, so ranking
codecs does not load matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (higher is better on both),
    ordered by the first axis."""
    front = [
        i
        for i, (x, y) in enumerate(points)
        if not any(
            (ox >= x and oy >= y) and (ox > x or oy > y)
            for j, (ox, oy) in enumerate(points)
            if j != i
        )
    ]
    return sorted(front, key=lambda i: points[i][0])
