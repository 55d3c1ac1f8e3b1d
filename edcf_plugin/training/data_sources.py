"""Training data sources by kind: ``--data KIND:PATH`` specs and the dataset each entry of a recipe's ``data`` builds.

The one place that knows every kind (:mod:`.datasets` readers and :mod:`.synthetic` videos), so neither of those
modules imports the other's users.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .datasets import GOT10k, ImageNetVID, LaSOT, OTBFolders, TrackDataset
from .synthetic import SyntheticTracks

# ----------------------------------------------------------------------------------------- specs

DATASET_KINDS = ("otb", "vid", "got10k", "lasot", "synthetic")


def parse_data_spec(spec: str) -> dict:
    """``KIND:PATH`` (``otb:../shared/data/sequences``, ``vid:/data/ILSVRC2015``, ``got10k:/data/got10k``,
    ``lasot:/data/LaSOT``) or ``synthetic[:NUM_TRACKS]`` -> a dataset entry dict."""
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in DATASET_KINDS:
        raise ConfigError(f"unknown dataset kind {kind!r} in --data {spec!r}; valid: {', '.join(DATASET_KINDS)} "
                          f"(form KIND:PATH)")
    if kind == "synthetic":
        entry = {"kind": "synthetic"}
        if rest:
            try:
                entry["num_tracks"] = int(rest)
            except ValueError:
                raise ConfigError(f"--data synthetic:N needs an integer, got {rest!r}") from None
        return entry
    if not rest:
        raise ConfigError(f"--data {spec!r} needs a path: {kind}:PATH")
    return {"kind": kind, "root": rest}


def build_dataset(entry: dict, cache_dir: str | Path | None = None, exclude: list[str] | None = None,
                  seed: int = 0) -> TrackDataset:
    """Instantiate one dataset entry (``{"kind": ..., "root": ..., options...}``; ``weight`` is ignored here)."""
    entry = dict(entry)
    kind = entry.pop("kind", None)
    entry.pop("weight", None)
    try:
        if kind == "otb":
            entry.setdefault("split", "train")
            excl = list(entry.pop("exclude", []) or []) + list(exclude or [])
            return OTBFolders(exclude=excl, **entry)
        if kind == "vid":
            return ImageNetVID(cache_dir=cache_dir, **entry)
        if kind == "got10k":
            return GOT10k(cache_dir=cache_dir, **entry)
        if kind == "lasot":
            return LaSOT(cache_dir=cache_dir, **entry)
        if kind == "synthetic":
            entry.setdefault("seed", seed)
            if entry.get("real_images"):        # held-out sequences stay out of the real images too
                entry["exclude"] = list(entry.get("exclude") or []) + list(exclude or [])
            return SyntheticTracks(**entry)
    except TypeError as exc:
        raise ConfigError(f"bad options for dataset {kind!r}: {exc}") from None
    raise ConfigError(f"unknown dataset kind {kind!r}; valid: {', '.join(DATASET_KINDS)}")
