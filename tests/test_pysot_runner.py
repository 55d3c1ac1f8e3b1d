"""edcf-pysot-test: pysot-toolkit result layouts, pysot's loops, the tracker interface and bad input.

Result files are parsed back exactly as pysot-toolkit does (``line.strip().split(',')``, ``float``).
Generated datasets are tiny (64x48 or 160x120 px, <= 16 frames) to keep the suite fast on a CPU.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import edcf_plugin
from edcf_plugin.errors import ConfigError, InputError
from edcf_plugin.pysot import EDCFPysotTracker, axis_aligned_box, pysot_init_box
from edcf_plugin.formats.pysot_datasets import load_dataset
from edcf_plugin.formats.generated_datasets import make_pysot_dataset, render
from edcf_plugin.toolkits.pysot_runner import main, run_dataset, run_ope
from edcf_plugin.formats.sequences import read_image

torch.set_num_threads(1)
ONE_SCALE = Path(__file__).resolve().parents[1] / "toolkit_configs" / "pysot" / "edcf_one_scale.yaml"


def pysot_parse(path: Path) -> list[list[float]]:
    """pysot-toolkit's reader (toolkit/datasets/video.py, load_tracker)."""
    with open(path) as f:
        return [list(map(float, x.strip().split(","))) for x in f.readlines()]


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------------- interface + boxes

def test_axis_aligned_box_of_rect_and_rotated_square():
    assert pysot_init_box([10, 20, 30, 40]) == [10.5, 20.5, 30, 40]
    r = 5 * np.sqrt(2)                       # a 10 x 10 square turned by 45 degrees around (50, 50)
    poly = [50, 50 - r, 50 + r, 50, 50, 50 + r, 50 - r, 50]
    cx, cy, w, h = axis_aligned_box(poly)
    assert (cx, cy) == pytest.approx((50, 50)) and (w, h) == pytest.approx((11, 11))   # area kept, +1
    assert pysot_init_box(poly) == pytest.approx([45, 45, 11, 11])


class FakeCore:
    """Stands in for EDCFTracker: records init boxes, returns a fixed numpy box and score."""
    def __init__(self):
        self.inits = []

    def init(self, image, box):
        self.inits.append(list(box))

    def update(self, image):
        return np.array([1.25, 2.5, 3.0, 4.0]), np.float32(0.75)


def test_tracker_interface_returns_plain_floats_and_half_pixel_convention():
    core = FakeCore()
    t = EDCFPysotTracker(tracker=core)
    t.init(np.zeros((8, 8, 3), np.uint8), [10.5, 20.5, 30, 40])
    assert core.inits == [[10.0, 20.0, 30.0, 40.0]]          # centre x + (w-1)/2 in pysot's reading
    out = t.track(np.zeros((8, 8, 3), np.uint8))
    assert out == {"bbox": [1.25, 2.5, 3.0, 4.0], "best_score": 0.75}
    assert all(type(v) is float for v in out["bbox"]) and type(out["best_score"]) is float


def test_static_target_is_reported_at_its_ground_truth(tmp_path):
    boxes = np.array([[20, 15, 12, 10]] * 4)
    files = []
    for i, img in enumerate(render(boxes, 64, 48)):
        import cv2
        files.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(files[-1]), img)
    from edcf_plugin.formats.pysot_datasets import Video
    run = run_ope(EDCFPysotTracker("EDCF"), Video("static", files, [[20, 15, 12, 10]] * 4))
    assert run.entries[0] == [20.5, 15.5, 12, 10]            # pysot's init box, written as given to init
    for box in run.entries[1:]:   # the half pixels cancel: centred on the gt (passing boxes through: +0.5)
        np.testing.assert_allclose([box[0] + box[2] / 2, box[1] + box[3] / 2], [26, 20], atol=0.2)
        np.testing.assert_allclose(box[2:], [12, 10], rtol=0.05)


# ------------------------------------------------------------------------------------ OPE layouts

