"""What a tracking process sets before it tracks: how its CPU threads wait and how glibc's allocator keeps memory.

Every entry point (``edcf`` and its subcommands, the TraX server, ``edcf-pysot-test``) calls :func:`process_setup`
first; :func:`edcf_plugin.tracking.tracker.build_tracker` (which the got10k and pysot adapters use inside a user's script)
calls :func:`steady_allocator` too. Opt-outs, for a user who tunes these themselves: ``EDCF_NO_OMP_POLICY=1`` and
``EDCF_NO_MALLOC_TUNING=1``; a user's own ``OMP_WAIT_POLICY``, ``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_`` or ``GLIBC_TUNABLES`` malloc setting also wins.

**Threads.** PyTorch's CPU kernels run on OpenMP threads which, under libgomp's default policy, spin after every
parallel region instead of sleeping. On a machine with any other load the spinning threads take the cores the
working ones need, and the tracker runs several times slower (BENCHMARKS.md, threads). ``OMP_WAIT_POLICY=PASSIVE``
makes them sleep. libgomp reads it once, when torch is loaded, so it is set before importing torch.

**Memory.** glibc serves a large ``malloc`` with its own ``mmap`` (returned to the system by ``free``) only until
the first such block is freed: it then raises its threshold to that block's size, up to 32 MiB, and serves later
tensor buffers (0.1-20 MiB, dozens per frame) from the ``brk`` heap, which it gives back only from the top. Which
holes the next frame's buffers fit then depends on the order of earlier allocations: after 150 identical frames
the heap held 1.5-2.6x the memory in use, varying from process to process, and in one process it grew by ~3 MiB
per frame without bound (BENCHMARKS.md, memory). Mapping every large buffer instead (a fixed low threshold) keeps
the heap small but costs a page fault per 4 KiB of every buffer on every frame: 80 ms of kernel time per frame on
the reference preset. :func:`steady_allocator` fixes both thresholds high instead (buffers up to 32 MiB reuse the
heap, no kernel time; 32 MiB is the largest mmap threshold every glibc accepts), and :func:`frame_done`, which the
tracker calls after every frame, hands the heap's free pages back (``malloc_trim``) every :data:`RELEASE_EVERY`
frames of the process, so the resident size follows the memory in use whatever the heap's holes. ``edcf bench``
gives every tracker process, OpenCV's too, the same settings.
"""
from __future__ import annotations

import os
import sys

#: glibc's M_MMAP_THRESHOLD, fixed: buffers up to this size come from the heap (glibc 2.2x refuses more than 32 MiB).
MMAP_THRESHOLD = 32 << 20
#: glibc's M_TRIM_THRESHOLD, fixed: the heap keeps its top (the trim every RELEASE_EVERY frames gives pages back).
TRIM_THRESHOLD = 1 << 30
#: Tracked frames of the process between two :func:`release_free_memory` calls.
RELEASE_EVERY = 50
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3          # glibc's mallopt parameter numbers (malloc.h)

_allocator_done: bool | None = None
_libc = None
_frames = 0


def _glibc():
    """glibc through ctypes, or None (another C library)."""
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                lib = ctypes.CDLL("libc.so.6")
                if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt"):
                    _libc = lib
            except OSError:
                pass
    return _libc or None


def passive_openmp_waiting() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user set a policy, opted out, or torch is already loaded (too
    late to matter). Returns whether the policy now in the environment is passive because of this call."""
    if "torch" in sys.modules or os.environ.get("EDCF_NO_OMP_POLICY") == "1" or "OMP_WAIT_POLICY" in os.environ:
        return False
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True


def _tuning_allowed() -> bool:
    return os.environ.get("EDCF_NO_MALLOC_TUNING") != "1"


def _user_tuned() -> bool:
    return ("MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ
            or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""))


def steady_allocator() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` and its trim threshold at :data:`TRIM_THRESHOLD` (once
    per process). Returns whether both are set: False on other C libraries (musl, macOS, Windows), with
    ``EDCF_NO_MALLOC_TUNING=1`` or when the user set glibc's malloc options in the environment."""
    global _allocator_done
    if _allocator_done is None:
        libc = _glibc()
        _allocator_done = False
        if libc is not None and _tuning_allowed() and not _user_tuned():
            mmap_set = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
            trim_set = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
            _allocator_done = mmap_set and trim_set
    return _allocator_done


def release_free_memory() -> bool:
    """Give the free pages of glibc's heaps back to the system (``malloc_trim(0)``). Returns False (and does
    nothing) without glibc or with ``EDCF_NO_MALLOC_TUNING=1``."""
    libc = _glibc()
    if libc is None or not _tuning_allowed():
        return False
    libc.malloc_trim(0)
    return True


def frame_done() -> None:
    """Count a tracked frame of this process; every :data:`RELEASE_EVERY` frames, :func:`release_free_memory`. Per
    process, not per tracker: a reset-based protocol re-initialises the tracker more often than that."""
    global _frames
    _frames += 1
    if _frames % RELEASE_EVERY == 0:
        release_free_memory()


def process_setup() -> None:
    """What every entry point does before importing torch (the CLI, the TraX server, ``edcf-pysot-test``)."""
    passive_openmp_waiting()
    steady_allocator()
