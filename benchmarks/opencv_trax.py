"""An OpenCV tracker (CSRT by default) as a TraX server: the peer of the VOT-toolkit run in `vot_model.sh`.

Registered in that run's workspace `trackers.ini` as `protocol = traxpython`, `command = opencv_trax`, `paths =
<this folder>`; the tracker is `EDCF_OPENCV_TRACKER` (CSRT, KCF, MOSSE or MIL; cv2 with the contrib trackers) and
OpenCV's thread count `EDCF_THREADS` (default 2). It answers through the package's TraX server loop, so requests,
replies and exit statuses are the EDCF entries' own; on a frame where OpenCV reports a failure the previous box
is answered (edcf bench's OpenCV wrapper).
"""
from __future__ import annotations

import os
import sys

from edcf_plugin.commands.bench import OpenCVTracker
from edcf_plugin.errors import EDCFError
from edcf_plugin.toolkits.trax_server import log, serve


def main() -> int:
    import cv2

    name = os.environ.get("EDCF_OPENCV_TRACKER", "CSRT")
    cv2.setNumThreads(int(os.environ.get("EDCF_THREADS", "2")))
    try:
        tracker = OpenCVTracker(name)
    except EDCFError as exc:
        log(f"error: {exc}")
        return 2
    return serve(tracker, name=name)


sys.exit(main())      # traxpython imports this module: it must serve on import