def test_ope_cli_writes_pysot_layout(tmp_path, capsys):
    root = tmp_path / "OTB100"
    make_pysot_dataset(root, "OTB100", n_frames=8)
    results = tmp_path / "results"
    rc = main(["--tracker", "EDCF", "--dataset", "OTB100", "--dataset_root", str(root),
               "--results_dir", str(results), "--config", str(ONE_SCALE)])
    assert rc == 0
    out = results / "OTB100" / "EDCF"
    assert files_under(out) == {"dummyA.txt", "dummyB.txt", "run_info.json"}
    meta = json.loads((root / "OTB100.json").read_text())
    for video in ("dummyA", "dummyB"):
        text = (out / f"{video}.txt").read_text()
        assert text.endswith("\n") and "\n\n" not in text
        rows = pysot_parse(out / f"{video}.txt")
        gt = np.array(meta[video]["gt_rect"], dtype=float)
        assert len(rows) == len(gt) == 8 and all(len(r) == 4 for r in rows)
        assert text.splitlines()[0] == ",".join(str(v) for v in pysot_init_box(meta[video]["gt_rect"][0]))
        err = np.abs(np.array(rows)[1:, :2] - gt[1:, :2]).max()
        assert err < 3.0, f"{video}: tracked boxes drift {err:.1f} px from the ground truth"
    info = json.loads((out / "run_info.json").read_text())
    assert info["variant"] == "EDCF" and info["config"]["scale_num"] == 1 and len(info["videos"]) == 2
    assert "Video: dummyA" in capsys.readouterr().out
    # a later single-video run with the same settings keeps the other video's entry
    assert main(["--tracker", "edcf", "--dataset", "OTB100", "--dataset_root", str(root), "--video", "dummyB",
                 "--results_dir", str(results), "--config", str(ONE_SCALE)]) == 0
    info = json.loads((out / "run_info.json").read_text())
    assert [v["video"] for v in info["videos"]] == ["dummyA", "dummyB"]


def test_preset_flag_sets_the_tracker_config(tmp_path):
    """`edcf-pysot-test --preset NAME` tracks with edcf_plugin.config.PRESETS[NAME], as `edcf track --preset`."""
    from edcf_plugin.config import TrackerConfig, preset
    root = tmp_path / "OTB100"
    make_pysot_dataset(root, "OTB100", n_frames=4)
    assert main(["--tracker", "EDCF", "--dataset", "OTB100", "--dataset_root", str(root), "--video", "dummyA",
                 "--results_dir", str(tmp_path / "results"), "--preset", "realtime"]) == 0
    info = json.loads((tmp_path / "results" / "OTB100" / "EDCF" / "run_info.json").read_text())
    assert info["preset"] == "realtime"
    assert info["config"] == TrackerConfig().replace(**preset("realtime")).to_dict()
    assert len(pysot_parse(tmp_path / "results" / "OTB100" / "EDCF" / "dummyA.txt")) == 4


def test_pysot_config_files_are_named_after_what_they_are():
    """toolkit_configs/pysot/edcf_<preset>.yaml is that preset; edcf.yaml the defaults; the others say so."""
    from edcf_plugin.config import PRESETS, TrackerConfig
    folder = ONE_SCALE.parent
    for path in sorted(folder.glob("*.yaml")):
        cfg = TrackerConfig.from_yaml(path)
        name = path.stem[len("edcf_"):] if path.stem.startswith("edcf_") else None
        if path.stem == "edcf":
            assert cfg == TrackerConfig(), path
        elif name in PRESETS:
            assert cfg == TrackerConfig().replace(**PRESETS[name]), f"{path.name} is not the {name!r} preset"
    assert TrackerConfig.from_yaml(ONE_SCALE) == TrackerConfig(scale_num=1)


