"""VOT toolkit integration: registry, stacks, `edcf vot-workspace`, and the real `vot` commands.

The `vot` runs use the real tracker on tiny generated OTB-style sequences (64 x 48 px, a few frames) and one
torch thread. `vot` exits 0 even when a tracker fails, so every run is judged by its output and its files.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # raised inside the toolkit
pytest.importorskip("vot", reason="the [vot] extra (vot-toolkit) is not installed")
from vot.dataset import load_dataset  # noqa: E402
from vot.region import Polygon as VotPolygon  # noqa: E402
from vot.region import Rectangle as VotRectangle  # noqa: E402
from vot.stack import Stack  # noqa: E402
from vot.tracker import Registry  # noqa: E402

from edcf_plugin.commands import vot_workspace as vot_workspace_command  # noqa: E402
from edcf_plugin.toolkits import vot_workspace  # noqa: E402
from edcf_plugin.config import PRESETS, VARIANTS, resolve_variant  # noqa: E402
from edcf_plugin.errors import InputError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VOT_TIMEOUT_S = 600
TW, TH = 12, 14


# ------------------------------------------------------------------------------------------- test data
def target(i: int) -> tuple:
    return 8 + 2 * i, 14 + i                              # 0-based top-left of the 12 x 14 target


def write_otb_sequence(root: Path, name: str, frames: int, gray: bool = False, separator: str = ",",
                       polygon: bool = False) -> None:
    """An OTB-style folder: img/00000001.jpg..., 1-based groundtruth_rect.txt, optional 0-based polygons."""
    img = root / name / "img"
    img.mkdir(parents=True)
    background = np.random.default_rng(1).integers(30, 70, (48, 64, 3), dtype=np.uint8)
    rects, polygons = [], []
    for i in range(frames):
        x, y = target(i)
        image = background.copy()
        image[y:y + TH, x:x + TW] = (0, 200, 255)
        image[y + 4:y + 9, x + 3:x + 8] = (255, 0, 0)
        if gray:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        cv2.imwrite(str(img / f"{i + 1:08d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        rects.append(separator.join(str(v) for v in (x + 1, y + 1, TW, TH)))
        polygons.append(",".join(str(v) for v in (x, y, x + TW, y, x + TW, y + TH, x, y + TH)))
    (root / name / "groundtruth_rect.txt").write_text("\n".join(rects) + "\n")
    if polygon:
        (root / name / "groundtruth_polygon.txt").write_text("\n".join(polygons) + "\n")


@pytest.fixture(scope="module")
def otb_root(tmp_path_factory) -> Path:
    """Three sequences, two in split `bench` (one grayscale with tab-separated boxes and polygons)."""
    root = tmp_path_factory.mktemp("otb")
    write_otb_sequence(root, "movA", 8)
    write_otb_sequence(root, "movB", 6, gray=True, separator="\t", polygon=True)
    write_otb_sequence(root, "trainC", 4)
    index = [{"name": n, "frames": f, "width": 64, "height": 48, "color": c, "source": "generated", "split": s}
             for n, f, c, s in [("movA", 8, "color", "bench"), ("movB", 6, "gray", "bench"),
                                ("trainC", 4, "color", "train")]]
    (root / "index.json").write_text(json.dumps(index))
    return root


def vot(*args: str, cwd: Path) -> str:
    """Run the real `vot` command line (this interpreter), return its output; one torch thread per tracker."""
    env = dict(os.environ, EDCF_THREADS="1")
    for key in ("EDCF_VARIANT", "EDCF_WEIGHTS", "EDCF_DEVICE", "EDCF_PRESET", "VOT_REGISTRY"):
        env.pop(key, None)
    done = subprocess.run([sys.executable, "-m", "vot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=VOT_TIMEOUT_S)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return output


# ------------------------------------------------------------------------------------ registry & stacks
def test_repo_trackers_ini_is_the_generated_registry():
    assert (REPO / "trackers.ini").read_text() == vot_workspace.trackers_ini(), \
        "trackers.ini is stale: regenerate it from edcf_plugin.toolkits.vot_workspace.trackers_ini()"


def test_registry_registers_every_variant_for_traxpython():
    registry = Registry([str(REPO)], root=str(REPO))
    assert set(registry.identifiers()) == {"EDCF", "SiamFC", "EDSiam", "CACFNet", "CACFNet_plus", "EDCF-realtime",
                                           "EDCF-fast", "CACFNet_plus-fast"}
    variants = set()
    for tracker in registry:
        description = tracker.describe()
        assert description["protocol"] == "traxpython"
        assert description["command"] == "edcf_plugin.trax"
        variant = resolve_variant(description["env"]["EDCF_VARIANT"])
        if "-" in tracker.identifier:
            base, preset = tracker.identifier.split("-")
            assert description["env"]["EDCF_PRESET"] == preset and variant == resolve_variant(base)
            assert preset in PRESETS and description["label"].startswith(f"{variant} ({preset} preset")
            continue
        assert description["label"] == variant
        variants.add(variant)
    assert variants == set(VARIANTS)


def test_single_experiment_stacks_repeat_the_combined_stack():
    combined = yaml.safe_load((vot_workspace.STACK_DIR / "edcf_vot.yaml").read_text())
    assert set(combined["experiments"]) == {"baseline", "multistart", "realtime", "unsupervised"}
    for name, experiment in combined["experiments"].items():
        single = yaml.safe_load((vot_workspace.STACK_DIR / f"edcf_{name}.yaml").read_text())
        assert single["experiments"] == {name: experiment}
    accuracy = yaml.safe_load((vot_workspace.STACK_DIR / "edcf_accuracy.yaml").read_text())
    assert accuracy["experiments"] == {k: v for k, v in combined["experiments"].items() if k != "realtime"}
    assert combined["experiments"]["baseline"]["skip_initialize"] == 5
    assert combined["experiments"]["realtime"]["realtime"]["grace"] == 3
    assert "dataset" not in combined                      # offline: nothing to download


@pytest.mark.parametrize("name", ["edcf_vot", "edcf_accuracy", "edcf_baseline", "edcf_multistart",
                                  "edcf_realtime", "edcf_unsupervised"])
def test_stacks_load_in_the_toolkit(name):
    import vot.analysis  # noqa: F401  (registers the analyses the stacks name)
    import vot.experiment  # noqa: F401

    stack = Stack.read(str(vot_workspace.resolve_stack(name)))
    assert len(stack) >= 1
    for experiment in stack:
        assert len(experiment.analyses) >= 1


def test_anchors_run_towards_the_longer_part():
    assert vot_workspace.anchors(12, 5) == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, -1, 0]
    assert vot_workspace.anchors(3, 50) == [1, 0, 0]


# ------------------------------------------------------------------------------------ workspace builder
def build(out: Path, sequences: Path, *extra: str) -> int:
    parser = argparse.ArgumentParser()
    vot_workspace_command.add_arguments(parser)
    return vot_workspace_command.run(parser.parse_args([str(out), "--sequences", str(sequences), *extra]))


def test_workspace_from_otb_folders(tmp_path, otb_root):
    out = tmp_path / "ws"
    assert build(out, otb_root, "--split", "bench", "--anchor-spacing", "3") == 0
    assert build(out, otb_root, "--split", "bench", "--anchor-spacing", "3", "--force") == 0   # replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws"]
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config == {"stack": "edcf_vot.yaml", "registry": ["./trackers.ini"]}
    assert (out / "edcf_vot.yaml").read_text() == (vot_workspace.STACK_DIR / "edcf_vot.yaml").read_text()
    assert (out / "trackers.ini").read_text() == vot_workspace.trackers_ini()
    assert (out / "sequences" / "list.txt").read_text().split() == ["movA", "movB"]

    dataset = load_dataset(str(out / "sequences"))
    a, b = dataset["movA"], dataset["movB"]
    assert (len(a), len(b)) == (8, 6)
    assert a.size == (64, 48)
    # OTB's 1-based boxes become VOT's 0-based ones; movB keeps its polygon annotation.
    first = a.groundtruth(0)
    assert isinstance(first, VotRectangle)
    assert (first.x, first.y, first.width, first.height) == (8, 14, 12, 14)
    poly = b.groundtruth(2)
    assert isinstance(poly, VotPolygon)
    assert np.allclose(poly.points(), [(12, 16), (24, 16), (24, 30), (12, 30)])
    assert [a.values(i)["anchor"] for i in range(8)] == [1, 0, 0, 1, 0, 0, -1, 0]
    assert a.metadata("fps") == 30
    assert a.frame(3).image().shape == (48, 64, 3)
    original = cv2.imread(str(otb_root / "movA" / "img" / "00000004.jpg"))
    assert np.array_equal(cv2.imread(str(out / "sequences" / "movA" / "color" / "00000004.jpg")), original)


def test_workspace_from_a_vot_dataset_and_frame_limits(tmp_path, otb_root, capsys):
    first = tmp_path / "first"
    build(first, otb_root, "--names", "movA,trainC", "--max-frames", "5", "--link", "symlink")
    printed = capsys.readouterr().out           # issue 21 item 7: the quick check says what its numbers mean
    assert "EAO averages expected overlaps over sequence lengths from 100 frames on; the shortest sequence " \
           "here has 4" in printed
    assert "evaluate EDCF-realtime for it" in printed and "next: vot evaluate" in printed
    build(tmp_path / "rt", otb_root, "--names", "movA", "--stack", "edcf_realtime")
    printed = capsys.readouterr().out
    assert "EDCF-realtime && vot analysis" in printed and "evaluate EDCF-realtime for it" not in printed
    assert (first / "sequences" / "movA" / "color" / "00000001.jpg").is_symlink()
    assert [len(s) for s in load_dataset(str(first / "sequences"))] == [5, 4]
    (first / "sequences" / "movA" / "anchor.value").unlink()        # a VOT dataset without anchors
    second = tmp_path / "second"
    build(second, first / "sequences", "--stack", "edcf_multistart", "--anchor-spacing", "2")
    assert (second / "config.yaml").read_text().count("edcf_multistart.yaml") == 1
    copied = load_dataset(str(second / "sequences"))
    assert [s.name for s in copied] == ["movA", "trainC"]
    assert [copied["movA"].values(i)["anchor"] for i in range(5)] == [1, 0, 1, 0, 0]
    assert copied["trainC"].groundtruth(0) is not None


@pytest.mark.parametrize("case, message", [
    ("missing-root", "sequences folder not found"),
    ("unknown-split", "no sequence in split 'test'"),
    ("unknown-name", "sequences not found"),
    ("unknown-stack", "unknown stack 'nope'"),
    ("occupied-out", "exists and is not empty"),
    ("force-non-workspace", "is not a VOT workspace"),
    ("nan-first-frame", "absent (NaN) in the first frame"),
])
def test_workspace_builder_rejects_bad_input(tmp_path, otb_root, case, message):
    out, root, extra = tmp_path / "ws", otb_root, []
    if case == "missing-root":
        root = tmp_path / "does-not-exist"
    elif case == "unknown-split":
        extra = ["--split", "test"]
    elif case == "unknown-name":
        extra = ["--names", "movA,Nope"]
    elif case == "unknown-stack":
        extra = ["--stack", "nope"]
    elif case in ("occupied-out", "force-non-workspace"):
        out.mkdir()
        (out / "precious.txt").write_text("keep me")
        extra = ["--force"] if case == "force-non-workspace" else []
    elif case == "nan-first-frame":
        root = tmp_path / "nan"
        write_otb_sequence(root, "bad", 3)
        (root / "bad" / "groundtruth_rect.txt").write_text("NaN,NaN,NaN,NaN\n10,15,12,14\n12,16,12,14\n")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(out, root, *extra)
    if case in ("occupied-out", "force-non-workspace"):
        assert (out / "precious.txt").read_text() == "keep me"
    else:
        assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if ".partial-" in p.name]   # nothing half-written left


# ---------------------------------------------------------------------------------------- real `vot` runs
def test_vot_test_passes_from_the_repository_root():
    output = vot("test", "EDCF", cwd=REPO)
    assert "Test concluded successfuly" in output, output[-3000:]   # (sic: the toolkit's spelling)
    assert "Error" not in output


def test_vot_evaluate_analysis_report_on_a_generated_workspace(tmp_path, otb_root):
    """All four experiments of the shipped stack; EAO intervals and burn-in scaled to the 8-frame sequence."""
    stack = yaml.safe_load((vot_workspace.STACK_DIR / "edcf_vot.yaml").read_text())
    for experiment in stack["experiments"].values():
        for analysis in experiment["analyses"]:
            if "high" in analysis:
                analysis["high"] = 8
            if "low" in analysis:
                analysis["low"] = 2
            if analysis["type"] != "cumulative_failures":
                analysis["burnin"] = 1
    stack_file = tmp_path / "short_sequences.yaml"
    stack_file.write_text(yaml.safe_dump(stack))
    ws = tmp_path / "ws"
    build(ws, otb_root, "--names", "movA", "--stack", str(stack_file), "--anchor-spacing", "5")

    # `vot test` from inside the workspace: the registry is found from there, the tracker runs in a temp dir.
    output = vot("test", "EDCF", "--sequence", str(ws / "sequences" / "movA"), cwd=ws)
    assert "Test concluded successfuly" in output, output[-3000:]

    output = vot("evaluate", "--workspace", str(ws), "EDCF", cwd=tmp_path)
    assert "Evaluation concluded successfuly" in output, output[-3000:]
    results = ws / "results" / "EDCF"
    assert sorted(p.name for p in results.iterdir()) == ["baseline", "multistart", "realtime", "unsupervised"]
    assert {p.name for p in (results / "multistart" / "movA").glob("*.bin")} == \
        {"movA_00000000.bin", "movA_00000005.bin"}                  # forward from 0, backward from 5
    for experiment in ("baseline", "realtime", "unsupervised"):
        assert (results / experiment / "movA" / "movA_001.bin").is_file()
    # The `confidence` property of every reply is stored per frame (the initialisation frame has none).
    confidences = (results / "unsupervised" / "movA" / "movA_001_confidence.value").read_text().splitlines()
    assert len(confidences) == 8 and all(math.isfinite(float(c)) for c in confidences[1:])

    vot("analysis", "--workspace", str(ws), "--name", "check", "EDCF", cwd=tmp_path)
    analysis = json.loads((ws / "analysis" / "check.json").read_text())["results"]
    assert set(analysis) == {"baseline", "multistart", "realtime", "unsupervised"}

    def numbers(experiment: str, kind: str):
        entry = analysis[experiment]
        kinds = [a["type"].rsplit(".", 1)[1] for a in entry["parameters"]["analyses"]]
        return entry["results"][kinds.index(kind)][0]

    accuracy, robustness = numbers("baseline", "AverageAccuracyRobustness")[:2]
    assert 0.5 < accuracy <= 1.0 and 0.0 <= robustness       # the target is easy: high overlap
    eao = numbers("baseline", "EAOScore")[0]
    assert 0.0 < eao <= 1.0
    assert 0.0 < numbers("multistart", "EAOScore")[0] <= 1.0
    assert 0.0 < numbers("multistart", "AverageAccuracyRobustness")[0] <= 1.0
    assert 0.0 <= numbers("realtime", "EAOScore")[0] <= 1.0
    assert 0.5 < numbers("unsupervised", "AverageAccuracy")[0] <= 1.0

    vot("report", "--workspace", str(ws), "--format", "html", "--name", "check", "EDCF", cwd=tmp_path)
    html = (ws / "reports" / "check" / "report.html").read_text()
    assert "EDCF" in html and "baseline" in html
