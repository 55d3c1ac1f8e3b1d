"""``edcf bench``: tracker names, the timing loop, aggregation over runs, the CLI end to end on generated
sequences, and memory staying flat over 10,000 frames."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import make_sequence
from edcf_plugin.formats.sequences import write_otb_sequence
from edcf_plugin.commands import bench
from edcf_plugin.checkpoint import default_weights
from edcf_plugin.cli import main
from edcf_plugin.errors import ConfigError
from edcf_plugin.machine import cpu_features

HAS_CONTRIB = hasattr(cv2, "TrackerCSRT_create") and hasattr(cv2, "TrackerKCF_create")
needs_contrib = pytest.mark.skipif(not HAS_CONTRIB, reason="cv2 lacks the contrib trackers (opencv-contrib-python)")


# ----------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize("text, name, kind, variant, preset", [
    ("EDCF-reference", "EDCF-reference", "edcf", "EDCF", "reference"),
    ("EDCF", "EDCF-reference", "edcf", "EDCF", "reference"),
    ("edcf-fast", "EDCF-fast", "edcf", "EDCF", "fast"),
    ("CACFNet+", "CACFNet+", "edcf", "CACFNet+", "reference"),
    ("SiamFC-realtime", "SiamFC-realtime", "edcf", "SiamFC", "realtime"),
    ("csrt", "CSRT", "opencv", None, None),
    ("MOSSE", "MOSSE", "opencv", None, None),
])
def test_parse_tracker(text, name, kind, variant, preset):
    assert bench.parse_tracker(text) == bench.BenchEntry(name, kind, variant, preset)


def test_a_tracker_may_name_its_own_checkpoint():
    spec = bench.parse_tracker("SiamFC@runs/ablation/SiamFC/best.pth")
    assert spec == bench.BenchEntry("SiamFC@SiamFC", "edcf", "SiamFC", "reference", "runs/ablation/SiamFC/best.pth")
    spec = bench.parse_tracker("EDCF-realtime@new=a/b.pth")
    assert (spec.name, spec.preset, spec.weights) == ("EDCF-realtime@new", "realtime", "a/b.pth")
    with pytest.raises(ConfigError, match="only EDCF trackers"):
        bench.parse_tracker("CSRT@x.pth")
    with pytest.raises(ConfigError, match="give a checkpoint"):
        bench.parse_tracker("EDCF@")


def test_unknown_tracker_lists_the_valid_names():
    with pytest.raises(ConfigError, match="CSRT.*MIL|valid"):
        bench.parse_tracker("TLD")


def test_the_dataset_root_comes_from_the_user_not_the_checkout(monkeypatch, capsys):
    monkeypatch.delenv(bench.ROOT_ENV, raising=False)
    assert bench.default_root() is None
    assert main(["bench", "--trackers", "CACFNet"]) == 2
    assert f"${bench.ROOT_ENV}" in capsys.readouterr().err
    monkeypatch.setenv(bench.ROOT_ENV, "/nonexistent/sequences")
    assert bench.default_root() == Path("/nonexistent/sequences")
    assert main(["bench", "--trackers", "CACFNet"]) == 2
    assert "not found: /nonexistent/sequences" in capsys.readouterr().err


def test_opencv_provenance_names_the_installed_distribution_of_the_cv2_binary():
    info = bench.opencv_provenance()
    assert info["cv2_binary_from"] is None or info["cv2_binary_from"] in info["opencv_distributions"]
    assert ("CSRT" in info["opencv_trackers"]) == HAS_CONTRIB


# ------------------------------------------------------------------------------------------ timing loop
class ScriptedTracker:
    """Returns scripted boxes; reports failure (``ok`` False) on the given frames."""

    def __init__(self, fail_on=()):
        self.fail_on = set(fail_on)
        self.i = 0

    def init(self, image, box):
        self.i = 0

    def update(self, image):
        self.i += 1
        return np.array([self.i, 2.0 * self.i, 10, 10]), self.i not in self.fail_on


def test_track_frames_records_boxes_failures_and_rss():
    frames = [np.zeros((8, 8, 3), np.uint8)] * 6
    run = bench.track_frames(ScriptedTracker(fail_on={3, 4}), frames, np.array([0.0, 0, 10, 10]))
    assert run.boxes.shape == (6, 4)
    assert np.allclose(run.boxes[0], [0, 0, 10, 10]) and np.allclose(run.boxes[5], [5, 10, 10, 10])
    assert run.ok.tolist() == [True, True, True, False, False, True]
    assert (run.seconds >= 0).all() and len(run.seconds) == 6
    if bench.current_rss() is not None:
        assert (run.rss > 0).all()


class FailingCV:
    """Stands in for a cv2 tracker: follows for two updates, then fails (and returns zeros, as OpenCV does)."""

    def __init__(self):
        self.n = 0

    def init(self, image, rect):
        self.rect = rect

    def update(self, image):
        self.n += 1
        if self.n <= 2:
            x, y, w, h = self.rect
            return True, (x + self.n, y, w, h)
        return False, (0, 0, 0, 0)


def test_opencv_wrapper_rounds_the_init_box_and_keeps_the_last_box_on_failure(monkeypatch):
    monkeypatch.setattr(bench, "opencv_factory", lambda name: FailingCV)
    t = bench.OpenCVTracker("KCF")
    t.init(None, [10.4, 20.6, 30.5, 0.2])
    assert t.box.tolist() == [10, 21, 30, 1]          # integer cv::Rect, at least 1 px
    assert bench.track_frames(t, [None], [10.4, 20.6, 30.5, 0.2]).boxes[0].tolist() == [10, 21, 30, 1]
    t.init(None, [10.4, 20.6, 30.5, 0.2])
    boxes = [t.update(None) for _ in range(4)]
    assert [ok for _, ok in boxes] == [True, True, False, False]
    assert boxes[1][0].tolist() == [12, 21, 30, 1]
    assert boxes[3][0].tolist() == [12, 21, 30, 1]    # not OpenCV's 0,0,0,0


def test_missing_contrib_tracker_is_a_config_error_with_the_fix(monkeypatch):
    monkeypatch.setitem(bench.OPENCV_TRACKERS, "CSRT", "NoSuchTracker_create")
    with pytest.raises(ConfigError, match="opencv-contrib-python"):
        bench.opencv_factory("CSRT")


# ------------------------------------------------------------------------------------------ aggregation
def _raw(gt, shift: float, track_s: float, profile=None):
    boxes = gt.copy()
    boxes[1:, 0] += shift
    seq = {"boxes": boxes.tolist(), "track_s": track_s, "init_s": 0.1 * track_s, "decode_s": 0.5, "frames": len(gt),
           "peak_rss_mb": 100.0, "failures": 0, "first_failure": None, "recovered": False,
           "first_update_unchanged": False, "profile": profile}
    return {"startup_s": 1.0, "sequences": {"S": seq}, "net_s": {"low_level": 0.2}}


def test_aggregate_takes_medians_over_runs_and_flags_run_to_run_differences():
    gt = np.tile([[20.0, 20, 10, 10]], (10, 1))
    prof = {"crop": 0.1, "encoder": 0.3, "cf_response": 0.05, "fusion": 0.05, "cf_update": 0.2}
    results = [_raw(gt, 0.0, 1.0, prof), _raw(gt, 20.0, 0.5, prof), _raw(gt, 5.0, 2.0, prof)]
    agg = bench.aggregate("X", results, {"S": gt})
    assert agg["runs"] == 3
    assert agg["fps"] == pytest.approx(10.0)            # frames / seconds: 10, 20, 5 -> median 10
    assert (agg["fps_min"], agg["fps_max"]) == (pytest.approx(5.0), pytest.approx(20.0))
    assert agg["fps_e2e"] == pytest.approx(10 / 1.5)    # decode time added
    aucs = sorted(agg["auc_runs"])
    assert aucs[0] < aucs[1] < aucs[2] and agg["auc"] == pytest.approx(aucs[1])
    # The plotted curve is the median run's: its mean is the tabled AUC.
    assert 100 * np.mean(agg["success_curve"]) == pytest.approx(agg["auc"])
    assert agg["identical_across_runs"] is False
    assert bench.aggregate("X", results[:1] * 2, {"S": gt})["identical_across_runs"] is True
    st = agg["stages_ms"]
    assert st["encoder"] == pytest.approx(30.0, rel=1e-6)      # 0.3 s over 10 frames
    assert st["total"] == pytest.approx(100.0)                 # median run (1.0 s)
    assert st["other"] == pytest.approx(st["total"] - sum(st[k] for k in (*bench.EDCF_STAGES, "init")))


def test_rss_growth():
    assert bench.rss_growth(np.array([50, 100, 101, 104, 102]), warmup=1) == pytest.approx(0.04)
    with pytest.raises(ValueError):
        bench.rss_growth(np.array([1, 2]), warmup=5)


# -------------------------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def bench_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench_root")
    for name, seed in (("Alpha", 0), ("Beta", 1)):
        frames, boxes = make_sequence(n=12, size=(120, 160), obj=(30, 24), seed=seed)
        write_otb_sequence(root / name, frames, boxes)
    (root / "index.json").write_text(json.dumps([
        {"name": "Alpha", "split": "bench"}, {"name": "Beta", "split": "bench"}, {"name": "Gamma", "split": "train"}]))
    return root


@needs_contrib
def test_bench_cli_writes_table_json_plots_and_boxes(bench_root, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["bench", "--root", str(bench_root), "--split", "bench", "--trackers", "EDCF-fast,CACFNet,CSRT,KCF",
               "--runs", "2", "--variant-runs", "1", "--threads", "1", "--startup-runs", "0", "--out", str(out)])
    assert rc == 0
    report = json.loads((out / "results.json").read_text())
    assert report["sequences"] == ["Alpha", "Beta"] and report["frames"] == 24 and report["threads"] == 1
    t = report["trackers"]
    assert list(t) == ["EDCF-fast", "CACFNet", "CSRT", "KCF"]
    assert [t[k]["runs"] for k in t] == [2, 1, 2, 2]
    for name, r in t.items():
        assert 0 < r["fps"] and 0 < r["fps_e2e"] <= r["fps"] * 1.0001, name
        assert r["fps_min"] <= r["fps"] <= r["fps_max"]
        assert 0 <= r["auc"] <= 100 and r["startup_s"] > 0, name
        assert len(r["success_curve"]) == 21 and len(r["precision_curve"]) == 51
    # An easy generated scene: EDCF and CSRT follow the target.
    assert t["EDCF-fast"]["auc"] > 50 and t["CSRT"]["auc"] > 50 and t["EDCF-fast"]["dp20"] > 90
    assert "stages_ms" in t["EDCF-fast"] and "stages_ms" not in t["CSRT"]
    st = t["EDCF-fast"]["stages_ms"]
    assert st["encoder"] > 0 and st["cf_update"] > 0 and st["net:fine_from_low"] > 0
    assert sum(st[k] for k in bench.EDCF_STAGES) < st["total"]
    # Every run in its own process: two runs, two start-up measurements.
    assert len(report["raw"]["CSRT"]) == 2 and all(r["startup_s"] > 0 for r in report["raw"]["CSRT"])
    assert report["raw"]["EDCF-fast"][0]["threads"] == {"cv2": 1, "torch": 1}
    assert report["machine"]["cpu"] and report["load_average_1min"]["max"] >= 0
    features = cpu_features()
    assert [report["machine"][f"cpu_{k}"] for k in ("amx", "avx512_bf16", "capability")] == \
        [features[k] for k in ("amx", "avx512_bf16", "capability")]
    table = (out / "table.md").read_text()
    for name in t:
        assert f"| {name} |" in table
    assert "| sequence | EDCF-fast | CACFNet | CSRT | KCF |" in table
    for png in ("success.png", "precision.png"):
        img = cv2.imread(str(out / png))
        assert img is not None and img.shape[0] > 100
    lines = (out / "boxes" / "run2" / "CSRT" / "Beta.txt").read_text().splitlines()
    assert len(lines) == 12
    first = np.array([float(v) for v in lines[0].split(",")])
    gt0 = np.array([float(v) for v in (bench_root / "Beta" / "groundtruth_rect.txt").read_text().split()[0]
                    .split(",")])
    assert np.allclose(first, np.round(gt0 - [1, 1, 0, 0]) + [1, 1, 0, 0])   # rounded init box, 1-based
    assert "EDCF-fast" in capsys.readouterr().out


def test_bench_cli_errors(bench_root, tmp_path, capsys):
    assert main(["bench", "--root", str(tmp_path / "nowhere"), "--trackers", "EDCF"]) == 2
    assert "dataset root not found" in capsys.readouterr().err
    assert main(["bench", "--root", str(bench_root), "--trackers", "EDCF,TLD"]) == 2
    assert "unknown tracker 'TLD'" in capsys.readouterr().err
    assert main(["bench", "--root", str(bench_root), "--split", "val", "--trackers", "EDCF"]) == 2
    assert "no sequence in split 'val'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ memory
MEMORY_SCRIPT = textwrap.dedent("""
    import json, sys
    import cv2, numpy as np, torch
    from edcf_plugin.commands.bench import rss_growth, track_frames
    from edcf_plugin.networks import EDCFNet, NetConfig
    from edcf_plugin.tracking.tracker import EDCFTracker

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    n, warmup, leak = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

    class Frames:
        '''n small frames (48 x 64) made on demand: a bright square circling on a textured background.'''
        def __init__(self, n):
            rng = np.random.default_rng(0)
            self.n = n
            self.bg = cv2.resize(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (64, 48))
        def __len__(self):
            return self.n
        def __getitem__(self, i):
            f = self.bg.copy()
            x, y = int(26 + 8 * np.cos(i / 20)), int(18 + 6 * np.sin(i / 20))
            f[y:y + 12, x:x + 12] = (40, 220, 250)
            return f

    class Leaky(EDCFTracker):
        '''The same tracker, but it keeps 64 KiB per frame: the check must catch this.'''
        kept = []
        def update(self, image):
            self.kept.append(np.ones(64 * 1024, np.uint8))
            return super().update(image)

    cls = Leaky if leak else EDCFTracker
    net = EDCFNet(NetConfig(width=0.125, embed_channels=16, fine_channels=4))
    tracker = cls(variant="CACFNet", net=net, overrides={"search_size": 47, "scale_num": 1})
    frames = Frames(n)
    run = track_frames(tracker, frames, np.array([26.0, 26, 12, 12]))
    print(json.dumps({"growth": rss_growth(run.rss, warmup), "rss0": int(run.rss[warmup]),
                      "last": run.boxes[-1].tolist(), "frames": len(run.boxes)}))
