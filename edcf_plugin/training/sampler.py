"""Pair sampler: a map-style ``torch.utils.data.Dataset`` of processed training pairs.

Item ``i`` of epoch ``e`` is a deterministic function of ``(seed, e, i)``: pick a dataset by weight, a track
with at least two visible frames, an exemplar frame and a search frame at most ``frame_range`` frames apart
(both visible; ``frame_range`` counts source frames, so a track subsampled every ``frame_step`` frames
allows ``frame_range / frame_step`` entries), then process them (:mod:`.processing`). Determinism per index
makes the sampler work with any number of workers and with ``DistributedSampler`` (each rank draws different
indices).

With ``processing.cfg.distractor_p > 0``, a pair may also carry a distractor: the target of another track, drawn
from the same datasets, the one of four candidates whose box shape is closest to the search target's (people next
to people, cars next to cars), pasted into the search patch by the processing. An unreadable distractor image is
skipped silently (the pair goes without one).

A pair whose image cannot be read (missing or corrupt file) is skipped: the item draws another pair from the same
random stream (still deterministic), up to ``MAX_DRAWS`` times. Each unreadable file is named once per process
(a warning) and the skips are counted across worker processes (:meth:`PairDataset.take_skipped`).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import InputError
from .datasets import TrackDataset
from .processing import PairProcessing, cut_object

#: Pairs one item may draw before giving up when their images cannot be read.
MAX_DRAWS = 100
#: Skip counters for DataLoader workers (one each, so that no two processes add to the same one).
SKIP_SLOTS = 256


class PairDataset(Dataset):
    """``samples_per_epoch`` pairs drawn from ``datasets`` (with ``weights``), processed by ``processing``."""

    def __init__(self, datasets: list[TrackDataset], processing: PairProcessing, samples_per_epoch: int,
                 weights: list[float] | None = None, frame_range: int | list[int] = 100, seed: int = 0):
        if not datasets:
            raise InputError("no training data: give --data KIND:PATH and/or --synthetic")
        self.datasets = datasets
        self.processing = processing
        self.samples_per_epoch = int(samples_per_epoch)
        self.seed = int(seed)
        self.epoch = 0
        self.usable = [d.usable_tracks(2) for d in datasets]
        for d, u in zip(datasets, self.usable):
            if not u:
                raise InputError(f"{d!r}: no track has two visible frames to form a pair")
        w = np.asarray(weights if weights is not None else [1.0] * len(datasets), dtype=np.float64)
        if len(w) != len(datasets) or np.any(w < 0) or w.sum() <= 0:
            raise InputError(f"dataset weights {list(w)} must be non-negative, one per dataset, not all zero")
        self.weights = w / w.sum()
        ranges = frame_range if isinstance(frame_range, (list, tuple)) else [frame_range] * len(datasets)
        self.frame_ranges = [max(1, int(r)) for r in ranges]
        # skips per process (slot 0: this one, 1 + id: DataLoader worker id), in memory the workers share
        self._skipped = torch.zeros(1 + SKIP_SLOTS, dtype=torch.int64).share_memory_()
        self._reported: set[str] = set()

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def sample_pair(self, rng: np.random.Generator) -> tuple[TrackDataset, object, int, int]:
        """(dataset, track, exemplar frame, search frame); both frames visible, ``|i - j| <= frame_range``."""
        k = int(rng.choice(len(self.datasets), p=self.weights))
        ds = self.datasets[k]
        track = ds.tracks[self.usable[k][int(rng.integers(len(self.usable[k])))]]
        vis = np.flatnonzero(track.visible)
        i = int(vis[rng.integers(len(vis))])
        span = max(1, int(round(self.frame_ranges[k] / track.frame_step)))
        near = vis[np.abs(vis - i) <= span]
        near = near[near != i] if len(near) > 1 else near
        j = int(near[rng.integers(len(near))])
        return ds, track, i, j

    def sample_distractor(self, rng: np.random.Generator, track, box: np.ndarray) -> np.ndarray | None:
        """Another track's object pixels, shaped like ``box``: 4 candidates (dataset, track, visible frame) from
        tracks other than ``track``, the closest log aspect ratio wins; None when unreadable or none found."""
        aspect = math.log(max(box[2], 1.0) / max(box[3], 1.0))
        best = None
        for _ in range(4):
            k = int(rng.choice(len(self.datasets), p=self.weights))
            cand = self.datasets[k].tracks[self.usable[k][int(rng.integers(len(self.usable[k])))]]
            if cand is track or cand.name == track.name:
                continue
            vis = np.flatnonzero(cand.visible)
            f = int(vis[rng.integers(len(vis))])
            b = cand.boxes[f]
            gap = abs(math.log(b[2] / b[3]) - aspect)
            if best is None or gap < best[0]:
                best = (gap, self.datasets[k], cand, f)
        if best is None:
            return None
        _, ds, cand, f = best
        try:
            image = ds.read_frame(cand, f)
        except InputError:
            return None
        return cut_object(image, cand.boxes[f])

    def take_skipped(self) -> int:
        """Pairs skipped for an unreadable image since the last call (all worker processes), and reset."""
        n = int(self._skipped.sum())
        self._skipped.zero_()
        return n

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        for _ in range(MAX_DRAWS):
            ds, track, i, j = self.sample_pair(rng)
            try:
                z_img = ds.read_frame(track, i)
                x_img = z_img if j == i else ds.read_frame(track, j)
                break
            except InputError as exc:
                error = exc
                worker = torch.utils.data.get_worker_info()
                self._skipped[0 if worker is None else 1 + worker.id % SKIP_SLOTS] += 1
                if str(exc) not in self._reported:
                    self._reported.add(str(exc))
                    warnings.warn(f"training pair skipped: {exc}", stacklevel=2)
        else:
            raise InputError(f"no readable pair in {MAX_DRAWS} draws (item {index}, epoch {self.epoch}): {error}")
        distractor = None
        p = self.processing.cfg.distractor_p
        if p > 0 and rng.random() < p:
            distractor = self.sample_distractor(rng, track, track.boxes[j])
        sample = self.processing(z_img, track.boxes[i], x_img, track.boxes[j], rng, distractor)
        return {k: torch.from_numpy(np.asarray(v)) for k, v in sample.items()}
