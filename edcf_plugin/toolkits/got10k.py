"""got10k toolkit adapter: ``EDCFGot10kTracker`` is a ``got10k.trackers.Tracker`` (PIL RGB images in), and
``LocalExperiment`` runs got10k's OTB protocol on a folder of a user's own OTB-style sequences.

    from got10k.experiments import ExperimentOTB
    from edcf_plugin.toolkits.got10k import EDCFGot10kTracker, LocalExperiment
    ExperimentOTB("data/OTB", version=2015).run(EDCFGot10kTracker("EDCF"))     # the OTB benchmark itself
    LocalExperiment("my_sequences").run(EDCFGot10kTracker("EDCF"))             # any OTB-style folders

got10k's own ``ExperimentOTB`` downloads every sequence of the OTB version missing from its folder, keeps only
OTB's sequence names, and counts each ``groundtruth*.txt`` of a folder as a sequence (a folder with
``groundtruth_polygon.txt`` beside ``groundtruth_rect.txt`` becomes two and fails). ``LocalExperiment`` never
downloads: its sequences are the folders of ``index.json`` (optionally one split) or every sub-folder with an
``img/`` folder, each read from its ``groundtruth_rect.txt`` as ``edcf track`` reads it.

Boxes: the got10k toolkit hands ``init`` the first annotation row as it is in the dataset files and stores
``update``'s boxes beside them. Its reference tracker (SiamFC, siamfc-pytorch) reads them as 1-based
``x,y,w,h`` (OTB's MATLAB convention); so does this adapter by default (``one_based=True``): it converts
to our 0-based boxes on the way in and back on the way out. Pass ``one_based=False`` for 0-based data.
Needs the ``got10k`` package (and ``six``, which it imports): ``pip install edcf-plugin[got10k]``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..boxes import from_one_based, to_one_based
from ..config import TrackerConfig
from ..errors import InputError

try:
    from got10k.experiments import ExperimentOTB as _ExperimentOTB
    from got10k.trackers import Tracker as _Got10kTracker
except ImportError as exc:  # pragma: no cover - exercised only without the optional dependency
    raise ImportError("edcf_plugin.toolkits.got10k needs the got10k toolkit: pip install got10k six "
                      f"(or edcf-plugin[got10k]); import failed: {exc}") from exc


def pil_to_bgr(image) -> np.ndarray:
    """PIL image (RGB, L, RGBA, ...) or RGB array -> BGR uint8 H x W x 3."""
    if hasattr(image, "convert"):
        image = np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise InputError(f"image must be a PIL image or an H x W x 3 RGB array, got shape {arr.shape}")
    return np.ascontiguousarray(arr[:, :, 2::-1])


class EDCFGot10kTracker(_Got10kTracker):
    """EDCF (or a variant) for the got10k toolkit's experiments (OTB, VOT, GOT-10k, LaSOT, ...).

    Args:
        variant: ``EDCF`` (default), ``SiamFC``, ``EDSiam``, ``CACFNet`` or ``CACFNet+``.
        weights, device, config (TrackerConfig or YAML path), overrides: as :func:`build_tracker`.
        name: the name results are stored under (default: the variant).
        one_based: boxes in and out are 1-based (got10k/OTB default) or 0-based.
        tracker: an already built core tracker (``init(image, box)`` / ``update(image) -> (box, score)``).
        threads: torch's CPU threads for this process (``torch.set_num_threads``; default: torch's default).
    """

    def __init__(self, variant: str = "EDCF", weights: str | Path | None = None, device: str = "cpu",
                 config: TrackerConfig | str | Path | None = None, overrides: dict | None = None,
                 name: str | None = None, one_based: bool = True, tracker=None, threads: int | None = None):
        if tracker is None:
            from ..tracking.tracker import build_tracker

            tracker = build_tracker(variant=variant, weights=weights, device=device, config=config,
                                    overrides=overrides, threads=threads)
        super().__init__(name=name or getattr(tracker, "variant", variant), is_deterministic=True)
        self.tracker = tracker
        self.one_based = one_based
        self.last_score = float("nan")

    def init(self, image, box) -> None:
        b = np.asarray(box, dtype=np.float64).reshape(-1)
        self.tracker.init(pil_to_bgr(image), from_one_based(b) if self.one_based else b)

    def update(self, image) -> np.ndarray:
        box, score = self.tracker.update(pil_to_bgr(image))
        self.last_score = float(score)
        box = np.asarray(box, dtype=np.float64)
        return to_one_based(box) if self.one_based else box


class LocalSequences:
    """OTB-style sequence folders as a got10k dataset: ``seq_names``, ``len``, and ``[i or name] -> (img_files,
    anno)`` with the boxes as the files hold them (1-based, got10k's OTB convention). Folders listed by
    ``root/index.json`` (only ``split`` when given), else every sub-folder with an ``img/`` folder; a folder
    without ``groundtruth_rect.txt`` is an error naming it. Nothing is downloaded."""

    def __init__(self, root: str | Path, split: str | None = None):
        from ..formats.sequences import list_split, load_sequence

        self.root = Path(root)
        self._seqs = []
        for folder in list_split(self.root, split):
            seq = load_sequence(folder)
            if seq.groundtruth is None:
                raise InputError(f"{folder} has no groundtruth_rect.txt (a got10k experiment needs ground truth)")
            self._seqs.append(seq)
        if not self._seqs:
            raise InputError(f"no sequence folders (with an img/ folder) under {self.root}")
        self.seq_names = [s.name for s in self._seqs]

    def __len__(self) -> int:
        return len(self._seqs)

    def __getitem__(self, index):
        if isinstance(index, str):
            if index not in self.seq_names:
                raise KeyError(f"no sequence {index!r} in {self.root}")
            index = self.seq_names.index(index)
        seq = self._seqs[index]                       # IndexError past the end ends got10k's iteration
        return [str(f) for f in seq.frames], to_one_based(np.asarray(seq.groundtruth, dtype=np.float64))


class LocalExperiment(_ExperimentOTB):
    """got10k's OTB experiment (one-pass, success/precision report) over :class:`LocalSequences`.

    Results go to ``result_dir/<name>/<tracker>/<sequence>.txt`` and reports to ``report_dir/<name>/...``, as
    ``ExperimentOTB`` lays them out for ``OTB<version>``; ``run``, ``report`` and ``show`` are got10k's own."""

    def __init__(self, root_dir: str | Path, split: str | None = None, name: str = "local",
                 result_dir: str = "results", report_dir: str = "reports"):
        # ExperimentOTB.__init__ would build got10k's OTB dataset (and download); set what it sets instead.
        self.dataset = LocalSequences(root_dir, split)
        self.result_dir = str(Path(result_dir) / name)
        self.report_dir = str(Path(report_dir) / name)
        self.nbins_iou = 21
        self.nbins_ce = 51
