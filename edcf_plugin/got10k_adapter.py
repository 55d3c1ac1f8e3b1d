"""The public name of the got10k interface: ``from edcf_plugin.got10k_adapter import EDCFGot10kTracker``.

The classes live in :mod:`edcf_plugin.toolkits.got10k`; this module keeps the name the docs and users know.
"""
from .toolkits.got10k import EDCFGot10kTracker, LocalExperiment, LocalSequences, pil_to_bgr

__all__ = ["EDCFGot10kTracker", "LocalExperiment", "LocalSequences", "pil_to_bgr"]
