"""A ready, offline VOT toolkit workspace (``edcf vot-workspace``, :mod:`edcf_plugin.commands.vot_workspace`).

The workspace holds ``config.yaml`` (stack + registry), the stack file, a ``trackers.ini`` registering EDCF and its
ablation variants, the marker ``.edcf-vot-workspace`` (``--force`` replaces only a folder that holds it), and
``sequences/`` in the VOT format::

    sequences/list.txt
    sequences/<Name>/sequence          channels.color=color/%08d.jpg, fps, width, height, length
    sequences/<Name>/color/00000001.jpg ...
    sequences/<Name>/groundtruth.txt   0-based x,y,w,h (or the 8-value VOT polygon when the source has one)
    sequences/<Name>/anchor.value      multistart anchors: 1 = run forward, -1 = run backward, 0 = none

Sources: OTB-style folders (``<Name>/img/*.jpg``, 1-based ``groundtruth_rect.txt``, optional 0-based
``groundtruth_polygon.txt``, optional ``index.json`` with splits), or a VOT-format dataset folder (``list.txt``),
whose sequences are taken as they are (anchors are added when missing). With ``sequences/list.txt`` present
``vot evaluate`` never tries to download anything.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from ..errors import InputError

#: Stacks shipped with the package (``edcf_plugin/toolkits/vot_stacks/<name>.yaml``).
STACK_DIR = Path(__file__).resolve().parent / "vot_stacks"
DEFAULT_STACK = "edcf_vot"
#: The TraX server module the registry starts (``python -m edcf_plugin.trax``).
SERVER_MODULE = "edcf_plugin.trax"
LINK_MODES = ("copy", "symlink", "hardlink")
#: Written into every workspace this command builds; ``--force`` deletes only a folder that holds it.
MARKER = ".edcf-vot-workspace"

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]+$")


# ----------------------------------------------------------------------------------------------- registry
def tracker_identifiers() -> dict:
    """VOT identifier -> variant, for every variant (``CACFNet+`` is registered as ``CACFNet_plus``)."""
    from ..config import VARIANT_ALIASES, VARIANTS

    identifiers = {}
    for variant in VARIANTS:
        if _IDENTIFIER.match(variant):
            identifiers[variant] = variant
            continue
        aliases = [a for a, v in VARIANT_ALIASES.items() if v == variant and _IDENTIFIER.match(a)]
        if not aliases:
            raise AssertionError(f"variant {variant!r} has no identifier-safe alias in VARIANT_ALIASES")
        identifiers[aliases[0]] = variant
    return identifiers


#: Presets registered as their own VOT trackers, besides one entry per variant: (identifier, variant identifier,
#: preset, label). EDCF with the single-pass bf16 paths (config.PRESETS) for the real-time experiment: "realtime"
#: (CF update every frame) and "fast" (CF re-solved every 2nd frame); and the bundled model's CF branch alone at the
#: fast preset, the one that keeps CSRT's speed on CPUs without AMX (BENCHMARKS.md section 1).
REGISTERED_PRESETS = (
    ("EDCF-realtime", "EDCF", "realtime", "EDCF (realtime preset)"),
    ("EDCF-fast", "EDCF", "fast", "EDCF (fast preset)"),
    ("CACFNet_plus-fast", "CACFNet_plus", "fast", "CACFNet+ (fast preset: EDCF's CF branch, CPUs without AMX)"),
)


def trackers_ini() -> str:
    """The ``trackers.ini`` text: one ``traxpython`` entry per variant, EDCF first.

    Nothing in it depends on where the toolkit runs: the command is a module of the installed package, and the
    variant travels as an environment variable. Device, weights and thread count are left to the caller's
    environment (``EDCF_DEVICE``, ``EDCF_WEIGHTS``, ``EDCF_THREADS``), which the toolkit passes on.
    """
    identifiers = tracker_identifiers()
    order = sorted(identifiers, key=lambda k: (k != "EDCF", k))
    lines = ["; VOT toolkit registry for the EDCF plugin, written by `edcf vot-workspace` (the copy at the",
             "; repository root is the same text). The Python that runs `vot` needs edcf-plugin with its [vot]",
             "; extra. Device, weights and threads come from EDCF_DEVICE, EDCF_WEIGHTS and EDCF_THREADS in the",
             "; environment of `vot` (default: cpu, the bundled model, torch's default thread count).", ""]
    for identifier in order:
        variant = identifiers[identifier]
        lines += [f"[{identifier}]",
                  f"label = {variant}",
                  "protocol = traxpython",
                  f"command = {SERVER_MODULE}",
                  f"env_EDCF_VARIANT = {identifier}",
                  "tags = edcf",
                  ""]
    for identifier, variant, name, label in REGISTERED_PRESETS:
        lines += [f"[{identifier}]",
                  f"label = {label}",
                  "protocol = traxpython",
                  f"command = {SERVER_MODULE}",
                  f"env_EDCF_VARIANT = {variant}",
                  f"env_EDCF_PRESET = {name}",
                  "tags = edcf",
                  ""]
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------- stacks
def available_stacks() -> list:
    return sorted(p.stem for p in STACK_DIR.glob("*.yaml"))


def resolve_stack(stack: str) -> Path:
    """A shipped stack name (``edcf_vot``, ``edcf_baseline``, ...) or a path to a stack YAML file."""
    path = Path(stack).expanduser()
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path.resolve()
    shipped = STACK_DIR / f"{stack}.yaml"
    if shipped.is_file():
        return shipped
    raise InputError(f"unknown stack {stack!r}: not a file, and not one of {', '.join(available_stacks())}")


# ----------------------------------------------------------------------------------------------- sequences
def read_polygons(path: Path) -> np.ndarray:
    """A 0-based VOT polygon file (8 values a line, commas or whitespace) -> N x 8 array."""
    from ..formats.sequences import parse_numbers

    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            values = parse_numbers(line)
        except ValueError:
            raise InputError(f"{path}, line {lineno}: not numbers: {line[:60]!r}") from None
        if len(values) != 8:
            raise InputError(f"{path}, line {lineno}: expected 8 polygon values, got {len(values)}")
        rows.append(values)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 8)


def anchors(length: int, spacing: int) -> list:
    """VOT2020-style anchors: frame 0 runs forward; then one anchor every ``spacing`` frames, run in the
    direction that leaves the longer part of the sequence (forward ``1``, backward ``-1``; ``0`` elsewhere)."""
    values = [0] * length
    if length == 0:
        return values
    values[0] = 1
    for i in range(spacing, length - 1, spacing):
        values[i] = 1 if (length - i) >= (i + 1) else -1
    return values


def _format_row(values: Iterable[float]) -> str:
    return ",".join("nan" if math.isnan(v) else f"{v:.4f}".rstrip("0").rstrip(".") for v in values)


def _place(src: Path, dst: Path, mode: str) -> None:
    if mode == "symlink":
        dst.symlink_to(src.resolve())
    elif mode == "hardlink":
        try:
            os.link(src, dst)
        except OSError:                          # another file system: fall back to a copy
            shutil.copy2(src, dst)
    else:
        shutil.copy2(src, dst)


def _write_properties(path: Path, values: dict) -> None:
    path.write_text("".join(f"{k}={v}\n" for k, v in sorted(values.items())))


def otb_to_vot_sequence(src: Path, dst: Path, link: str, fps: int, anchor_spacing: int,
                       max_frames: Optional[int] = None) -> int:
    """Convert one OTB-style folder into a VOT sequence folder; returns the number of frames."""
    import cv2

    from ..formats.sequences import load_sequence

    seq = load_sequence(src)
    if seq.groundtruth is None:
        raise InputError(f"{src} has no groundtruth_rect.txt")
    frames = list(seq.frames)
    boxes = seq.groundtruth                      # 0-based, NaN rows = target absent
    polygon_file = src / "groundtruth_polygon.txt"
    rows = read_polygons(polygon_file) if polygon_file.is_file() else boxes
    if len(rows) < len(frames):
        raise InputError(f"{polygon_file} has {len(rows)} lines for {len(frames)} frames")
    n = len(frames) if max_frames is None else min(len(frames), max_frames)
    if n < 2:
        raise InputError(f"{src}: a VOT sequence needs at least 2 frames, got {n}")
    frames, rows = frames[:n], rows[:n]
    if not np.all(np.isfinite(rows[0])):
        raise InputError(f"{src}: the target is absent (NaN) in the first frame; VOT needs it there")
    extension = frames[0].suffix.lower()
    if any(f.suffix.lower() != extension for f in frames):
        raise InputError(f"{src}: frames mix file types; VOT needs one name pattern")
    probe = cv2.imread(str(frames[0]), cv2.IMREAD_UNCHANGED)
    if probe is None:
        raise InputError(f"cannot decode image (corrupt or not an image): {frames[0]}")
    height, width = probe.shape[:2]

    color = dst / "color"
    color.mkdir(parents=True)
    for i, frame in enumerate(frames, 1):
        _place(frame, color / f"{i:08d}{extension}", link)
    (dst / "groundtruth.txt").write_text("".join(_format_row(r) + "\n" for r in rows))
    (dst / "anchor.value").write_text("".join(f"{v}\n" for v in anchors(n, anchor_spacing)))
    _write_properties(dst / "sequence", {"name": src.name, "format": "default", "fps": fps,
                                         "channels.color": f"color/%08d{extension}", "channel.default": "color",
                                         "width": width, "height": height, "length": n})
    return n


def copy_vot_sequence(src: Path, dst: Path, link: str, anchor_spacing: int) -> int:
    """Take a VOT-format sequence folder as it is (linked or copied), adding ``anchor.value`` when missing."""
    if not src.is_dir():
        raise InputError(f"sequence folder listed in list.txt not found: {src}")
    if link == "symlink":
        dst.symlink_to(src.resolve(), target_is_directory=True)
        length = _vot_length(src)
        if not (src / "anchor.value").is_file():
            raise InputError(f"{src} has no anchor.value; use --link copy or hardlink so that anchors can be added")
        return length
    if link == "hardlink":
        shutil.copytree(src, dst, copy_function=lambda s, d: _place(Path(s), Path(d), "hardlink"))
    else:
        shutil.copytree(src, dst)
    length = _vot_length(dst)
    if not (dst / "anchor.value").is_file():
        (dst / "anchor.value").write_text("".join(f"{v}\n" for v in anchors(length, anchor_spacing)))
    return length


def _vot_length(folder: Path) -> int:
    gt = folder / "groundtruth.txt"
    if not gt.is_file():
        raise InputError(f"{folder} has no groundtruth.txt")
    return sum(1 for line in gt.read_text().splitlines() if line.strip())


def select_sources(root: Path, split: Optional[str], names: Optional[list]) -> tuple:
    """(kind, [folders]) for a dataset root: ``vot`` when it has ``list.txt``, else ``otb``."""
    from ..formats.sequences import list_split

    if not root.is_dir():
        raise InputError(f"sequences folder not found: {root}")
    if (root / "list.txt").is_file():
        if split is not None:
            raise InputError(f"{root} is a VOT dataset (list.txt); --split needs an index.json (OTB-style source)")
        listed = [line.strip() for line in (root / "list.txt").read_text().splitlines() if line.strip()]
        kind, folders = "vot", [root / n for n in listed]
    else:
        kind, folders = "otb", list_split(root, split)
        if not folders:
            raise InputError(f"no sequence folders (<Name>/img/) in {root}")
    if names:
        known = {f.name: f for f in folders}
        missing = [n for n in names if n not in known]
        if missing:
            raise InputError(f"sequences not found in {root}: {', '.join(missing)}")
        folders = [known[n] for n in names]
    return kind, folders


# --------------------------------------------------------------------------------------------------- build
def _write_workspace(out: Path, root: Path, kind: str, folders: list, stack_file: Path, link: str, fps: int,
                     anchor_spacing: int, max_frames: Optional[int]) -> dict:
    seq_dir = out / "sequences"
    seq_dir.mkdir(parents=True)
    lengths = {}
    for folder in folders:
        if kind == "vot":
            lengths[folder.name] = copy_vot_sequence(folder, seq_dir / folder.name, link, anchor_spacing)
        else:
            lengths[folder.name] = otb_to_vot_sequence(folder, seq_dir / folder.name, link, fps, anchor_spacing,
                                                      max_frames)
    (seq_dir / "list.txt").write_text("".join(f"{name}\n" for name in lengths))
    shutil.copyfile(stack_file, out / stack_file.name)
    (out / "trackers.ini").write_text(trackers_ini())
    (out / "results").mkdir()
    (out / MARKER).write_text("VOT workspace written by `edcf vot-workspace`; `--force` may replace this folder\n")
    (out / "config.yaml").write_text(f"# VOT toolkit workspace written by `edcf vot-workspace` from {root}\n"
                                     f"stack: {stack_file.name}\n"
                                     "registry:\n- ./trackers.ini\n")
    return lengths


def build_workspace(out, sequences, split: Optional[str] = None, names: Optional[list] = None,
                    stack: str = DEFAULT_STACK, link: str = "copy", fps: int = 30, anchor_spacing: int = 50,
                    max_frames: Optional[int] = None, force: bool = False) -> dict:
    """Write a complete VOT workspace to ``out``; returns a summary (sequence names and frame counts)."""
    out = Path(out).expanduser().resolve()
    root = Path(sequences).expanduser().resolve()
    if link not in LINK_MODES:
        raise InputError(f"--link must be one of {', '.join(LINK_MODES)}, got {link!r}")
    if int(fps) != fps or fps < 1:                # the toolkit reads `fps` as an integer
        raise InputError(f"--fps must be a positive whole number, got {fps}")
    fps = int(fps)
    if anchor_spacing < 1:
        raise InputError(f"--anchor-spacing must be at least 1, got {anchor_spacing}")
    if max_frames is not None and max_frames < 2:
        raise InputError(f"--max-frames must be at least 2, got {max_frames}")
    stack_file = resolve_stack(stack)
    kind, folders = select_sources(root, split, names)
    if out.exists() and any(out.iterdir()):
        if not force:
            raise InputError(f"{out} exists and is not empty (use --force to replace a workspace)")
        if not (out / MARKER).is_file():
            raise InputError(f"{out} is not a VOT workspace written by edcf vot-workspace (no {MARKER} file); "
                             f"refusing to delete it: remove it yourself or choose another folder")
    # Build next to OUT and move it into place at the end: a failed build leaves nothing half-written.
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o777 & ~umask)            # mkdtemp's 0700 would stay on the finished workspace
    try:
        lengths = _write_workspace(partial, root, kind, folders, stack_file, link, fps, anchor_spacing, max_frames)
        if out.exists():
            shutil.rmtree(out)
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return {"workspace": str(out), "stack": stack_file.stem, "source": kind, "sequences": lengths}


def stack_notes(stack_file: Path, shortest: int) -> list[str]:
    """What a user should know before reading this workspace's figures: EAO on sequences shorter than its lower
    length bound, and the real-time experiment run with a slow entry."""
    import yaml

    experiments = (yaml.safe_load(Path(stack_file).read_text()) or {}).get("experiments", {}) or {}
    lows = [a["low"] for e in experiments.values() for a in (e or {}).get("analyses", []) or []
            if isinstance(a, dict) and "eao" in str(a.get("type", "")) and "low" in a]
    notes = []
    if lows and shortest < min(lows):
        notes.append(f"note: EAO averages expected overlaps over sequence lengths from {min(lows)} frames on; the "
                     f"shortest sequence here has {shortest}, so EAO can come out nan or 0.000 (with numpy "
                     f"warnings): this workspace checks that the pipeline runs; read accuracy and robustness")
    if "realtime" in experiments and len(experiments) > 1:
        notes.append("note: the realtime experiment scores the entry's speed: evaluate EDCF-realtime for it, or "
                     "use --stack edcf_accuracy for EDCF and --stack edcf_realtime for EDCF-realtime (docs/vot.md)")
    return notes
