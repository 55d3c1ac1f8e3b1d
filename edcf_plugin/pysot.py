"""The pysot interface: the tracker class pysot's ``tools/test.py`` drives, and ``python -m edcf_plugin.pysot``, the
``test.py``-compatible runner. The class lives in :mod:`edcf_plugin.toolkits.pysot_tracker`, the runner in
:mod:`edcf_plugin.toolkits.pysot_runner`; this module is the public name for both::

    from edcf_plugin.pysot import EDCFPysotTracker
"""
from .toolkits.pysot_tracker import EDCFPysotTracker, axis_aligned_box, pysot_init_box, rect_to_vot_polygon

__all__ = ["EDCFPysotTracker", "axis_aligned_box", "pysot_init_box", "rect_to_vot_polygon"]

if __name__ == "__main__":
    import sys

    from .toolkits.pysot_runner import main

    sys.exit(main())
