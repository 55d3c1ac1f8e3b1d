"""Reading sequences: OTB-style folders, plain frame folders, video files, and ``index.json`` splits.

An OTB-style folder holds ``img/00000001.jpg ...`` and ``groundtruth_rect.txt`` (one 1-based ``x,y,w,h``
line per frame; commas, tabs or spaces). Boxes returned here are internal 0-based (docs/ARCHITECTURE.md).
"""
from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..boxes import from_one_based
from ..errors import InputError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def read_image(path: str | Path) -> np.ndarray:
    """Read an image as BGR uint8 H x W x 3 (grayscale files are expanded). InputError names the path."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise InputError(f"cannot decode image (corrupt or not an image): {path}")
    if path.suffix.lower() in (".jpg", ".jpeg") and not _has_jpeg_end(path):
        # libjpeg decodes what is there (the rest grey) and only prints a line of its own: say which file
        warnings.warn(f"truncated JPEG (no end-of-image marker), tracked as decoded: {path}", stacklevel=2)
    return image


def ensure_output_dir(folder: str | Path) -> Path:
    """Create ``folder`` if needed and check that a file can be written in it: an InputError naming it now, before
    any tracking, instead of lost results at the end."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".edcf_write_probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"cannot write results to {folder}: {exc.strerror or exc}") from None
    return folder


