"""``edcf eval``: tables, JSON and plots from result folders, checked against hand-worked scores."""
import json
import math
from pathlib import Path

import pytest
import torch

from edcf_plugin.cli import main as edcf
from edcf_plugin.formats.generated_datasets import make_pysot_dataset, make_sequence_folders

torch.set_num_threads(1)
ONE_SCALE = Path(__file__).resolve().parents[1] / "toolkit_configs" / "pysot" / "edcf_one_scale.yaml"
PNG = b"\x89PNG\r\n\x1a\n"


def write(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(str(v) for v in r) + "\n" for r in rows))


@pytest.fixture
def otb(tmp_path):
    root = tmp_path / "data"
    make_pysot_dataset(root, "OTB100", n_frames=6)
    meta = json.loads((root / "OTB100.json").read_text())
    results = tmp_path / "results" / "OTB100"
    for video, entry in meta.items():
        gt = entry["gt_rect"]
        write(results / "Perfect" / f"{video}.txt", gt)
        # shifted right by half the width: IoU 1/3, centre error w/2 (6 or 5 px), normalised 0.5
        write(results / "Shifted" / f"{video}.txt", [[x + w / 2, y, w, h] for x, y, w, h in gt])
    return root, tmp_path / "results"


def test_ope_table_json_and_plots(otb, tmp_path, capsys):
    root, results = otb
    out = tmp_path / "report"
    rc = edcf(["eval", "--results", str(results), "--dataset", "OTB100", "--dataset-root", str(root),
               "--out", str(out)])
    assert rc == 0
    table = capsys.readouterr().out
    rows = [ln for ln in table.splitlines() if ln.startswith("| Perfect") or ln.startswith("| Shifted")]
    assert rows[0] == "| Perfect | 95.2 | 100.0 | 100.0 | 100.0 | n/a |"          # 20/21: IoU 1 is not > 1
    assert rows[1] == "| Shifted | 33.3 | 0.0 | 100.0 | 0.0 | n/a |"               # 7/21 thresholds <= 0.3
    report = json.loads((out / "results.json").read_text())
    p, s = report["trackers"]["Perfect"]["overall"], report["trackers"]["Shifted"]["overall"]
    assert p["auc"] == pytest.approx(100 * 20 / 21, abs=1e-3) and s["auc"] == pytest.approx(100 / 3, abs=1e-3)
    assert s["norm_precision_curve"][49] == 0.0 and s["precision_curve"][5] == 0.5     # 5 px: dummyB only
    assert set(report["trackers"]["Shifted"]["per_sequence"]) == {"dummyA", "dummyB"}
    assert "| dummyA | 95.2 / 100.0 | 33.3 / 100.0 |" in (out / "results.md").read_text()
    for name in ("success.png", "precision.png", "norm_precision.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG and len(data) > 10_000


def test_selected_trackers_and_missing_results(otb, capsys):
    root, results = otb
    base = ["eval", "--results", str(results / "OTB100"), "--dataset", "OTB100", "--dataset-root", str(root)]
    assert edcf(base + ["--trackers", "Shifted"]) == 0
    assert "Perfect" not in capsys.readouterr().out
    (results / "OTB100" / "Shifted" / "dummyB.txt").unlink()
    assert edcf(base) == 2
    err = capsys.readouterr().err
    assert "tracker 'Shifted' video 'dummyB': result file not found" in err and err.count("\n") == 1


def test_partial_results_folder_with_the_flag(otb, tmp_path, capsys):
    """A folder holding some sequences of a dataset: an error naming --partial without it; with it, only the
    sequences every tracker has are scored and the report (printed, results.md, results.json) names them."""
    root, results = otb
    base = ["eval", "--results", str(results), "--dataset", "OTB100", "--dataset-root", str(root)]
    (results / "OTB100" / "Shifted" / "dummyB.txt").unlink()
    assert edcf(base) == 2
    assert "--partial" in capsys.readouterr().err
    out = tmp_path / "report"
    assert edcf(base + ["--partial", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    note = "Partial: scored 1 of 2 sequences of OTB100: dummyA"
    assert printed.splitlines()[0] == note and note in (out / "results.md").read_text()
    assert "| Shifted | 33.3 | 0.0 | 100.0 | 0.0 | n/a |" in printed and "| dummyB |" not in printed
    report = json.loads((out / "results.json").read_text())
    assert report["videos"] == ["dummyA"] and report["partial"] == {"scored": 1, "of": 2}
    assert set(report["trackers"]["Perfect"]["per_sequence"]) == {"dummyA"}
    (results / "OTB100" / "Perfect" / "dummyA.txt").unlink()          # no sequence common to both trackers
    assert edcf(base + ["--partial"]) == 2
    assert "no video of dataset OTB100 has results from every tracker" in capsys.readouterr().err


def test_bad_result_files_name_tracker_video_and_frame(otb, capsys):
    root, results = otb
    base = ["eval", "--results", str(results), "--dataset", "OTB100", "--dataset-root", str(root)]
    f = results / "OTB100" / "Perfect" / "dummyA.txt"
    lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:-1]) + "\n")
    assert edcf(base) == 2
    assert "tracker 'Perfect' video 'dummyA'" in capsys.readouterr().err
    f.write_text("\n".join(lines[:2] + ["1,2,x,4"] + lines[3:]) + "\n")
    assert edcf(base) == 2
    assert "dummyA.txt, frame 3: not comma-separated numbers" in capsys.readouterr().err