def test_interrupted_run_keeps_run_info_and_resume_tracks_only_the_rest(tmp_path, capsys, monkeypatch):
    from edcf_plugin.toolkits import pysot_runner as pysot_test
    root = tmp_path / "OTB100"
    make_pysot_dataset(root, "OTB100", n_frames=6)
    results = tmp_path / "results"
    out = results / "OTB100" / "EDCF"
    args = ["--tracker", "EDCF", "--dataset", "OTB100", "--dataset_root", str(root), "--results_dir", str(results),
            "--config", str(ONE_SCALE)]
    real_ope = pysot_test.run_ope

    def stop_at_b(tracker, video, vis=False):
        if video.name == "dummyB":
            raise KeyboardInterrupt
        return real_ope(tracker, video, vis)
    monkeypatch.setattr(pysot_test, "run_ope", stop_at_b)
    assert main(args) == 130                                  # Ctrl-C during the second video
    assert files_under(out) == {"dummyA.txt", "run_info.json"}  # no half-written file, provenance kept
    info = json.loads((out / "run_info.json").read_text())
    assert [v["video"] for v in info["videos"]] == ["dummyA"] and info["config"]["scale_num"] == 1
    stamp = (out / "dummyA.txt").stat().st_mtime_ns
    monkeypatch.setattr(pysot_test, "run_ope", real_ope)
    capsys.readouterr()
    assert main(args + ["--resume"]) == 0
    log = capsys.readouterr().out
    assert "resuming: 1 of 2 videos already tracked" in log and "Video: dummyB" in log and "Video: dummyA" not in log
    assert (out / "dummyA.txt").stat().st_mtime_ns == stamp     # not tracked again
    assert files_under(out) == {"dummyA.txt", "dummyB.txt", "run_info.json"}
    assert [v["video"] for v in json.loads((out / "run_info.json").read_text())["videos"]] == ["dummyA", "dummyB"]
    # Another set-up (the default config) does not take those results as its own: both tracked again.
    assert main(args[:-2] + ["--resume"]) == 0
    log = capsys.readouterr().out
    assert "resuming" not in log and "Video: dummyA" in log and "Video: dummyB" in log
    assert (out / "dummyA.txt").stat().st_mtime_ns != stamp


def test_got10k_resume_skips_videos_whose_files_exist(tmp_path, capsys):
    root = tmp_path / "GOT-10k"
    make_pysot_dataset(root, "GOT-10k", n_frames=5)
    args = ["--tracker", "EDCF", "--dataset", "GOT-10k", "--dataset_root", str(root), "--results_dir",
            str(tmp_path / "results"), "--config", str(ONE_SCALE)]
    assert main(args) == 0
    out = tmp_path / "results" / "GOT-10k" / "EDCF"
    (out / "dummyB" / "dummyB_time.txt").unlink()               # as if dummyB had not finished
    capsys.readouterr()
    assert main(args + ["--resume"]) == 0
    log = capsys.readouterr().out
    assert "resuming: 1 of 2" in log and "Video: dummyB" in log and "Video: dummyA" not in log
    assert files_under(out) == {f"{v}/{v}{s}" for v in ("dummyA", "dummyB") for s in ("_001.txt", "_time.txt")}


class Scripted:
    """A pysot-interface tracker that reports scripted boxes and records init calls. With ``video`` it
    recognises the frame index from the image, so the script and the records are per frame."""
    def __init__(self, script, video=None):
        self.script, self.inits, self.calls = script, [], 0
        self.frames = [read_image(f) for f in video.img_files] if video is not None else None

    def _index(self, img) -> int:
        if self.frames is None:
            self.calls += 1
            return self.calls - 1
        return next(i for i, f in enumerate(self.frames) if np.array_equal(f, img))

    def init(self, img, bbox):
        self.inits.append((self._index(img), list(bbox)))

    def track(self, img):
        return {"bbox": [float(v) for v in self.script(self._index(img))], "best_score": 0.5}


