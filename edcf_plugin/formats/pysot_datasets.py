"""pysot-toolkit dataset folders and result files: the formats only, no tracking.

Datasets (what pysot-toolkit's ``DatasetFactory`` reads):

* ``<root>/<NAME>.json`` (or ``<NAME>_new.json``): ``{video: {"video_dir", "init_rect", "img_names",
  "gt_rect", ...}}``. Image names are resolved against the dataset root (``<root>/<img_name>``, or
  ``<root>/<video_dir>/<img_name>`` when the names leave the video folder out), never the working directory.
  ``gt_rect`` rows are ``x,y,w,h`` or VOT's 8-value polygons, used **as given** (pysot's OTB JSON is
  1-based as OTB is; VOT polygons are 0-based). VOT JSON adds per-frame tags (``camera_motion``,
  ``illum_change``, ``motion_change``, ``size_change``, ``occlusion``), LaSOT an ``absent`` list whose 1s
  mark the frames pysot-toolkit evaluates.
* OTB-style sequence folders (``<root>/<video>/img/*.jpg`` + ``groundtruth_rect.txt``, optional
  ``groundtruth_polygon.txt`` and ``index.json`` splits), read as if a pysot JSON listed them, with their
  boxes as given; the reset protocol uses the polygons where a sequence has them.

Result layouts (where pysot-toolkit's ``load_tracker`` looks), under ``<results>/<DATASET>/<tracker>/``:

* one-pass: ``<video>.txt``, ``x,y,w,h`` per frame, numbers written with ``str()``;
* reset-based (VOT): ``baseline/<video>/<video>_001.txt``, ``1`` / ``2`` / ``0`` code lines or ``%.4f`` boxes;
* GOT-10k: ``<video>/<video>_001.txt`` plus ``<video>/<video>_time.txt`` (seconds per frame, ``%.6f``);
* VOT2018-LT: ``longterm/<video>/<video>_001.txt``, ``_001_confidence.value``, ``_time.txt``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2

from ..errors import InputError
from .sequences import IMAGE_EXTENSIONS, list_split, parse_numbers, write_text_whole  # noqa: F401 (re-exported)

#: Datasets that pysot's ``tools/test.py`` runs with the reset-based (supervised) protocol.
RESET_DATASETS = ("VOT2016", "VOT2018", "VOT2019")
#: The per-frame tag keys of pysot-toolkit's VOT JSON.
VOT_TAGS = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")
PROTOCOLS = ("ope", "reset")
#: Result layouts: "ope" (<video>.txt), "baseline" (VOT), "got10k", "longterm" (VOT2018-LT).
LAYOUTS = ("ope", "baseline", "got10k", "longterm")


def default_protocol(dataset: str) -> str:
    """pysot's ``test.py`` choice: reset-based for VOT2016/2018/2019, one pass for everything else."""
    return "reset" if dataset in RESET_DATASETS else "ope"


def result_layout(dataset: str, protocol: str) -> str:
    if protocol == "reset":
        return "baseline"
    if dataset == "GOT-10k":
        return "got10k"
    if dataset == "VOT2018-LT":
        return "longterm"
    return "ope"


