"""The geometry that training and tracking share, defined once: feature strides, the search and CF patch sides, the
fine-feature grid and the Gaussian-width rule of the CF target (Eq. 8's y).

The tracker (:mod:`edcf_plugin.tracking.tracker`) and the pair processing of training
(:mod:`edcf_plugin.training.processing`) both read these, so a pair is cut exactly as the tracker cuts a frame.
"""
from __future__ import annotations

import math

from .boxes import context_size

#: Pixels of a search or CF patch per cell of the fine (CF) features: conv1's stride.
FINE_STRIDE = 2
#: Pixels of the search patch per cell of the semantic score map (Eq. 3).
EMBED_STRIDE = 8
#: conv1's kernel: fine-feature cell i covers patch pixels [FINE_STRIDE * i, FINE_STRIDE * i + FINE_KERNEL).
FINE_KERNEL = 11
#: The CF target's Gaussian is never narrower than this many fine cells (tiny targets).
MIN_SIGMA_CELLS = 0.5


def fine_cells(patch_size: int) -> int:
    """Side of the fine-feature map of a ``patch_size`` patch (123 for 255)."""
    return (patch_size - FINE_KERNEL) // FINE_STRIDE + 1


def search_side(w: float, h: float, context_amount: float, exemplar_size: int, search_size: int) -> float:
    """Image pixels covered by the search (and CF) patch of a ``w`` x ``h`` target: SiamFC's exemplar context
    ``context_size(w, h, context_amount)`` scaled by ``search_size / exemplar_size``."""
    return context_size(w, h, context_amount) * search_size / exemplar_size


def cells_per_pixel(search_size: int, side: float) -> float:
    """Fine-feature cells per image pixel in a patch of ``side`` image pixels resized to ``search_size``."""
    return search_size / side / FINE_STRIDE


def gaussian_sigma_cells(w_cells: float, h_cells: float, cf_sigma: float) -> float:
    """Eq. 8's Gaussian width in fine cells for a target of ``w_cells`` x ``h_cells`` cells: ``cf_sigma`` times the
    geometric mean of its sides, at least :data:`MIN_SIGMA_CELLS`."""
    return max(MIN_SIGMA_CELLS, cf_sigma * math.sqrt(w_cells * h_cells))
