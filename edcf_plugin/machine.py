"""What machine a run ran on, for the records that compare runs (bench results, training histories).

The project's figures differ between CPUs in ways the package versions do not show: bf16 convolutions run on AMX
tiles where the CPU has them (an Intel Xeon of the 4th generation and later) and on AVX-512 BF16 instructions
elsewhere, which changes both their speed (BENCHMARKS.md section 1: 2.7x) and the rounding of a bf16 training
step. Importing this module imports nothing heavy; torch is asked only when it is already importable.
"""
from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere; "unknown" when neither says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_features() -> dict:
    """The CPU model and the instruction sets torch's bf16 kernels choose between: ``amx`` (AMX tiles),
    ``avx512_bf16``, and torch's vectorisation level (``capability``); None where this torch cannot tell."""
    info: dict = {"cpu": cpu_model(), "amx": None, "avx512_bf16": None, "capability": None}
    try:
        import torch
    except ImportError:
        return info
    probes = {"amx": "_is_amx_tile_supported", "avx512_bf16": "_is_avx512_bf16_supported"}
    for key, name in probes.items():
        probe = getattr(torch.cpu, name, None)
        if probe is not None:
            info[key] = bool(probe())
    capability = getattr(torch.backends.cpu, "get_cpu_capability", None)
    if capability is not None:
        info["capability"] = capability()
    return info
