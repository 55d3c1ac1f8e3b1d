"""Training datasets: every source becomes a list of :class:`Track` plus a way to read one frame.

Readers (all boxes returned as internal 0-based ``[x, y, w, h]``, NaN rows where the target is absent):

* :class:`OTBFolders` -- OTB-style sequence folders with ``index.json`` splits (``../shared/data/sequences``);
  only the ``train`` split unless ``allow_bench=True`` (evaluation code only). Crops corpora
  (``../shared/data/corpus``: ``kind: crops``, one target-centred crop every ``frame_step`` source frames) read
  the same way; each track keeps its ``frame_step`` so the sampler's frame range stays in source frames.
* :class:`ImageNetVID` -- ILSVRC2015-VID: ``Data/VID/<split>/<snippet>/*.JPEG`` with
  ``Annotations/VID/<split>/<snippet>/*.xml`` (one ``<object>`` per target with ``<trackid>``, ``<bndbox>``
  and ``<occluded>``); one track per (snippet, trackid).
* :class:`GOT10k` -- ``<root>/<split>/list.txt``, ``<seq>/groundtruth.txt`` (0-based x,y,w,h),
  ``absence.label`` and ``cover.label`` (0 = fully covered).
* :class:`LaSOT` -- ``<root>/<class>/<class>-<n>/img/*.jpg``, ``groundtruth.txt`` (1-based),
  ``full_occlusion.txt`` and ``out_of_view.txt``.
* ``synthetic`` -- :class:`edcf_plugin.training.synthetic.SyntheticTracks` (procedural, or with real images as
  backgrounds and target textures: ``real_images``).

Annotation lines that cannot be parsed are kept as NaN rows (so frames stay aligned), counted in
``dataset.stats["bad_lines"]`` and reported once. Large datasets (VID, GOT-10k, LaSOT) cache their parsed
annotation index as JSON (``cache_dir``), keyed by the root path and the annotation files' count and sizes'
sum, so a second start skips the XML/text parsing.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..boxes import from_one_based
from ..errors import ConfigError, InputError
from ..formats.sequences import IMAGE_EXTENSIONS, index_entry, list_split, parse_box_line, parse_numbers, read_image



@dataclass
class Track:
    """One annotated object track: frame references, N x 4 boxes (0-based, NaN = absent), visibility flags."""

    name: str
    frames: list                      # image paths (str) or frame indices (synthetic)
    boxes: np.ndarray
    visible: np.ndarray = field(default=None)  # bool N; None -> boxes finite with positive size
    frame_step: int = 1               # source frames between consecutive entries (crops corpora: index.json)

    def __post_init__(self):
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        ok = np.all(np.isfinite(self.boxes), axis=1) & (np.nan_to_num(self.boxes[:, 2]) > 1) & \
            (np.nan_to_num(self.boxes[:, 3]) > 1)
        self.visible = ok if self.visible is None else (np.asarray(self.visible, dtype=bool) & ok)
        if len(self.frames) != len(self.boxes):
            raise InputError(f"track {self.name}: {len(self.frames)} frames but {len(self.boxes)} boxes")

    @property
    def num_visible(self) -> int:
        return int(self.visible.sum())

    def to_json(self) -> dict:
        return {"name": self.name, "frames": [str(f) for f in self.frames],
                "boxes": np.where(np.isfinite(self.boxes), self.boxes, -1e9).round(3).tolist(),
                "visible": self.visible.astype(int).tolist()}

    @classmethod
    def from_json(cls, d: dict) -> "Track":
        boxes = np.asarray(d["boxes"], dtype=np.float64)
        boxes[boxes <= -1e8] = np.nan
        return cls(d["name"], list(d["frames"]), boxes, np.asarray(d["visible"], dtype=bool))


class TrackDataset:
    """Base class: ``tracks`` (list of :class:`Track`) and :meth:`read_frame`."""

    name = "dataset"

    def __init__(self):
        self.tracks: list[Track] = []
        self.stats = {"bad_lines": 0}

    def read_frame(self, track: Track, index: int) -> np.ndarray:
        """BGR uint8 image of frame ``index`` of ``track``."""
        return read_image(track.frames[index])

    def usable_tracks(self, min_visible: int = 2) -> list[int]:
        return [i for i, t in enumerate(self.tracks) if t.num_visible >= min_visible]

    def __len__(self) -> int:
        return len(self.tracks)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.tracks)} tracks)"


# ----------------------------------------------------------------------------------------- helpers

def parse_boxes_tolerant(text: str, expected: int | None = None) -> tuple[np.ndarray, int]:
    """Parse ``x,y,w,h`` lines; a line that is not 4 numbers becomes a NaN row and is counted as bad.

    Returns (N x 4 array, number of bad lines). ``expected`` pads/truncates to that many rows (missing rows
    count as bad).
    """
    rows, bad = [], 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        values = parse_box_line(line) or []
        if len(values) != 4:
            rows.append([math.nan] * 4)
            bad += 1
        else:
            rows.append(values)
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    if expected is not None and len(arr) != expected:
        if len(arr) < expected:
            bad += expected - len(arr)
            arr = np.vstack([arr, np.full((expected - len(arr), 4), np.nan)])
        else:
            arr = arr[:expected]
    return arr, bad


def _read_text(path: Path) -> str:
    """An annotation or list file's text; InputError naming the file when it cannot be read or is not UTF-8."""
    try:
        return path.read_text()
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _read_flags(path: Path, n: int) -> np.ndarray | None:
    """0/1 flags, one per frame, separated by commas or newlines (LaSOT, GOT-10k). None if missing."""
    if not path.is_file():
        return None
    try:
        arr = np.asarray(parse_numbers(_read_text(path)))
    except ValueError:
        raise InputError(f"{path}: expected numbers, one per frame") from None
    if len(arr) < n:
        arr = np.concatenate([arr, np.zeros(n - len(arr))])
    return arr[:n]


