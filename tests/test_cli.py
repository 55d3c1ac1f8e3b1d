"""`edcf track` / `edcf demo` through the installed console script, as a user runs them."""
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import make_sequence
from edcf_plugin.formats.sequences import write_otb_sequence
from edcf_plugin.boxes import iou
from edcf_plugin.formats.sequences import parse_box_lines

SUMMARY = re.compile(r"^frames=(\d+) fps=([\d.]+) fps_e2e=([\d.]+)( auc=([\d.]+) op50=([\d.]+) dp20=([\d.]+))?$")


def edcf(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "edcf_plugin.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


def summary(stdout: str) -> dict:
    line = stdout.strip().splitlines()[-1]
    m = SUMMARY.match(line)
    assert m, f"no summary line in {stdout!r}"
    keys = ["frames", "fps", "fps_e2e", None, "auc", "op50", "dp20"]
    return {k: float(v) for k, v in zip(keys, m.groups()) if k and v is not None}


def test_track_otb_folder_writes_boxes_and_summary(otb_folder, moving_sequence, tmp_path):
    out = tmp_path / "boxes.txt"
    res = edcf("track", otb_folder, "--out", out, "--variant", "EDCF", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    s = summary(res.stdout)
    frames, gt = moving_sequence
    assert s["frames"] == len(frames) and s["fps"] > 0 and s["auc"] > 40
    lines = out.read_text().splitlines()
    assert len(lines) == len(frames) and all("," in l and " " not in l for l in lines)
    boxes = np.array([[float(v) for v in l.split(",")] for l in lines])
    # same (1-based) convention as the input ground truth; first line = the init box
    np.testing.assert_allclose(boxes[0], parse_box_lines((otb_folder / "groundtruth_rect.txt").read_text())[0])
    assert np.nanmean(iou(boxes - [1, 1, 0, 0], gt)) > 0.5


def test_track_frame_folder_with_init_and_video(otb_folder, moving_sequence, tmp_path):
    frames, gt = moving_sequence
    video = tmp_path / "out.mp4"
    init = ",".join(str(v) for v in gt[0])
    res = edcf("track", otb_folder / "img", "--init", init, "--video", video, "--show-response",
               "--variant", "CACFNet", "--out", tmp_path / "b.txt")
    assert res.returncode == 0, res.stderr
    s = summary(res.stdout)
    assert "auc" not in s and s["frames"] == len(frames)
    cap = cv2.VideoCapture(str(video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(frames)
    boxes = np.loadtxt(tmp_path / "b.txt", delimiter=",")
    np.testing.assert_allclose(boxes[0], gt[0])         # 0-based in, 0-based out for a plain folder


def test_track_video_file(tmp_path, moving_sequence):
    frames, gt = moving_sequence
    path = tmp_path / "in.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (frames[0].shape[1], frames[0].shape[0]))
    for f in frames:
        writer.write(f)
    writer.release()
    res = edcf("track", path, "--init", ",".join(map(str, gt[0])), "--out", tmp_path / "v.txt")
    assert res.returncode == 0, res.stderr
    boxes = np.loadtxt(tmp_path / "v.txt", delimiter=",")
    assert len(boxes) == len(frames) and np.nanmean(iou(boxes, gt)) > 0.5


def test_redirected_log_has_the_summary_on_its_own_line(tmp_path):
    """`edcf track SEQ > log 2>&1`: no progress bar (no carriage returns) and `grep '^frames='` finds the
    summary; with --progress the bar is drawn into the log and the summary still starts a line."""
    frames, gt = make_sequence(n=60, size=(96, 128), obj=(24, 20), seed=3)      # >= 50 frames: a bar is due
    folder = write_otb_sequence(tmp_path / "Long", frames, gt)
    for extra in ([], ["--progress"]):
        log = tmp_path / "log.txt"
        with open(log, "w") as f:
            res = subprocess.run([sys.executable, "-m", "edcf_plugin.cli", "track", str(folder), "--variant",
                                  "CACFNet", *extra], stdout=f, stderr=subprocess.STDOUT, timeout=300)
        text = log.read_bytes().decode()              # as written: read_text() would turn \r into \n
        assert res.returncode == 0, text
        assert re.search(r"^frames=60 fps=", text, re.MULTILINE), repr(text)
        if extra:
            assert "\r" in text and "frame/s" in text        # the bar, as asked for
        else:
            assert "\r" not in text and text.splitlines()[-1].startswith("frames=60 "), repr(text)


def test_video_without_init_names_its_path(tmp_path, moving_sequence):
    frames, _ = moving_sequence
    folder = tmp_path / "clips"
    folder.mkdir()
    path = folder / "demo.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (frames[0].shape[1], frames[0].shape[0]))
    for f in frames[:3]:
        writer.write(f)
    writer.release()
    res = edcf("track", path, "--variant", "CACFNet")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"edcf: error: {path} is a video file: give the initial box with --init x,y,w,h" in res.stderr


def test_demo_preset_and_threads_reach_the_tracker(monkeypatch, tmp_path):
    """`edcf demo --preset NAME --threads N` builds the tracker as `edcf track` does with the same flags."""
    import edcf_plugin.tracking.tracker
    from edcf_plugin.cli import main
    from edcf_plugin.config import preset
    from edcf_plugin.errors import InputError

    seen = {}

    def fake_build(variant, weights, device, config=None, overrides=None, threads=None):
        seen.update(overrides=overrides, threads=threads)
        raise InputError("stop before tracking")

    monkeypatch.setattr(edcf_plugin.tracking.tracker, "build_tracker", fake_build)
    assert main(["demo", "--preset", "fast", "--threads", "1", "--video", str(tmp_path / "d.mp4")]) == 2
    assert seen == {"overrides": preset("fast"), "threads": 1}


def test_demo_writes_video(tmp_path):
    res = edcf("demo", "--video", tmp_path / "demo.mp4", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert summary(res.stdout.replace(f"video written to {tmp_path / 'demo.mp4'}", "").strip())["frames"] == 60
    assert (tmp_path / "demo.mp4").stat().st_size > 10_000


@pytest.mark.parametrize("make_args,pattern", [
    (lambda d: ["track", d / "nope"], "sequence not found"),
    (lambda d: ["track", d, "--init", "1,2,3"], "4 values"),
    (lambda d: ["track", d, "--init", "1,2,nan,4"], "NaN"),
    (lambda d: ["track", d, "--init", "900,900,5,5"], "outside"),
    (lambda d: ["track", d, "--variant", "Nope"], "unknown variant"),
    (lambda d: ["track", d, "--weights", d / "img" / "00000001.jpg"], "cannot read weights"),
    (lambda d: ["track", d, "--device", "cuda:7"], "CUDA is not available|cuda"),
    (lambda d: ["track", d, "--device", "bogus"], "unknown device 'bogus'"),
    (lambda d: ["track", d, "--out", d / "img"], "is a folder"),
    (lambda d: ["track", d, "--config", d], "cannot read config file"),
])
def test_user_errors_are_one_line(otb_folder, make_args, pattern):
    res = edcf(*make_args(otb_folder))
    assert res.returncode == 2
    err = res.stderr.strip().splitlines()
    assert err and "Traceback" not in res.stderr and re.search(pattern, err[-1]), res.stderr


def test_corrupt_and_missing_frames(otb_folder):
    (otb_folder / "img" / "00000005.jpg").write_bytes(b"garbage")
    res = edcf("track", otb_folder)
    assert res.returncode == 2 and "00000005.jpg" in res.stderr and "Traceback" not in res.stderr
    (otb_folder / "img" / "00000005.jpg").unlink()
    (otb_folder / "groundtruth_rect.txt").write_text("1,2,x,4\n")
    res = edcf("track", otb_folder)
    assert res.returncode == 2 and "line 1" in res.stderr


def test_unreadable_video_files(tmp_path):
    """A file with a video extension that is not a video (or is empty): one error line, before any tracking."""
    for content in (b"x\n", b""):
        path = tmp_path / "clip.mp4"
        path.write_bytes(content)
        res = edcf("track", path, "--init", "1,1,10,10")
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert f"cannot open video (corrupt, empty or an unsupported codec): {path}" in res.stderr


def test_results_path_is_checked_before_tracking(otb_folder):
    """A results file that cannot be created (here: its folder would be inside a file) stops the command before
    any frame is tracked, instead of losing the boxes at the end."""
    res = edcf("track", otb_folder, "--out", otb_folder / "img" / "00000001.jpg" / "b.txt")
    assert res.returncode == 2 and "cannot write results to" in res.stderr, res.stderr
    assert "frames=" not in res.stdout and "Traceback" not in res.stderr


def test_truncated_jpeg_is_tracked_with_a_warning(otb_folder):
    frame = otb_folder / "img" / "00000005.jpg"
    frame.write_bytes(frame.read_bytes()[: frame.stat().st_size // 2])
    res = edcf("track", otb_folder)
    assert res.returncode == 0, res.stderr
    assert f"edcf: warning: truncated JPEG (no end-of-image marker), tracked as decoded: {frame}" in res.stderr
    assert summary(res.stdout)["frames"] > 5


def test_short_annotation_is_reported_and_otb_start_frames_honoured(otb_folder, tmp_path):
    import warnings

    from edcf_plugin.formats.sequences import annotated_frames, load_sequence

    gt = otb_folder / "groundtruth_rect.txt"
    lines = gt.read_text().splitlines()
    gt.write_text("\n".join(lines[:6]) + "\n")
    with pytest.warns(UserWarning, match=r"has 6 boxes for \d+ images: tracking 00000001.jpg to 00000006.jpg"):
        seq = load_sequence(otb_folder)
    assert [f.name for f in seq.frames] == [f"{i:08d}.jpg" for i in range(1, 7)]
    res = edcf("track", otb_folder)
    assert res.returncode == 0 and "edcf: warning:" in res.stderr and summary(res.stdout)["frames"] == 6
    # OTB's David is annotated from image 300 of its 770 (the benchmark's own sequence configuration)
    frames = [tmp_path / f"{i:04d}.jpg" for i in range(1, 771)]
    with pytest.warns(UserWarning, match="OTB David starts at frame 300"):
        kept = annotated_frames("David", frames, 471, gt)
    assert kept[0].name == "0300.jpg" and kept[-1].name == "0770.jpg" and len(kept) == 471
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert annotated_frames("Football1", frames[:81], 74, gt)[0].name == "0001.jpg"    # annotated from 1


def test_real_bench_sequence(shared_sequences, tmp_path):
    res = edcf("track", shared_sequences / "Crossing", "--out", tmp_path / "b.txt", timeout=600)
    assert res.returncode == 0, res.stderr
    s = summary(res.stdout)
    assert s["frames"] == 120 and s["auc"] > 40