def test_got10k_layout_with_times(tmp_path):
    root = tmp_path / "GOT-10k"
    make_pysot_dataset(root, "GOT-10k", n_frames=5)
    ds = load_dataset("GOT-10k", root)
    fake = Scripted(lambda i: [1, 2, 3, 4])
    run_dataset(ds, tmp_path / "results", "EDCF", tracker_factory=lambda: fake, log=None)
    out = tmp_path / "results" / "GOT-10k" / "EDCF"
    assert files_under(out) == {f"{v}/{v}{s}" for v in ("dummyA", "dummyB") for s in ("_001.txt", "_time.txt")}
    for v in ("dummyA", "dummyB"):
        rows = pysot_parse(out / v / f"{v}_001.txt")
        assert len(rows) == 5 and rows[1:] == [[1.0, 2.0, 3.0, 4.0]] * 4
        times = (out / v / f"{v}_time.txt").read_text().splitlines()
        assert len(times) == 5 and all(len(t.split(".")[1]) == 6 and float(t) >= 0 for t in times)


def test_longterm_layout(tmp_path):
    root = tmp_path / "LT"
    make_pysot_dataset(root, "VOT2018-LT", n_frames=4, vot=False)
    run_dataset(load_dataset("VOT2018-LT", root), tmp_path / "r", "EDCF",
                tracker_factory=lambda: Scripted(lambda i: [1, 2, 3, 4]), log=None)
    d = tmp_path / "r" / "VOT2018-LT" / "EDCF" / "longterm" / "dummyA"
    assert pysot_parse(d / "dummyA_001.txt") == [[1.0]] + [[1.0, 2.0, 3.0, 4.0]] * 3
    conf = (d / "dummyA_001_confidence.value").read_text().split("\n")
    assert conf[0] == "" and conf[1] == "0.500000" and len((d / "dummyA_time.txt").read_text().split()) == 4


# -------------------------------------------------------------------------------------- VOT loop

def test_reset_loop_failure_skip_reinit_pattern(tmp_path):
    root = tmp_path / "VOT2018"
    make_pysot_dataset(root, "VOT2018", videos={"v": {"n_frames": 20}})
    ds = load_dataset("VOT2018", root)
    gt = ds["v"].gt

    def script(i):  # on target, except a far-away box at frames 4 and 12
        x0, y0 = gt[i][0], gt[i][1]
        return [x0 + 40, y0 + 30, 5, 5] if i in (4, 12) else [x0, y0, 12, 10]

    fake = Scripted(script, ds["v"])
    [summary] = run_dataset(ds, tmp_path / "results", "EDCF", tracker_factory=lambda: fake, log=None)
    path = tmp_path / "results" / "VOT2018" / "EDCF" / "baseline" / "v" / "v_001.txt"
    lines = path.read_text().splitlines()
    codes = [ln if "," not in ln else "box" for ln in lines]
    assert codes == ["1", "box", "box", "box", "2", "0", "0", "0", "0", "1", "box", "box", "2",
                     "0", "0", "0", "0", "1", "box", "box"]
    assert summary["lost"] == 2
    assert [f for f, _ in fake.inits] == [0, 9, 17]            # re-init 5 frames after each failure
    assert fake.inits[1][1] == pytest.approx(pysot_init_box(gt[9]))
    assert lines[1] == ",".join("%.4f" % v for v in script(1))
    assert all(len(r) in (1, 4) for r in pysot_parse(path))


def test_reset_loop_real_tracker_fails_on_a_jump(tmp_path):
    root = tmp_path / "VOT2016"
    make_pysot_dataset(root, "VOT2016", videos={"jump": {"n_frames": 14, "width": 160, "height": 120,
                                                        "jumps": [6]}})
    rc = main(["--tracker", "SiamFC", "--dataset", "VOT2016", "--dataset_root", str(root),
               "--results_dir", str(tmp_path / "results"), "--config", str(ONE_SCALE)])
    assert rc == 0
    rows = pysot_parse(tmp_path / "results" / "VOT2016" / "SiamFC" / "baseline" / "jump" / "jump_001.txt")
    assert len(rows) == 14
    assert [r for r in rows[6:12]] == [[2.0], [0.0], [0.0], [0.0], [0.0], [1.0]]
    assert all(len(r) == 4 for r in rows[1:6] + rows[12:])