def _require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise InputError(f"{what} not found: {path}")
    return path


def _frames_in(folder: Path, ext: tuple[str, ...] = IMAGE_EXTENSIONS) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in ext)


def cached_index(cache_dir: str | Path | None, key: str, signature: str,
                 build: Callable[[], tuple[list[Track], int]]) -> tuple[list[Track], int]:
    """Load the track list from ``cache_dir/<key>.json`` when its signature matches, else build and store it."""
    if cache_dir is None:
        return build()
    path = Path(cache_dir) / f"{key}.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            if data.get("signature") == signature:
                return [Track.from_json(t) for t in data["tracks"]], int(data.get("bad_lines", 0))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            pass  # rebuild a corrupt cache
    tracks, bad = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"signature": signature, "bad_lines": bad, "tracks": [t.to_json() for t in tracks]}))
    os.replace(tmp, path)
    return tracks, bad


def _signature(root: Path, files: list[Path]) -> str:
    h = hashlib.sha1(str(root.resolve()).encode())
    h.update(str(len(files)).encode())
    h.update(str(sum(f.stat().st_size for f in files)).encode())
    return h.hexdigest()


def _report_bad(name: str, bad: int) -> None:
    if bad:
        print(f"[edcf train] {name}: skipped {bad} corrupt or missing annotation line(s)")


# ----------------------------------------------------------------------------------------- readers