def write_text_whole(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temporary file beside it, renamed over it, so an
    interrupted or failed write (disk full) leaves no half-written file to be taken as finished. A device, a pipe
    or a link is written in place. Raises OSError."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        with open(path, "w") as fh:
            fh.write(text)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_output(path: str | Path, text: str, what: str = "results") -> None:
    """:func:`write_text_whole` for a command's output file: a failed write (disk full, no permission, ...) is an
    InputError naming ``what`` and the path, and leaves no partial file."""
    try:
        write_text_whole(path, text)
    except OSError as exc:
        raise InputError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None


def _has_jpeg_end(path: Path) -> bool:
    """Whether the file's last bytes hold the JPEG end-of-image marker (FF D9; trailing padding allowed)."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - 256))
        return b"\xff\xd9" in fh.read()


def write_otb_sequence(folder: str | Path, frames, boxes, *, quality: int = 95) -> Path:
    """Write an OTB-style sequence folder: ``img/00000001.jpg ...`` and the 1-based ``groundtruth_rect.txt`` of the
    package's 0-based ``[x, y, w, h]`` boxes (one line per box; fewer boxes than frames is allowed)."""
    folder = Path(folder)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames, 1):
        if not cv2.imwrite(str(folder / "img" / f"{i:08d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, quality]):
            raise InputError(f"cannot write {folder / 'img'}")
    lines = [f"{b[0] + 1:g},{b[1] + 1:g},{b[2]:g},{b[3]:g}" for b in np.asarray(boxes, dtype=np.float64)]
    write_text_whole(folder / "groundtruth_rect.txt", "".join(line + "\n" for line in lines))
    return folder


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Accept H x W, H x W x 1, H x W x 3 or H x W x 4 uint8 (or float 0..255) and return BGR uint8 H x W x 3."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2BGR) if image.dtype == np.uint8 \
            else np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError(f"image must be H x W, H x W x 1, H x W x 3 or H x W x 4, got shape {image.shape}")
    if image.dtype != np.uint8:
        if not np.all(np.isfinite(image)):
            raise InputError("image contains NaN or infinite values")
        image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


_SPLIT = re.compile(r"[,\s;]+")


def parse_numbers(text: str) -> list[float]:
    """The numbers of an annotation line (or a whole file of them): fields separated by commas, tabs, spaces,
    semicolons or newlines, the one reading every annotation format here shares. ValueError for a field that is
    not a number."""
    return [float(p) for p in _SPLIT.split(text.strip()) if p]


def parse_box_line(line: str) -> list[float] | None:
    """One annotation line -> its numbers (an 8-value polygon becomes its axis-aligned ``x, y, w, h``);
    None when a field is not a number. Separators: commas, tabs, spaces or semicolons."""
    try:
        values = parse_numbers(line)
    except ValueError:
        return None
    if len(values) == 8:
        pts = np.asarray(values).reshape(4, 2)
        values = [pts[:, 0].min(), pts[:, 1].min(), np.ptp(pts[:, 0]), np.ptp(pts[:, 1])]
    return values


def parse_box_lines(text: str, source: str = "annotation") -> np.ndarray:
    """Parse ``x,y,w,h`` lines (commas, tabs or spaces) into an N x 4 float array; NaN lines are kept.

    Lines with 8 values (a polygon) become their axis-aligned bounds. Other malformed lines raise InputError
    naming the file and line.
    """
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        values = parse_box_line(line)
        if values is None:
            raise InputError(f"{source}, line {lineno}: not numbers: {line[:60]!r}")
        if len(values) != 4:
            raise InputError(f"{source}, line {lineno}: expected 4 values x,y,w,h, got {len(values)}")
        rows.append(values)
    if not rows:
        raise InputError(f"{source} holds no boxes")
    return np.asarray(rows, dtype=np.float64)


def list_frames(folder: Path) -> list[Path]:
    frames = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    return frames


@dataclass
class Sequence:
    """A sequence of frames with optional ground truth (internal 0-based boxes, NaN rows for absent)."""

    name: str
    frames: list[Path] = field(default_factory=list)
    groundtruth: np.ndarray | None = None
    video: Path | None = None       # set for video files: frames are decoded on the fly
    one_based: bool = True          # the convention of the source annotation (for writing results back)

    def __len__(self) -> int:
        return len(self.frames) if self.video is None else self._video_length()

    def _video_length(self) -> int:
        cap = cv2.VideoCapture(str(self.video))
        try:
            if not cap.isOpened():
                raise InputError(f"cannot open video (corrupt, empty or an unsupported codec): {self.video}")
            return max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)     # some containers report -1 or 0
        finally:
            cap.release()

    def images(self) -> Iterator[np.ndarray]:
        """Yield BGR uint8 frames in order."""
        if self.video is None:
            for path in self.frames:
                yield read_image(path)
            return
        cap = cv2.VideoCapture(str(self.video))
        if not cap.isOpened():
            raise InputError(f"cannot open video (corrupt, empty or an unsupported codec): {self.video}")
        decoded = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                decoded += 1
                yield frame
        finally:
            cap.release()
        if decoded == 0:
            raise InputError(f"no frame could be decoded from video {self.video}")


def load_groundtruth(path: Path, one_based: bool = True) -> np.ndarray:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read annotation {path}: {exc}") from None
    boxes = parse_box_lines(text, source=str(path))
    return from_one_based(boxes) if one_based else boxes


def index_entry(folder: str | Path) -> dict:
    """What the dataset says of a sequence folder: its ``meta.json`` (when it has one) updated by its entry in the
    parent's ``index.json``; empty when neither exists or they cannot be read."""
    folder = Path(folder)
    entry: dict = {}
    for path, pick in ((folder / "meta.json", None), (folder.parent / "index.json", folder.name)):
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if pick is None and isinstance(data, dict):
            entry.update({k: data[k] for k in ("kind", "frame_step") if k in data})
        elif pick is not None and isinstance(data, list):
            entry.update(next((e for e in data if isinstance(e, dict) and e.get("name") == pick), {}))
    return entry


def is_crops_sequence(folder: str | Path) -> bool:
    """Whether a folder holds target-centred training crops (``kind: crops``), not a video to track."""
    return index_entry(folder).get("kind") == "crops"


def load_sequence(source: str | Path) -> Sequence:
    """Open an OTB-style folder, a plain folder of frames, or a video file (never a ``kind: crops`` folder)."""
    source = Path(source)
    if source.is_file() and source.suffix.lower() in VIDEO_EXTENSIONS:
        seq = Sequence(name=source.stem, video=source)
        len(seq)                                     # InputError now if the video cannot be opened at all
        return seq
    if not source.exists():
        raise InputError(f"sequence not found: {source}")
    if not source.is_dir():
        raise InputError(f"not a sequence folder or a video file ({', '.join(VIDEO_EXTENSIONS)}): {source}")
    if is_crops_sequence(source):
        raise InputError(f"{source} holds target-centred training crops (kind: crops), one window and scale per "
                         f"image: it is training data for pairs, not a video to track")
    img_dir = source / "img" if (source / "img").is_dir() else source
    frames = list_frames(img_dir)
    if not frames:
        raise InputError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {img_dir}")
    gt = None
    gt_path = source / "groundtruth_rect.txt"
    if gt_path.is_file():
        gt = load_groundtruth(gt_path, one_based=True)
        if len(gt) > len(frames):
            raise InputError(f"{gt_path} has {len(gt)} boxes but {img_dir} only {len(frames)} frames")
        if len(gt) < len(frames):
            frames = annotated_frames(source.name, frames, len(gt), gt_path)
    return Sequence(name=source.name, frames=frames, groundtruth=gt)


#: OTB-100 sequences whose annotation starts after the first image of their img/ folder (the benchmark's own
#: sequence configuration: startFrame). The others with extra images (Football1, Freeman3, Freeman4, Diving)
#: are annotated from frame 1 on.
OTB_FIRST_FRAME = {"David": 300, "BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18}


def annotated_frames(name: str, frames: list[Path], n_boxes: int, gt_path: Path) -> list[Path]:
    """The frames an annotation shorter than the image folder covers: from the OTB start frame of ``name``
    (numbered image names) or else from the first image; says which with a warning."""
    start = 0
    first = OTB_FIRST_FRAME.get(name)
    if first is not None:
        numbers = [int(p.stem) if p.stem.isdigit() else None for p in frames]
        if first in numbers and numbers.index(first) + n_boxes <= len(frames):
            start = numbers.index(first)
    kept = frames[start:start + n_boxes]
    warnings.warn(f"{gt_path} has {n_boxes} boxes for {len(frames)} images: tracking {kept[0].name} to "
                  f"{kept[-1].name}" + (f" (OTB {name} starts at frame {first})" if start else ""), stacklevel=3)
    return kept


def list_split(root: str | Path, split: str | None = None) -> list[Path]:
    """Sequence folders under ``root`` in ``index.json`` order, optionally only those of ``split``.

    Without ``index.json`` every sub-folder with an ``img/`` folder counts (``split`` must then be None).
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"dataset root not found: {root}")
    index = root / "index.json"
    if index.is_file():
        try:
            entries = json.loads(index.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{index} is not valid JSON: {exc}") from None
        names = [e["name"] for e in entries if split is None or e.get("split") == split]
        if split is not None and not names:
            splits = sorted({str(e.get('split')) for e in entries})
            raise InputError(f"{index} has no sequence in split {split!r}; splits: {', '.join(splits)}")
        return [root / n for n in names]
    if split is not None:
        raise InputError(f"{root} has no index.json, so split {split!r} cannot be selected")
    return sorted(p for p in root.iterdir() if (p / "img").is_dir())
