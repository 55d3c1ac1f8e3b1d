"""The rule the tracker-setting cross-validations share (cf_weight_cv.py, semantic_window_cv.py): the best setting,
within ``tie`` points of the top the one closest to the incumbent, adopted only when it beats the incumbent by at
least ``margin`` points."""
from __future__ import annotations


def choose(score: dict[str, float], selectable: tuple[str, ...], incumbent: str, margin: float = 1.0,
           tie: float = 0.3) -> tuple[str, bool]:
    """(the best selectable setting, whether it is adopted). Settings are numbers written as strings."""
    top = max(score[s] for s in selectable)
    best = min((s for s in selectable if score[s] >= top - tie), key=lambda s: abs(float(s) - float(incumbent)))
    return best, best != incumbent and score[best] >= score[incumbent] + margin