# -------------------------------------------------------------------------------- workers + module

def test_workers_give_the_same_results(tmp_path):
    root = tmp_path / "OTB50"
    make_pysot_dataset(root, "OTB50", n_frames=5)
    common = ["--tracker", "SiamFC", "--dataset", "OTB50", "--dataset_root", str(root), "--config", str(ONE_SCALE)]
    assert main(common + ["--results_dir", str(tmp_path / "one")]) == 0
    assert main(common + ["--results_dir", str(tmp_path / "two"), "--workers", "2"]) == 0
    for v in ("dummyA", "dummyB"):
        a = pysot_parse(tmp_path / "one" / "OTB50" / "SiamFC" / f"{v}.txt")
        b = pysot_parse(tmp_path / "two" / "OTB50" / "SiamFC" / f"{v}.txt")
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_python_dash_m_entry_point_reports_errors_on_one_line(tmp_path):
    repo = Path(edcf_plugin.__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "edcf_plugin.pysot", "--dataset", "OTB100",
                           "--dataset_root", str(tmp_path / "nowhere")], cwd=repo, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "dataset root not found" in proc.stderr


# ------------------------------------------------------------------------------------- bad input

@pytest.fixture
def otb(tmp_path):
    root = tmp_path / "OTB100"
    make_pysot_dataset(root, "OTB100", n_frames=5)
    return root


def _edit(root: Path, name: str, fn):
    path = root / f"{name}.json"
    meta = json.loads(path.read_text())
    fn(meta)
    path.write_text(json.dumps(meta))


def _cli_error(capsys, argv) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    return err


def test_missing_json_key(otb):
    _edit(otb, "OTB100", lambda m: m["dummyB"].pop("gt_rect"))
    with pytest.raises(InputError, match=r"video 'dummyB' lacks key\(s\) gt_rect"):
        load_dataset("OTB100", otb)


def test_missing_image_names_video_and_frame(otb):
    (otb / "dummyA" / "img" / "00000003.jpg").unlink()
    with pytest.raises(InputError, match=r"video 'dummyA' frame 3: image not found"):
        load_dataset("OTB100", otb)


def test_corrupt_image_names_video_and_frame(otb, tmp_path):
    (otb / "dummyB" / "img" / "00000004.jpg").write_bytes(b"not a jpeg")
    ds = load_dataset("OTB100", otb)
    with pytest.raises(InputError, match=r"video 'dummyB' frame 4: cannot decode image"):
        run_dataset(ds, tmp_path / "r", "EDCF", tracker_factory=lambda: Scripted(lambda i: [1, 2, 3, 4]),
                    log=None)


@pytest.mark.parametrize("bad", [[float("nan")] * 4, [5, 5, 0, 10]])
def test_absent_or_empty_first_box(otb, tmp_path, bad):
    _edit(otb, "OTB100", lambda m: m["dummyA"]["gt_rect"].__setitem__(0, bad))
    ds = load_dataset("OTB100", otb)
    with pytest.raises(InputError, match=r"video 'dummyA' frame 1: ground truth .* absent \(NaN\) or has zero"):
        run_dataset(ds, tmp_path / "r", "EDCF", tracker_factory=lambda: Scripted(lambda i: [1, 2, 3, 4]),
                    log=None)


def test_absent_target_later_is_fine_one_pass_but_not_reset(tmp_path):
    root = tmp_path / "VOT2018"
    make_pysot_dataset(root, "VOT2018", n_frames=6)
    _edit(root, "VOT2018", lambda m: m["dummyB"]["gt_rect"].__setitem__(4, [float("nan")] * 8))
    fake = lambda: Scripted(lambda i: [1, 2, 3, 4])   # noqa: E731
    run_dataset(load_dataset("VOT2018", root, "ope"), tmp_path / "r", "EDCF", tracker_factory=fake, log=None)
    assert len(pysot_parse(tmp_path / "r" / "VOT2018" / "EDCF" / "dummyB.txt")) == 6
    with pytest.raises(InputError, match=r"video 'dummyB' frame 5: ground truth"):
        run_dataset(load_dataset("VOT2018", root), tmp_path / "r", "EDCF", tracker_factory=fake, log=None)


