"""Shared fixtures: generated sequences (no download) and the path of the real data when present."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from edcf_plugin.formats.generated_datasets import textured_sequence
from edcf_plugin.formats.sequences import write_otb_sequence

#: The tests' textured moving-object sequence (one generator: formats/generated_datasets.py).
make_sequence = textured_sequence

torch.set_num_threads(int(os.environ.get("EDCF_TEST_THREADS", "2")))

#: The project's real sequences live beside the checkout (../shared/data/sequences); a user's clone lacks them.
SHARED_SEQUENCES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sequences"


@pytest.fixture(scope="session")
def moving_sequence():
    return make_sequence()


@pytest.fixture
def otb_folder(tmp_path, moving_sequence):
    frames, boxes = moving_sequence
    return write_otb_sequence(tmp_path / "Moving", frames, boxes)


@pytest.fixture
def shared_sequences():
    if not SHARED_SEQUENCES.is_dir():
        pytest.skip(f"real sequences not present at {SHARED_SEQUENCES} (a user's clone has no ../shared)")
    return SHARED_SEQUENCES
