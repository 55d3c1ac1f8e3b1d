"""The public name of the tracker: ``from edcf_plugin.tracker import build_tracker, EDCFTracker``.

The tracker lives in :mod:`edcf_plugin.tracking.tracker`; this module keeps the name every user and config knows.
"""
from .config import TrackerConfig
from .tracking.tracker import EDCFTracker, build_tracker, resolve_device

__all__ = ["EDCFTracker", "TrackerConfig", "build_tracker", "resolve_device"]