""")


def _memory_run(n: int, warmup: int, leak: bool) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(n), str(warmup), str(int(leak))],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(bench.current_rss() is None, reason="RSS sampling needs /proc/self/statm (Linux)")
def test_memory_stays_flat_over_10000_frames():
    """< 5 % RSS growth after a 1,000-frame warm-up over a 10,000-frame generated sequence (issue 6, item 4).
    A fresh process (the pytest process's own allocations would blur the baseline); tiny CACFNet for speed."""
    r = _memory_run(10_000, 1_000, leak=False)
    assert r["frames"] == 10_000
    assert np.all(np.isfinite(r["last"]))
    assert r["growth"] < 0.05, f"RSS grew {100 * r['growth']:.1f} % after warm-up (from {r['rss0'] >> 20} MiB)"


@pytest.mark.skipif(bench.current_rss() is None, reason="RSS sampling needs /proc/self/statm (Linux)")
def test_memory_check_catches_a_leak():
    """The same check on a tracker that keeps 64 KiB per frame (~ 60 MiB over 1,000 frames) fails it."""
    r = _memory_run(1_100, 100, leak=True)
    assert r["growth"] > 0.05


# ------------------------------------------------------------------------------------ jittered starts, pairs
def test_jitter_offsets_and_pairs():
    assert [bench.jitter_offset(r, 2) for r in range(5)] == [(0, 0), (2, 0), (0, 2), (-2, 0), (0, -2)]
    assert bench.jitter_offset(len(bench.JITTER_PATTERN), 3) == (0, 0)            # the pattern cycles
    names = ["EDCF-reference", "EDCF-fast", "CSRT"]
    assert bench.parse_pairs("edcf-fast:csrt,EDCF:EDCF-fast", names) == [("EDCF-fast", "CSRT"),
                                                                        ("EDCF-reference", "EDCF-fast")]
    with pytest.raises(ConfigError, match="not in --trackers"):
        bench.parse_pairs("EDCF-fast:KCF", names)
    with pytest.raises(ConfigError, match="A:B"):
        bench.parse_pairs("EDCF-fast", names)
    a, b = {"auc_runs": [50.0, 40.0, 60.0]}, {"auc_runs": [45.0, 41.0, 52.0, 70.0]}
    d = bench.paired_difference(a, b)                    # only the runs both have: 5, -1, 8
    assert d["runs"] == 3 and d["diffs"] == [5.0, -1.0, 8.0] and d["mean"] == pytest.approx(4.0)
    assert d["sd"] == pytest.approx(np.std([5, -1, 8], ddof=1)) and d["se"] == pytest.approx(d["sd"] / np.sqrt(3))
    assert (d["min"], d["max"]) == (-1.0, 8.0)


def test_bench_cli_init_jitter_moves_each_runs_start_and_pairs_runs(bench_root, tmp_path):
    out = tmp_path / "jit"
    rc = main(["bench", "--root", str(bench_root), "--trackers", "EDCF-fast,CACFNet-fast", "--runs", "3",
               "--threads", "1", "--startup-runs", "0", "--init-jitter", "2", "--pairs", "CACFNet-fast:EDCF-fast",
               "--out", str(out)])
    assert rc == 0
    report = json.loads((out / "results.json").read_text())
    assert report["init_jitter"] == 2 and report["init_offsets"] == [[0, 0], [2, 0], [0, 2]]
    gt0 = np.array([float(v) for v in (bench_root / "Alpha" / "groundtruth_rect.txt").read_text().split()[0]
                    .split(",")])
    for run, (dx, dy) in enumerate(report["init_offsets"], 1):
        first = (out / "boxes" / f"run{run}" / "EDCF-fast" / "Alpha.txt").read_text().splitlines()[0]
        assert np.allclose([float(v) for v in first.split(",")], gt0 + [dx, dy, 0, 0])   # 1-based both
    t = report["trackers"]
    for name in t:
        assert t[name]["auc_mean"] == pytest.approx(np.mean(t[name]["auc_runs"]))
        assert t[name]["auc_sd"] == pytest.approx(np.std(t[name]["auc_runs"], ddof=1))
    (pair,) = report["pairs"]
    assert (pair["a"], pair["b"], pair["runs"]) == ("CACFNet-fast", "EDCF-fast", 3)
    assert pair["diffs"] == pytest.approx(np.subtract(t["CACFNet-fast"]["auc_runs"], t["EDCF-fast"]["auc_runs"]))
    table = (out / "table.md").read_text()
    assert "AUC mean ± SD" in table and "| CACFNet-fast − EDCF-fast | 3 |" in table and "run 2: (2, 0)" in table
    assert main(["bench", "--root", str(bench_root), "--trackers", "EDCF-fast", "--init-jitter", "-1"]) == 2


def test_bench_resume_reuses_only_the_same_finished_runs(bench_root, tmp_path, capsys):
    """--resume reruns nothing that is already in --out for the same job, and everything that differs."""
    out = tmp_path / "resume"
    base = ["bench", "--root", str(bench_root), "--trackers", "CACFNet-fast", "--threads", "1",
            "--startup-runs", "0", "--init-jitter", "1", "--out", str(out)]
    assert main([*base, "--runs", "1"]) == 0
    first = json.loads((out / "results.json").read_text())["raw"]["CACFNet-fast"][0]
    capsys.readouterr()
    assert main([*base, "--runs", "2", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "CACFNet-fast run 1: reused" in printed and "CACFNet-fast run 2: reused" not in printed
    assert main([*base[:-2], "--runs", "1", "--resume"]) == 2                     # resume what? --out needed
    assert "--resume needs --out" in capsys.readouterr().err
    report = json.loads((out / "results.json").read_text())
    assert report["trackers"]["CACFNet-fast"]["runs"] == 2
    assert (report["reused_runs"], report["total_runs"]) == (1, 2)
    assert "1 of 2 tracker runs reused" in (out / "table.md").read_text()
    assert report["raw"]["CACFNet-fast"][0]["startup_s"] == first["startup_s"]      # the stored run, not a new one
    assert (out / "boxes" / "run1" / "CACFNet-fast" / "Alpha.txt").is_file()
    # The same frames and weights spelt by other paths (a relative root, a copy of the weights) are the same job.
    copy = tmp_path / "weights_copy.pth"
    shutil.copyfile(default_weights("CACFNet"), copy)
    rel_root = os.path.relpath(bench_root)
    assert main(["bench", "--root", rel_root, "--trackers", "CACFNet-fast", "--threads", "1", "--startup-runs", "0",
                 "--init-jitter", "1", "--weights", str(copy), "--out", str(out), "--runs", "2", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "CACFNet-fast run 1: reused" in printed and "CACFNet-fast run 2: reused" in printed
    # Run 2 starts elsewhere with --init-jitter 2 (run 1 starts unmoved either way): only run 1 is the same job.
    assert main([*base[:-4], "--init-jitter", "2", "--out", str(out), "--runs", "2", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "CACFNet-fast run 1: reused" in printed and "CACFNet-fast run 2: reused" not in printed


def test_bench_resume_reruns_what_a_change_of_the_tracker_code_could_have_changed(bench_root, tmp_path, capsys,
                                                                                   monkeypatch):
    """The same job spec after an edit of the package (or another torch) is another measurement: nothing reused."""
    import edcf_plugin.commands.bench as bench

    out = tmp_path / "code"
    args = ["bench", "--root", str(bench_root), "--trackers", "CACFNet-fast", "--threads", "1", "--startup-runs", "0",
            "--out", str(out), "--runs", "1", "--resume"]
    assert main(args) == 0
    stored = json.loads((out / "jobs" / "run1" / "CACFNet-fast.json").read_text())["spec"]
    assert stored["code_sha256"] == bench.package_code_sha256() and len(stored["code_sha256"]) == 64
    assert stored["library"].startswith("torch ")
    capsys.readouterr()
    assert main(args) == 0
    assert "CACFNet-fast run 1: reused" in capsys.readouterr().out                  # unchanged code: reused
    monkeypatch.setattr(bench, "package_code_sha256", lambda: "0" * 64)
    assert main(args) == 0
    assert "CACFNet-fast run 1: reused" not in capsys.readouterr().out              # edited package: run again
    monkeypatch.undo()
    monkeypatch.setattr(bench, "_library_version", lambda kind: "torch 0.0")
    assert main(args) == 0
    assert "CACFNet-fast run 1: reused" not in capsys.readouterr().out              # another torch: run again


def test_package_code_hash_follows_the_sources(tmp_path, monkeypatch):
    """The code hash changes with a source file's bytes and with its name, and with nothing else in the tree."""
    import edcf_plugin.commands.bench as bench

    pkg = tmp_path / "pkg"
    (pkg / "commands").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "commands" / "bench.py").write_text("y = 2\n")
    monkeypatch.setattr(bench, "__file__", str(pkg / "commands" / "bench.py"))

    def digest():
        bench.package_code_sha256.cache_clear()
        return bench.package_code_sha256()

    first = digest()
    (pkg / "notes.txt").write_text("not code")
    assert digest() == first
    (pkg / "a.py").write_text("x = 2\n")
    second = digest()
    assert second != first
    (pkg / "a.py").rename(pkg / "b.py")
    assert digest() != second
    bench.package_code_sha256.cache_clear()


def test_cpu_features_name_the_model_and_the_bf16_instruction_sets(tmp_path, monkeypatch):
    """The CPU record of bench results and training runs: the model from /proc/cpuinfo, torch's AMX and AVX-512
    BF16 probes (they decide which bf16 kernels run); "unknown" when nothing names the CPU."""
    import torch
    from edcf_plugin import machine
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: Test\nmodel name\t: Test CPU 9000\nflags\t: fpu\n")
    monkeypatch.setattr(machine, "Path", lambda _: cpuinfo)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    features = machine.cpu_features()
    assert features == {"cpu": "Test CPU 9000", "amx": True, "avx512_bf16": False,
                        "capability": torch.backends.cpu.get_cpu_capability()}
    monkeypatch.setattr(machine, "Path", lambda _: tmp_path / "absent")
    monkeypatch.setattr(machine.platform, "processor", lambda: "")
    assert machine.cpu_model() == "unknown"