@pytest.mark.parametrize("dataset, video, key, value", [
    ("OTB100", "dummyA", "init_rect", 5),
    ("LaSOT", "dummyA", "absent", ["x"] * 5),
    ("VOT2018", "dummyB", "camera_motion", 5),
], ids=["init_rect-number", "absent-text", "tag-number"])
def test_json_fields_of_the_wrong_type(tmp_path, capsys, dataset, video, key, value):
    root = tmp_path / dataset
    make_pysot_dataset(root, dataset, n_frames=5)
    _edit(root, dataset, lambda m: m[video].__setitem__(key, value))
    err = _cli_error(capsys, ["--dataset", dataset, "--dataset_root", str(root), "--results_dir",
                              str(tmp_path / "r")])
    assert f"cannot read dataset file {root / (dataset + '.json')}: video '{video}': malformed entry" in err
    assert not (tmp_path / "r").exists()                              # nothing tracked, nothing half-written


def test_unwritable_results_dir_fails_before_tracking(otb, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the results folder should go")
    err = _cli_error(capsys, ["--dataset", "OTB100", "--dataset_root", str(otb), "--results_dir", str(blocker)])
    assert f"cannot write results to {blocker / 'OTB100' / 'EDCF'}" in err
    assert "Video:" not in capsys.readouterr().out


def test_empty_dataset(tmp_path, capsys):
    (tmp_path / "OTB100.json").write_text("{}")
    err = _cli_error(capsys, ["--dataset", "OTB100", "--dataset_root", str(tmp_path)])
    assert "has no videos" in err


def test_unknown_tracker_name(otb, capsys):
    err = _cli_error(capsys, ["--tracker", "SiamRPN", "--dataset", "OTB100", "--dataset_root", str(otb)])
    assert "unknown variant 'SiamRPN'" in err and "EDCF" in err


def test_unknown_video_and_bad_config(otb, capsys, tmp_path):
    err = _cli_error(capsys, ["--dataset", "OTB100", "--dataset_root", str(otb), "--video", "nope"])
    assert "video 'nope' is not in dataset OTB100" in err and "dummyA" in err
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("tracker: {scale_nums: 3}\n")
    err = _cli_error(capsys, ["--dataset", "OTB100", "--dataset_root", str(otb), "--config", str(cfg)])
    assert "unknown config key(s) scale_nums" in err


def test_vis_without_display(otb, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert "--vis needs a display" in _cli_error(capsys, ["--dataset", "OTB100", "--dataset_root", str(otb),
                                                          "--vis"])


def test_invalid_json_file(tmp_path):
    (tmp_path / "OTB100.json").write_text("{not json")
    with pytest.raises(InputError, match="cannot read dataset file"):
        load_dataset("OTB100", tmp_path)


def test_workers_must_be_positive(otb):
    with pytest.raises(ConfigError, match="at least 1"):
        run_dataset(load_dataset("OTB100", otb), otb / "r", "EDCF", workers=0,
                    tracker_factory=lambda: None, log=None)


def test_image_paths_do_not_depend_on_the_working_directory(otb, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = load_dataset("OTB100", otb)
    monkeypatch.chdir(otb / "dummyA")
    b = load_dataset("OTB100", otb)
    assert a["dummyA"].img_files == b["dummyA"].img_files and a["dummyA"].img_files[0].is_absolute()
    # names given relative to the video folder (some pysot JSON files) resolve too
    _edit(otb, "OTB100", lambda m: m["dummyA"].update(img_names=[n.split("/", 1)[1]
                                                                for n in m["dummyA"]["img_names"]]))
    assert load_dataset("OTB100", otb)["dummyA"].img_files == a["dummyA"].img_files