class OTBFolders(TrackDataset):
    """OTB-style folders (``img/`` + ``groundtruth_rect.txt``, 1-based) selected by ``index.json`` split.

    Training may only use ``split="train"``; ``bench`` is refused unless ``allow_bench`` (for evaluation).
    ``names`` keeps only those sequences, ``exclude`` drops some (held-out validation sequences). ``every`` keeps
    every ``every``-th frame (the first included) and multiplies the track's ``frame_step`` by it, so that frame
    ranges still count source frames.
    """

    name = "otb"

    def __init__(self, root: str | Path, split: str | None = "train", names: list[str] | None = None,
                 exclude: list[str] | None = None, allow_bench: bool = False, every: int = 1):
        super().__init__()
        root = Path(root)
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"otb option every must be a positive integer, got {every!r}")
        if split == "bench" and not allow_bench:
            raise ConfigError(f"refusing to train on the 'bench' split of {root}: it is for evaluation only")
        folders = list_split(root, split)
        if split is None and (root / "index.json").is_file() and not allow_bench:
            entries = json.loads((root / "index.json").read_text())
            allowed = {e["name"] for e in entries if e.get("split") != "bench"}
            folders = [f for f in folders if f.name in allowed]
        if names:
            missing = sorted(set(names) - {f.name for f in folders})
            if missing:
                raise InputError(f"sequence(s) {', '.join(missing)} not in split {split!r} of {root}")
            folders = [f for f in folders if f.name in set(names)]
        folders = [f for f in folders if f.name not in set(exclude or [])]
        for folder in folders:
            img = folder / "img" if (folder / "img").is_dir() else folder
            _require_dir(img, "frame folder")
            frames = _frames_in(img)
            gt = folder / "groundtruth_rect.txt"
            if not gt.is_file():
                raise InputError(f"annotation file not found: {gt}")
            boxes, bad = parse_boxes_tolerant(_read_text(gt), expected=len(frames))
            self.stats["bad_lines"] += bad
            step = max(1, int(index_entry(folder).get("frame_step") or 1))
            self.tracks.append(Track(folder.name, [str(f) for f in frames[::every]], from_one_based(boxes)[::every],
                                     frame_step=step * every))
        _report_bad(f"OTB folders {root}", self.stats["bad_lines"])


