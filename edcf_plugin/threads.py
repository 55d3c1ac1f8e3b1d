"""How the tracker's CPU threads wait: OpenMP's passive policy for the command-line entry points.

PyTorch's CPU kernels run on OpenMP threads which, under libgomp's default policy, spin after every parallel
region instead of sleeping. On a machine with any other load the spinning threads take the cores the working ones
need, and the tracker runs several times slower (BENCHMARKS.md section 7). ``OMP_WAIT_POLICY=PASSIVE`` makes them
sleep. libgomp reads it once, when torch is loaded, so the entry points set it before importing torch; a value the
user set wins, and so does ``EDCF_NO_OMP_POLICY=1`` (leave OpenMP's default).
"""
from __future__ import annotations

import os
import sys


def passive_openmp_waiting() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user set a policy, opted out, or torch is already loaded (too
    late to matter). Returns whether the policy now in the environment is passive because of this call."""
    if "torch" in sys.modules or os.environ.get("EDCF_NO_OMP_POLICY") == "1" or "OMP_WAIT_POLICY" in os.environ:
        return False
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True
