"""Training and tracking share their geometry by code (edcf_plugin.geometry), not by comment (issue 20)."""
import re
from dataclasses import fields
from pathlib import Path

import torch

from edcf_plugin import geometry
from edcf_plugin.config import TrackerConfig
from edcf_plugin.networks import EDCFNet, NetConfig
from edcf_plugin.training.processing import ProcessingConfig, cf_sigma_cells

PACKAGE = Path(__file__).resolve().parents[1] / "edcf_plugin"


def test_the_fine_grid_matches_the_network():
    net = EDCFNet(NetConfig(width=0.25, embed_channels=16, fine_channels=8, decoder_width=0.25)).eval()
    with torch.no_grad():
        low = net.low_level(torch.zeros(1, 3, 255, 255))
        fine = net.fine_from_low(low)
    assert fine.shape[-1] == geometry.fine_cells(255) == 123
    assert (255 - 127) // geometry.EMBED_STRIDE + 1 == ProcessingConfig().response_size


def test_processing_takes_the_trackers_geometry():
    tracker, processing = TrackerConfig(), ProcessingConfig()
    shared = [f.name for f in fields(ProcessingConfig) if hasattr(tracker, f.name)]
    assert set(shared) >= {"exemplar_size", "search_size", "context_amount", "cf_num_context",
                           "cf_context_distance", "cf_sigma"}
    for name in shared:
        assert getattr(processing, name) == getattr(tracker, name), name


def test_gaussian_width_rule_is_one_rule():
    side = geometry.search_side(40.0, 20.0, 0.5, 127, 255)
    scale = geometry.cells_per_pixel(255, side)
    assert cf_sigma_cells(40.0, 20.0, side, 255, 0.1) == geometry.gaussian_sigma_cells(40 * scale, 20 * scale, 0.1)
    assert geometry.gaussian_sigma_cells(0.1, 0.1, 0.1) == geometry.MIN_SIGMA_CELLS


def test_strides_are_defined_once():
    defining = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                if re.search(r"^(FINE_STRIDE|EMBED_STRIDE)\s*=", p.read_text(), re.M)]
    assert defining == ["geometry.py"]