def test_unreadable_speed_files_leave_fps_empty_with_a_warning(otb, tmp_path, capsys):
    root, results = otb
    (results / "OTB100" / "Perfect" / "run_info.json").write_text(json.dumps(
        {"videos": [{"video": "dummyA", "frames": 6, "seconds": "x"}]}))
    with pytest.warns(UserWarning, match="speed not reported: cannot read .*run_info.json"):
        rc = edcf(["eval", "--results", str(results), "--dataset", "OTB100", "--dataset-root", str(root)])
    assert rc == 0
    assert "| Perfect | 95.2 | 100.0 | 100.0 | 100.0 | n/a |" in capsys.readouterr().out


def test_report_folder_that_is_a_file_fails_before_evaluating(otb, tmp_path, capsys):
    root, results = otb
    out = tmp_path / "report"
    out.write_text("not a folder")
    rc = edcf(["eval", "--results", str(results), "--dataset", "OTB100", "--dataset-root", str(root),
               "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 2 and f"--out {out} is a file" in captured.err and "Perfect" not in captured.out


def test_ground_truth_source_must_be_given_once(otb, capsys):
    root, results = otb
    assert edcf(["eval", "--results", str(results)]) == 2
    assert "exactly one of --dataset-root" in capsys.readouterr().err


def test_vot_accuracy_robustness_eao(tmp_path, capsys):
    root = tmp_path / "data"
    n = 24
    make_pysot_dataset(root, "VOT2018", videos={"v": {"n_frames": n}})
    gt = json.loads((root / "VOT2018.json").read_text())["v"]["gt_rect"]
    boxes = [[p[0], p[1], p[2] - p[0], p[5] - p[1]] for p in gt]          # the polygons are upright boxes
    base = tmp_path / "results" / "VOT2018"
    write(base / "A" / "baseline" / "v" / "v_001.txt", [[1]] + boxes[1:])
    write(base / "B" / "baseline" / "v" / "v_001.txt", [[1], boxes[1], [2], [0], [0], [0], [0], [1]] + boxes[8:])
    out = tmp_path / "report"
    assert edcf(["eval", "--results", str(tmp_path / "results"), "--dataset", "VOT2018", "--dataset-root",
                 str(root), "--eao-range", "1", str(n), "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| A | 1.000 | 0.000 | 0.0 | 1.000 |" in table
    report = json.loads((out / "results.json").read_text())
    b = report["trackers"]["B"]["overall"]
    # burn-in: frames 7..16 after the re-init are left out, frames 17..23 overlap exactly
    assert b["accuracy"] == pytest.approx(1.0) and b["lost"] == 1 and b["robustness"] == pytest.approx(100 / n)
    # fragments: frames 0..7 (overlap 1 at frame 1, then 0 to the end), frames 7..23 (overlap 1 from 8)
    curve = [1.0] + [(1 / i + 1) / 2 for i in range(1, 17)] + [1 / i for i in range(17, n)]
    assert b["eao"] == pytest.approx(sum(curve) / n, abs=1e-6)
    assert (out / "expected_overlap.png").read_bytes()[:8] == PNG and (out / "ar.png").read_bytes()[:8] == PNG


def test_sequence_folders_end_to_end(tmp_path, capsys):
    """edcf-pysot-test on OTB-style folders (index.json split), then edcf eval --gt-root on its results."""
    from edcf_plugin.toolkits.pysot_runner import main as pysot_test
    data = make_sequence_folders(tmp_path / "seqs", n_frames=6)
    make_sequence_folders(tmp_path / "seqs", videos={"trainseq": {"n_frames": 3}}, split="train")
    # the second call rewrote index.json with only the train sequence: write both back
    index = [{"name": n, "split": s} for n, s in (("seqA", "bench"), ("seqB", "bench"), ("trainseq", "train"))]
    (data / "index.json").write_text(json.dumps(index))
    assert pysot_test(["--tracker", "SiamFC", "--dataset", "bench", "--dataset_root", str(data), "--split",
                       "bench", "--results_dir", str(tmp_path / "results"), "--config", str(ONE_SCALE)]) == 0
    out = tmp_path / "results" / "bench" / "SiamFC"
    assert sorted(p.name for p in out.iterdir()) == ["run_info.json", "seqA.txt", "seqB.txt"]
    first = (out / "seqA.txt").read_text().splitlines()[0]
    x, y, w, h = (float(v) for v in (data / "seqA" / "groundtruth_rect.txt").read_text().split()[0].split(","))
    assert [float(v) for v in first.split(",")] == [x + 0.5, y + 0.5, w, h]    # gt used as given (1-based)
    capsys.readouterr()
    assert edcf(["eval", "--results", str(tmp_path / "results" / "bench"), "--gt-root", str(data),
                 "--split", "bench"]) == 0
    row = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| SiamFC"))
    auc, fps = float(row.split("|")[2]), row.split("|")[6].strip()
    assert auc > 50 and fps != "n/a" and math.isfinite(float(fps))


def test_lasot_absent_frames_stay_in_the_denominator(tmp_path, capsys):
    root = tmp_path / "data"
    make_pysot_dataset(root, "LaSOT", videos={"cat-1": {"n_frames": 6}})
    meta = json.loads((root / "LaSOT.json").read_text())
    meta["cat-1"]["absent"] = [1, 1, 1, 0, 0, 1]              # pysot-toolkit evaluates the frames flagged 1
    (root / "LaSOT.json").write_text(json.dumps(meta))
    write(tmp_path / "results" / "LaSOT" / "Perfect" / "cat-1.txt", meta["cat-1"]["gt_rect"])
    assert edcf(["eval", "--results", str(tmp_path / "results"), "--dataset", "LaSOT", "--dataset-root",
                 str(root)]) == 0
    row = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| Perfect"))
    assert row.startswith(f"| Perfect | {100 * 20 / 21 * 4 / 6:.1f} | {100 * 4 / 6:.1f} | {100 * 4 / 6:.1f} |")
    meta["cat-1"].pop("absent")
    (root / "LaSOT.json").write_text(json.dumps(meta))
    assert edcf(["eval", "--results", str(tmp_path / "results"), "--dataset", "LaSOT", "--dataset-root",
                 str(root)]) == 2
    assert "lacks key(s) absent" in capsys.readouterr().err


def test_report_that_cannot_be_written_is_one_line_and_leaves_no_partial_file(otb, tmp_path, capsys):
    """Issue 21 item 8: the report files are written whole or not at all; a failed write names the file."""
    root, results = otb
    base = ["eval", "--results", str(results), "--dataset", "OTB100", "--dataset-root", str(root)]
    out = tmp_path / "report"
    assert edcf(base + ["--out", str(out)]) == 0
    old = (out / "results.json").read_text()
    (out / "results.md").unlink()
    (out / "results.md").mkdir()                      # results.md cannot be written now
    capsys.readouterr()
    assert edcf(base + ["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edcf: error: cannot write results to ") and "results.md" in err and err.count("\n") == 1
    assert json.loads((out / "results.json").read_text()).keys() == json.loads(old).keys()   # whole, readable
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]      # no half-written file left behind


def test_train_evaluate_applies_a_preset_before_the_overrides(tmp_path, capsys):
    """python -m train.evaluate --preset P --set K=V: the preset's settings, then the override, in the tracker that
    ran and in the written record; an unknown preset is one line and status 2."""
    from train.evaluate import main as evaluate
    data = make_sequence_folders(tmp_path / "seqs", n_frames=4)
    out = tmp_path / "eval.json"
    weights = Path(__file__).resolve().parents[1] / "edcf_plugin" / "models" / "edcf_default.pth"
    assert evaluate(["--root", str(data), "--split", "bench", "--sequences", "seqA", "--model",
                     f"m={weights}:CACFNet+", "--preset", "fast", "--set", "side_crop_interval=3",
                     "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    config = record["models"]["m"]["tracker_config"]
    assert record["preset"] == "fast" and config["variant"] == "CACFNet+"
    assert config["half_precision"] and config["cf_update_interval"] == 2 and config["single_pass_margin"] == 4
    assert config["side_crop_interval"] == 3 and record["overrides"]["side_crop_interval"] == 3
    assert list(record["models"]["m"]["sequences"]) == ["seqA"]
    capsys.readouterr()
    assert evaluate(["--root", str(data), "--split", "bench", "--model", f"m={weights}", "--preset", "quick"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown preset 'quick'" in err[0] and "realtime" in err[0]