@dataclass
class Video:
    """One pysot-toolkit video: frame paths and per-frame ground truth exactly as the dataset gives them."""

    name: str
    img_files: list[Path]
    gt: list[list[float]]                     # per frame: 4 (x,y,w,h) or 8 (polygon) values, NaN = absent
    init_rect: list[float] = field(default_factory=list)
    attr: list[str] = field(default_factory=list)
    tags: dict[str, list[int]] = field(default_factory=dict)
    absent: list[int] | None = None           # LaSOT: 1 where pysot-toolkit evaluates the frame
    _size: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.img_files)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the first frame (read once)."""
        if self._size is None:
            img = cv2.imread(str(self.img_files[0]), cv2.IMREAD_UNCHANGED)
            if img is None:
                raise InputError(f"video {self.name!r} frame 1: cannot read image {self.img_files[0]}")
            self._size = (int(img.shape[1]), int(img.shape[0]))
        return self._size


@dataclass
class Dataset:
    name: str
    root: Path
    videos: list[Video]
    source: Path                              # the JSON file or the sequence root
    protocol: str = "ope"                     # "ope" or "reset" (default_protocol of the name, or chosen)

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, name: str) -> Video:
        for v in self.videos:
            if v.name == name:
                return v
        raise InputError(f"video {name!r} is not in dataset {self.name} ({self.source}); "
                         f"videos: {_short_list([v.name for v in self.videos])}")


def _short_list(names: Sequence[str], n: int = 8) -> str:
    return ", ".join(names[:n]) + (f", ... ({len(names)} in all)" if len(names) > n else "")


def is_valid_box(region: Sequence[float]) -> bool:
    """A usable target: finite values and, for x,y,w,h, a positive size (polygons: a positive area)."""
    if len(region) not in (4, 8) or not all(math.isfinite(v) for v in region):
        return False
    if len(region) == 4:
        return region[2] > 0 and region[3] > 0
    xs, ys = region[0::2], region[1::2]
    return (max(xs) - min(xs)) > 0 and (max(ys) - min(ys)) > 0


def _region(value, video: str, frame: int, what: str) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) not in (4, 8):
        raise InputError(f"video {video!r} frame {frame}: {what} must be a list of 4 (x,y,w,h) or "
                         f"8 (polygon) numbers, got {str(value)[:60]}")
    out = []
    for v in value:
        if v is None:
            out.append(float("nan"))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(v)
        else:
            raise InputError(f"video {video!r} frame {frame}: {what} holds a non-number {v!r}")
    return out


def _resolve_images(root: Path, video: str, video_dir: str, names: list[str]) -> list[Path]:
    if not names:
        raise InputError(f"video {video!r}: 'img_names' is empty")
    bases = [root, root / str(video_dir)]
    base = next((b for b in bases if (b / names[0]).is_file()), None)
    if base is None:
        tried = " or ".join(str(b / names[0]) for b in bases)
        raise InputError(f"video {video!r} frame 1: image not found: {tried}")
    files = [base / n for n in names]
    for i, f in enumerate(files, 1):
        if not f.is_file():
            raise InputError(f"video {video!r} frame {i}: image not found: {f}")
    return files


def _load_json_video(root: Path, dataset: str, name: str, meta, protocol: str, json_path: Path) -> Video:
    if not isinstance(meta, dict):
        raise InputError(f"{json_path}: video {name!r} must map to an object with video_dir, init_rect, "
                         f"img_names, gt_rect")
    required = ["video_dir", "init_rect", "img_names", "gt_rect"] + (["absent"] if dataset == "LaSOT" else [])
    missing = [k for k in required if k not in meta]
    if missing:
        raise InputError(f"{json_path}: video {name!r} lacks key(s) {', '.join(missing)} "
                         f"(needs {', '.join(required)})")
    names = meta["img_names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InputError(f"{json_path}: video {name!r}: 'img_names' must be a list of file names")
    gt_raw = meta["gt_rect"]
    if not isinstance(gt_raw, list) or not gt_raw:
        raise InputError(f"{json_path}: video {name!r}: 'gt_rect' must be a non-empty list of boxes")
    if len(gt_raw) != len(names) and not (len(gt_raw) == 1 and protocol == "ope"):
        raise InputError(f"{json_path}: video {name!r} has {len(names)} images but {len(gt_raw)} gt_rect rows")
    gt = [_region(g, name, i, "gt_rect") for i, g in enumerate(gt_raw, 1)]
    files = _resolve_images(root, name, meta["video_dir"], names)
    tags = {}
    if protocol == "reset":
        missing = [k for k in VOT_TAGS if k not in meta]
        if missing:
            raise InputError(f"{json_path}: VOT video {name!r} lacks tag key(s) {', '.join(missing)}")
        for k in VOT_TAGS:
            if len(meta[k]) not in (0, len(names)):
                raise InputError(f"{json_path}: video {name!r}: tag {k!r} has {len(meta[k])} entries for "
                                 f"{len(names)} frames")
            tags[k] = list(meta[k])
    absent = None
    if "absent" in meta:
        absent = [int(a) for a in meta["absent"]]
        if len(absent) != len(names):
            raise InputError(f"{json_path}: video {name!r}: 'absent' has {len(absent)} entries for "
                             f"{len(names)} frames")
    attr = meta.get("attr") or []
    return Video(name=name, img_files=files, gt=gt, init_rect=list(meta["init_rect"] or []),
                 attr=list(attr), tags=tags, absent=absent)




def _read_regions(path: Path, video: str) -> list[list[float]]:
    rows = []
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"video {video!r}: cannot read {path}: {exc}") from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            values = parse_numbers(line)
        except ValueError:
            raise InputError(f"video {video!r} frame {i}: {path.name} line is not numbers: {line[:60]!r}") from None
        rows.append(_region(values, video, i, path.name))
    if not rows:
        raise InputError(f"video {video!r}: {path} holds no boxes")
    return rows


def load_sequence_folders(root: Path, name: str, protocol: str, split: str | None = None) -> Dataset:
    """OTB-style sequence folders under ``root`` (``index.json`` order and ``split`` when present)."""
    videos = []
    for folder in list_split(root, split):
        vname = folder.name
        img_dir = folder / "img"
        if not img_dir.is_dir():
            raise InputError(f"video {vname!r}: no img/ folder in {folder}")
        files = sorted(p for p in img_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        poly = folder / "groundtruth_polygon.txt"
        rect = folder / "groundtruth_rect.txt"
        gt_path = poly if protocol == "reset" and poly.is_file() else rect
        if not gt_path.is_file():
            raise InputError(f"video {vname!r}: no {gt_path.name} in {folder}")
        gt = _read_regions(gt_path, vname)
        if not files:
            raise InputError(f"video {vname!r}: no images in {img_dir}")
        if len(gt) != len(files):
            raise InputError(f"video {vname!r}: {gt_path.name} has {len(gt)} rows for {len(files)} images")
        videos.append(Video(name=vname, img_files=files, gt=gt, init_rect=list(gt[0])))
    return Dataset(name=name, root=root, videos=videos, source=root, protocol=protocol)


def load_dataset(name: str, root: str | Path, protocol: str | None = None,
                 split: str | None = None) -> Dataset:
    """Read ``<root>/<name>.json`` (or ``<name>_new.json``), else OTB-style sequence folders under ``root``."""
    root = Path(root).expanduser().resolve()
    protocol = protocol or default_protocol(name)
    if protocol not in PROTOCOLS:
        raise InputError(f"unknown protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}")
    if not root.is_dir():
        raise InputError(f"dataset root not found: {root}")
    json_path = next((p for p in (root / f"{name}.json", root / f"{name}_new.json") if p.is_file()), None)
    if json_path is None:
        if (root / "index.json").is_file() or any((p / "img").is_dir() for p in root.iterdir()):
            ds = load_sequence_folders(root, name, protocol, split)
        else:
            raise InputError(f"dataset {name}: neither {root / (name + '.json')} nor OTB-style sequence "
                             f"folders (<video>/img/, groundtruth_rect.txt) in {root}")
    else:
        if split is not None:
            raise InputError(f"--split selects sequences of an index.json; {json_path} is a pysot JSON")
        try:
            meta = json.loads(json_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read dataset file {json_path}: {exc}") from None
        if not isinstance(meta, dict):
            raise InputError(f"{json_path} must hold an object mapping video names to their entries")
        videos = []
        for k, v in meta.items():
            try:
                videos.append(_load_json_video(root, name, str(k), v, protocol, json_path))
            except (TypeError, ValueError) as exc:       # a field of the wrong type (a number for a list...)
                raise InputError(f"cannot read dataset file {json_path}: video {str(k)!r}: malformed entry "
                                 f"({type(exc).__name__}: {exc})") from None
        ds = Dataset(name=name, root=root, videos=videos, source=json_path, protocol=protocol)
    if not ds.videos:
        raise InputError(f"dataset {name} ({ds.source}) has no videos")
    return ds


# ------------------------------------------------------------------------------------------ results

def result_files(results_dir: str | Path, tracker: str, video: str, layout: str) -> dict[str, Path]:
    """Paths of one video's result files; ``results_dir`` is ``<results>/<DATASET>``."""
    base = Path(results_dir) / tracker
    if layout == "ope":
        return {"boxes": base / f"{video}.txt"}
    if layout == "baseline":
        return {"boxes": base / "baseline" / video / f"{video}_001.txt"}
    if layout == "got10k":
        d = base / video
        return {"boxes": d / f"{video}_001.txt", "time": d / f"{video}_time.txt"}
    if layout == "longterm":
        d = base / "longterm" / video
        return {"boxes": d / f"{video}_001.txt", "confidence": d / f"{video}_001_confidence.value",
                "time": d / f"{video}_time.txt"}
    raise ValueError(f"unknown layout {layout!r}")


