"""The run seam: how every entry point describes a tracker, runs it over frames, and reports a user's error.

* :class:`TrackerSpec`: variant, weights, preset, config file, overrides, device, threads; picklable (parallel
  workers build their own tracker from it); :meth:`TrackerSpec.build` is the one way to a tracker.
* :func:`one_pass`: init on the first frame, update on the rest (OTB / pysot one-pass evaluation, ``edcf track``,
  ``edcf bench``, training validation).
* :func:`reset_based`: the VOT baseline (supervised) protocol: re-initialise ``skip`` frames after the tracker
  loses the target (no overlap with the ground truth).
* :func:`cli_main`: one line ``PROG: error: ...`` and exit status 2 for a user's error, 130 on Ctrl-C.

A tracker here is anything with ``init(image, box)`` and ``update(image) -> (box, score)``; boxes are the
package's 0-based ``[x, y, w, h]``. Only the calls to ``init`` and ``update`` are timed. Nothing here imports torch
until a tracker is built, so a command can use :func:`cli_main` before the process is set up.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from .errors import EDCFError, InputError, one_line
from .formats.metrics import VOT_SKIP

#: Reset-protocol entries (pysot-toolkit / VOT): 1 = (re-)initialised here, 2 = lost here, 0 = skipped frame.
INIT, LOST, SKIPPED = 1, 2, 0


@dataclass
class TrackerSpec:
    """Everything needed to build one EDCF tracker (picklable)."""
    variant: str | None = "EDCF"
    weights: str | None = None         # a checkpoint; None: the bundled model
    preset: str | None = None          # a name of config.PRESETS; None: the reference configuration
    config: str | None = None          # a TrackerConfig YAML file
    overrides: dict = field(default_factory=dict)   # TrackerConfig fields, applied after the preset
    device: str = "cpu"
    threads: int | None = None         # torch CPU threads of this process; None: leave them

    def tracker_overrides(self) -> dict | None:
        from .config import preset

        merged = {**(preset(self.preset) if self.preset else {}), **(self.overrides or {})}
        return merged or None

    def build(self):
        """The tracker this spec describes (:func:`edcf_plugin.tracking.tracker.build_tracker`)."""
        from .tracking.tracker import build_tracker

        return build_tracker(self.variant, self.weights, self.device, config=self.config,
                             overrides=self.tracker_overrides(), threads=self.threads)


@dataclass
class Run:
    """What a loop produced: one entry per frame (a box, or a reset-protocol code), the tracker's score (None at
    (re-)initialisation and skipped frames) and the seconds spent in ``init`` / ``update``."""
    entries: list
    scores: list
    seconds: list
    lost: int = 0

    @property
    def boxes(self) -> np.ndarray:
        """N x 4 boxes of a one-pass run."""
        return np.asarray(self.entries, dtype=np.float64).reshape(-1, 4)


def _frame_error(exc: EDCFError, where: str | None, index: int) -> EDCFError:
    if where is None:
        return exc
    return InputError(f"{where}frame {index + 1}: {one_line(exc)}")


def one_pass(tracker, frames: Iterable[np.ndarray], init_box, *, where: str | None = None,
             on_frame: Callable[[int, np.ndarray, np.ndarray], None] | None = None) -> Run:
    """Init on the first frame with ``init_box`` (its entry is ``init_box``, or the tracker's ``init_box``
    attribute when it has one: the rounded box OpenCV got), then ``update`` on every later frame.

    ``on_frame(i, frame, box)`` runs after frame i, untimed (progress, drawing, memory samples). With ``where``
    (e.g. ``"video 'Bolt' "``), a user's error in a frame is raised as ``InputError("{where}frame N: ...")``.
    Whatever stops the loop carries the boxes tracked before it as ``exc.tracked_boxes``.
    """
    run = Run([], [], [])
    clock = time.perf_counter
    i = -1
    try:
        for i, frame in enumerate(frames):
            t0 = clock()
            try:
                if i == 0:
                    tracker.init(frame, init_box)
                    box, score = getattr(tracker, "init_box", init_box), None
                else:
                    box, score = tracker.update(frame)
            except EDCFError as exc:
                raise _frame_error(exc, where, i) from None
            run.seconds.append(clock() - t0)
            run.entries.append(box)
            run.scores.append(score)
            if on_frame is not None:
                on_frame(i, frame, box)
    except BaseException as exc:
        exc.tracked_boxes = run.boxes
        raise
    return run


def reset_based(tracker, frames: Iterable[np.ndarray], groundtruth: Sequence, overlap: Callable,
                *, skip: int = VOT_SKIP, init_box: Callable | None = None, where: str | None = None,
                on_frame: Callable[[int, np.ndarray, object, int], None] | None = None) -> Run:
    """VOT's baseline protocol: init on frame 1; every frame whose box has no overlap with the ground truth
    (``overlap(box, gt, (width, height)) <= 0``) is a failure (entry :data:`LOST`), the next ``skip`` frames are
    skipped (:data:`SKIPPED`) and the tracker is re-initialised on the one after (:data:`INIT`).

    ``init_box(gt)`` turns a ground-truth region into the box ``init`` takes (default: the region itself).
    ``on_frame(i, frame, entry, lost)`` runs after frame i, untimed.
    """
    run = Run([], [], [])
    restart = 0
    clock = time.perf_counter
    size = None
    for i, frame in enumerate(frames):
        size = size or (frame.shape[1], frame.shape[0])
        gt = groundtruth[i]
        if i < restart:
            run.entries.append(SKIPPED)
            run.scores.append(None)
            run.seconds.append(0.0)
        else:
            t0 = clock()
            try:
                if i == restart:
                    tracker.init(frame, init_box(gt) if init_box else gt)
                    entry, score = INIT, None
                else:
                    entry, score = tracker.update(frame)
            except EDCFError as exc:
                raise _frame_error(exc, where, i) from None
            run.seconds.append(clock() - t0)
            if i > restart and overlap(entry, gt, size) <= 0:
                entry, restart = LOST, i + skip
                run.lost += 1
            run.entries.append(entry)
            run.scores.append(score)
        if on_frame is not None:
            on_frame(i, frame, run.entries[-1], run.lost)
    return run


def cli_main(prog: str, fn: Callable[[], int]) -> int:
    """Run a command's body: a user's error (:class:`EDCFError`) prints ``PROG: error: ...`` on one line and
    returns 2, Ctrl-C prints ``PROG: interrupted`` and returns 130; anything else is a bug and propagates."""
    try:
        return int(fn() or 0)
    except EDCFError as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