class ImageNetVID(TrackDataset):
    """ILSVRC2015-VID (``Data/VID`` + ``Annotations/VID``). Boxes: ``xmin, ymin, xmax - xmin + 1, ...``."""

    name = "vid"

    def __init__(self, root: str | Path, split: str = "train", cache_dir: str | Path | None = None,
                 min_visible: int = 2):
        super().__init__()
        root = Path(root)
        data = _require_dir(root / "Data" / "VID" / split, "ILSVRC2015-VID frame folder")
        ann = _require_dir(root / "Annotations" / "VID" / split, "ILSVRC2015-VID annotation folder")
        xmls = sorted(ann.rglob("*.xml"))
        if not xmls:
            raise InputError(f"no annotation .xml files under {ann}")

        def build():
            return self._parse(data, ann, xmls, min_visible)

        self.tracks, bad = cached_index(cache_dir, f"vid_{split}", _signature(root, xmls), build)
        self.stats["bad_lines"] = bad
        _report_bad(f"ILSVRC2015-VID {ann}", bad)

    @staticmethod
    def _parse(data: Path, ann: Path, xmls: list[Path], min_visible: int) -> tuple[list[Track], int]:
        by_snippet: dict[Path, list[Path]] = {}
        for x in xmls:
            by_snippet.setdefault(x.parent, []).append(x)
        tracks, bad = [], 0
        for snippet, files in sorted(by_snippet.items()):
            files = sorted(files)
            n = len(files)
            per_track: dict[int, dict] = {}
            for i, xml_path in enumerate(files):
                try:
                    root = ET.parse(xml_path).getroot()
                except ET.ParseError:
                    bad += 1
                    continue
                for obj in root.iter("object"):
                    try:
                        tid = int(obj.findtext("trackid"))
                        bb = obj.find("bndbox")
                        x0, x1 = float(bb.findtext("xmin")), float(bb.findtext("xmax"))
                        y0, y1 = float(bb.findtext("ymin")), float(bb.findtext("ymax"))
                        occluded = int(obj.findtext("occluded") or 0)
                    except (TypeError, ValueError, AttributeError):
                        bad += 1
                        continue
                    t = per_track.setdefault(tid, {"boxes": np.full((n, 4), np.nan), "vis": np.zeros(n, bool)})
                    t["boxes"][i] = [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
                    t["vis"][i] = not occluded
            rel = snippet.relative_to(ann)
            frames = [str(data / rel / (f.stem + ".JPEG")) for f in files]
            for tid, t in sorted(per_track.items()):
                track = Track(f"{rel}/{tid}", frames, t["boxes"], t["vis"])
                if track.num_visible >= min_visible:
                    tracks.append(track)
        return tracks, bad


class GOT10k(TrackDataset):
    """GOT-10k: ``<root>/<split>/list.txt`` and per sequence ``groundtruth.txt``, ``absence.label``,
    ``cover.label`` (visible = not absent and cover > 0)."""

    name = "got10k"

    def __init__(self, root: str | Path, split: str = "train", cache_dir: str | Path | None = None):
        super().__init__()
        base = _require_dir(Path(root) / split, "GOT-10k split folder")
        listing = base / "list.txt"
        if not listing.is_file():
            raise InputError(f"GOT-10k sequence list not found: {listing}")
        names = [n.strip() for n in _read_text(listing).splitlines() if n.strip()]
        gts = [base / n / "groundtruth.txt" for n in names]
        for gt in gts:
            if not gt.is_file():
                raise InputError(f"annotation file not found: {gt}")

        def build():
            tracks, bad = [], 0
            for name, gt in zip(names, gts):
                frames = _frames_in(base / name)
                boxes, b = parse_boxes_tolerant(_read_text(gt), expected=len(frames))
                bad += b
                vis = np.ones(len(frames), bool)
                absence = _read_flags(base / name / "absence.label", len(frames))
                cover = _read_flags(base / name / "cover.label", len(frames))
                if absence is not None:
                    vis &= absence == 0
                if cover is not None:
                    vis &= cover > 0
                tracks.append(Track(name, [str(f) for f in frames], boxes, vis))
            return tracks, bad

        self.tracks, bad = cached_index(cache_dir, f"got10k_{split}", _signature(base, gts), build)
        self.stats["bad_lines"] = bad
        _report_bad(f"GOT-10k {base}", bad)


class LaSOT(TrackDataset):
    """LaSOT: ``<root>/<class>/<class>-<n>/{img/, groundtruth.txt, full_occlusion.txt, out_of_view.txt}``.

    ``names`` restricts to those sequences (e.g. the official training list)."""

    name = "lasot"

    def __init__(self, root: str | Path, names: list[str] | None = None, cache_dir: str | Path | None = None):
        super().__init__()
        root = _require_dir(Path(root), "LaSOT root")
        seqs = sorted(p.parent for p in root.glob("*/*/groundtruth.txt"))
        if names:
            seqs = [s for s in seqs if s.name in set(names)]
        if not seqs:
            raise InputError(f"no LaSOT sequences (<class>/<seq>/groundtruth.txt) under {root}")
        gts = [s / "groundtruth.txt" for s in seqs]

        def build():
            tracks, bad = [], 0
            for seq, gt in zip(seqs, gts):
                frames = _frames_in(_require_dir(seq / "img", "LaSOT frame folder"))
                boxes, b = parse_boxes_tolerant(_read_text(gt), expected=len(frames))
                bad += b
                vis = np.ones(len(frames), bool)
                for flag in ("full_occlusion.txt", "out_of_view.txt"):
                    f = _read_flags(seq / flag, len(frames))
                    if f is not None:
                        vis &= f == 0
                tracks.append(Track(seq.name, [str(f) for f in frames], from_one_based(boxes), vis))
            return tracks, bad

        self.tracks, bad = cached_index(cache_dir, "lasot", _signature(root, gts), build)
        self.stats["bad_lines"] = bad
        _report_bad(f"LaSOT {root}", bad)