def format_ope_line(entry: Sequence[float]) -> str:
    """pysot's one-pass line: the numbers joined with ``,``, each written with ``str()``."""
    return ",".join(str(v) for v in entry)


def format_reset_line(entry) -> str:
    """pysot's reset-based line: an ``int`` code as ``%d``, a box as ``%.4f`` values."""
    if isinstance(entry, int):
        return "%d" % entry
    return ",".join("%.4f" % float(v) for v in entry)


def write_lines(path: Path, lines: Sequence[str]) -> None:
    write_text_whole(path, "".join(line + "\n" for line in lines))


def read_trajectory(path: str | Path) -> list[list[float]]:
    """Parse a result file as pysot-toolkit does (``line.strip().split(',')``, ``float`` each value).

    Blank or malformed lines raise :class:`InputError` naming the file and the frame (line) number.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise InputError(f"result file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read result file {path}: {exc}") from None
    out = []
    for i, line in enumerate(lines, 1):
        try:
            out.append([float(v) for v in line.strip().split(",")])
        except ValueError:
            raise InputError(f"{path}, frame {i}: not comma-separated numbers: {line[:60]!r}") from None
    return out


def vot_run_files(results_dir: str | Path, tracker: str, video: str) -> list[Path]:
    """A VOT video's runs: pysot-toolkit's ``baseline/<video>/*0*.txt``, all 15 when there are 15, else the
    first (we sort the names, where pysot-toolkit takes the file system's order)."""
    files = sorted((Path(results_dir) / tracker / "baseline" / video).glob("*0*.txt"))
    return files if len(files) == 15 else files[:1]
