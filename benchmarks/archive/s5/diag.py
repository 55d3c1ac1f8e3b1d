"""Diagnostic: which single-pass approximation costs accuracy. DIAG=cf|sem|both replaces the single-pass
response of that branch by the reference (3-crop) response; the CF update still uses the single-pass features."""
import os, sys
from edcf_plugin.tracker import EDCFTracker
import train.evaluate as ev

mode = os.environ["DIAG"]
orig = EDCFTracker._responses_single_pass

def patched(self, image, cx, cy, x_side, w, h):
    f, g, det = orig(self, image, cx, cy, x_side, w, h)
    sides = x_side * self._scales.numpy()
    fr, gr = self._responses_crops(image, cx, cy, sides)
    if mode in ("cf", "both"):
        g = gr
    if mode in ("sem", "both"):
        f = fr
    return f, g, det

EDCFTracker._responses_single_pass = patched
sys.exit(ev.main(sys.argv[1:]))
