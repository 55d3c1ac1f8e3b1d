"""Memory on long runs with the bundled model (issue 21 item 1): the resident size stays flat and the tracker's
caches stay bounded, on the reference and realtime presets, in a fresh process set up as the entry points set
themselves up. The full 10,000-frame soak on a real sequence is ``benchmarks/memory_soak.py`` (BENCHMARKS.md)."""
import json
import math
import subprocess
import sys
import textwrap

import pytest

from edcf_plugin.commands.bench import current_rss

SCRIPT = textwrap.dedent("""
    import json, sys
    from edcf_plugin.process_setup import process_setup
    process_setup()
    import cv2, numpy as np, torch
    from edcf_plugin.commands.bench import current_rss
    from edcf_plugin.config import preset
    from edcf_plugin.tracking.tracker import CACHE_ENTRIES, build_tracker

    torch.set_num_threads(2)
    cv2.setNumThreads(1)
    preset_name, n = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(0)
    background = cv2.resize(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8), (160, 120))

    def frame(i):
        '''A textured 160 x 120 scene; the target circles and breathes (its size, and so the CF's Gaussian
        target, changes all the time: keys that depend on it must not pile up).'''
        f = background.copy()
        side = int(round(18 + 6 * np.sin(i / 37)))
        x, y = int(70 + 30 * np.cos(i / 25)), int(52 + 20 * np.sin(i / 25))
        f[y - side // 2:y + side // 2, x - side // 2:x + side // 2] = (40, 220, 250)
        return f

    tracker = build_tracker("EDCF", None, "cpu", overrides=preset(preset_name))
    tracker.init(frame(0), [61, 43, 18, 18])
    rss, cache, boxes, peak, seen = {}, 0, [], 0, set()
    for i in range(1, n):
        box, _ = tracker.update(frame(i))
        boxes.append([float(v) for v in box])
        cache = max(cache, len(tracker._cache))
        seen.update(tracker._cache.keys())
        peak = max(peak, current_rss())             # every frame: the tracker trims the heap every 50 frames
        if (i + 1) % 100 == 0:
            rss[i + 1], peak = peak, 0
    print(json.dumps({"rss": rss, "cache_max": cache, "cache_limit": CACHE_ENTRIES, "keys_seen": len(seen),
                      "graphs": len(getattr(tracker.responses, "graphs", {})), "last": boxes[-1]}))
""")


@pytest.mark.skipif(current_rss() is None, reason="RSS sampling needs /proc/self/statm (Linux)")
@pytest.mark.parametrize("preset_name", ["reference", "realtime"])
def test_rss_flat_and_caches_bounded_over_600_frames(preset_name):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, preset_name, "600"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    rss = {int(k): v for k, v in r["rss"].items()}
    base, later = rss[200], max(v for k, v in rss.items() if k > 200)
    growth = later / base - 1.0
    assert growth < 0.05, f"RSS grew {100 * growth:.1f} % from frame 200 ({base >> 20} MiB) to {later >> 20} MiB"
    assert r["cache_max"] <= r["cache_limit"] and r["graphs"] <= 16
    assert all(math.isfinite(v) for v in r["last"])           # finite boxes: the run really tracked


def test_constant_cache_keeps_the_newest_entries_whatever_the_target_sizes():
    """The Gaussian targets are keyed by the target's size (to 3 decimals of sigma): a long run whose target keeps
    changing size makes new keys all the time (issue 21: 15 -> 33 entries over 10,000 frames, without end)."""
    from edcf_plugin.networks import EDCFNet, NetConfig
    from edcf_plugin.tracking.tracker import CACHE_ENTRIES, BoundedCache, EDCFTracker

    tracker = EDCFTracker(variant="CACFNet", net=EDCFNet(NetConfig(width=0.125, embed_channels=16, fine_channels=4)))
    for k in range(200):
        tracker._target(32, 32, 4.0 + 0.05 * k, 6.0, band=True)      # its spectrum and its band: 2 keys each
    assert len(tracker._cache) == CACHE_ENTRIES
    newest = tracker._target(32, 32, 4.0 + 0.05 * 199, 6.0, spectrum=True)
    assert tracker._target(32, 32, 4.0 + 0.05 * 199, 6.0, spectrum=True) is newest   # kept and reused
    assert len(tracker._cache) == CACHE_ENTRIES
    c = BoundedCache(2)
    c["a"], c["b"] = 1, 2
    assert c["a"] == 1                                               # a read is a use: "b" is now the oldest
    c["c"] = 3
    assert list(c) == ["a", "c"]
    import copy
    import pickle
    for twin in (c.copy(), copy.deepcopy(c), pickle.loads(pickle.dumps(c))):
        assert list(twin.items()) == [("a", 1), ("c", 3)] and twin.limit == 2
