"""Issue 21 items 8-9: nothing lost, nothing destroyed, and one clear line for bad input (docs/errors.md).

Every case runs `edcf` in this process (``cli.main``: the exit status and what it prints), on short generated
sequences and one torch thread.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import make_sequence
from edcf_plugin.formats.sequences import write_otb_sequence
from edcf_plugin import cli
from edcf_plugin.commands import track as track_cli
from edcf_plugin.toolkits import vot_workspace
from edcf_plugin.boxes import as_box
from edcf_plugin.checkpoint import DEFAULT_WEIGHTS
from edcf_plugin.config import TrackerConfig
from edcf_plugin.errors import ConfigError, InputError
from edcf_plugin.commands import train as train_cli
from edcf_plugin.training.config import TrainConfig, config_from_dict
from edcf_plugin.training.datasets import OTBFolders
from edcf_plugin.training.processing import PairProcessing
from edcf_plugin.training.sampler import PairDataset
from train_helpers import TINY_NET, make_otb_root, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def short_seq(tmp_path):
    """An 8-frame OTB-style folder (1-based ground truth)."""
    frames, boxes = make_sequence(n=8)
    return write_otb_sequence(tmp_path / "Short", frames, boxes)


def edcf(capsys, *args) -> tuple[int, str]:
    """Run ``edcf ARGS`` in this process: (exit status, standard error)."""
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edcf: error: ") and "Traceback" not in err, err
    return lines[0]


# ------------------------------------------------------------------------------------------- nothing lost
@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_corrupt_frame_mid_sequence_keeps_the_boxes_tracked_before_it(short_seq, tmp_path, capsys, damage):
    frame = short_seq / "img" / "00000005.jpg"
    data = frame.read_bytes()
    frame.write_bytes({"truncated": data[:100], "empty": b"",
                       "random": np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()}[damage])
    out = tmp_path / "res" / "boxes.txt"
    code, err = edcf(capsys, "track", short_seq, "--out", out)
    assert code == 2
    line = one_error_line(err)
    assert "frame 5" in line and str(frame) in line and f"the 4 boxes tracked before it are in {out}" in line
    rows = [r.split(",") for r in out.read_text().splitlines()]
    assert len(rows) == 4 and all(len(r) == 4 for r in rows)
    assert np.allclose(np.asarray(rows[0], float), np.loadtxt(short_seq / "groundtruth_rect.txt",
                                                              delimiter=",")[0])
    assert not [p for p in out.parent.iterdir() if p != out]            # no temporary file left


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_out_on_a_full_disk_is_one_error_line(short_seq, capsys):
    code, err = edcf(capsys, "track", short_seq, "--out", "/dev/full")
    assert code == 2
    line = one_error_line(err)
    # as root the folder probe passes and the write itself fails; otherwise /dev refuses the probe
    assert "cannot write boxes to /dev/full: No space left on device" in line or "cannot write results to" in line
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)                   # the device was written, not replaced


def test_boxes_file_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    out = tmp_path / "boxes.txt"
    out.write_text("1,2,3,4\n")
    real = Path.write_text

    def half_then_full(self, text, *a, **k):
        real(self, text[: len(text) // 2], *a, **k)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", half_then_full)
    with pytest.raises(InputError, match=f"cannot write boxes to {out}: No space left on device"):
        track_cli.write_boxes(out, np.ones((50, 4)))
    monkeypatch.undo()
    assert out.read_text() == "1,2,3,4\n" and [p.name for p in tmp_path.iterdir()] == ["boxes.txt"]
    track_cli.write_boxes(out, np.ones((2, 4)))
    assert out.read_text() == "1.0000,1.0000,1.0000,1.0000\n" * 2


# --------------------------------------------------------------------------------------- nothing destroyed
def test_force_replaces_only_a_workspace_the_tool_wrote(tmp_path):
    root = tmp_path / "seqs"
    frames, boxes = make_sequence(n=3, size=(48, 64), obj=(12, 10))
    write_otb_sequence(root / "Tiny", frames, boxes)
    ws = tmp_path / "ws"
    vot_workspace.build_workspace(ws, root)
    assert (ws / vot_workspace.MARKER).is_file()
    vot_workspace.build_workspace(ws, root, force=True)                  # its own workspace: replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seqs", "ws"]

    thesis = tmp_path / "thesis"                                         # a user's folder with a config.yaml
    (thesis / "src").mkdir(parents=True)
    (thesis / "config.yaml").write_text("stack: mine.yaml\n")
    (thesis / "src" / "thesis.tex").write_text("\\chapter{One}\n")
    with pytest.raises(InputError, match="is not a VOT workspace written by edcf vot-workspace"):
        vot_workspace.build_workspace(thesis, root, force=True)
    assert (thesis / "src" / "thesis.tex").read_text() == "\\chapter{One}\n"
    assert (thesis / "config.yaml").is_file()
    assert not [p.name for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_a_bad_training_image_is_skipped_and_counted(tmp_path, capsys):
    root = make_otb_root(tmp_path / "seqs", frames=6)
    for name in ("seqA", "seqB"):
        (root / name / "img" / "00000003.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    # the pairs edcf train draws below in its one epoch: 12 items of epoch 0, seed 3, the recipe's frame range
    pairs = PairDataset([OTBFolders(root, "train")], PairProcessing(), 12, frame_range=TrainConfig().frame_range,
                        seed=3)
    with pytest.warns(UserWarning, match="training pair skipped: cannot decode image"):
        first = [pairs[i] for i in range(len(pairs))]
    skipped = pairs.take_skipped()
    assert skipped > 0 and pairs.take_skipped() == 0
    again = [pairs[i] for i in range(len(pairs))]                        # the same redraws: deterministic
    assert all(torch.equal(a[k], b[k]) for a, b in zip(first, again) for k in a)

    out = tmp_path / "run"                                               # edcf train goes on, and says so
    with pytest.warns(UserWarning, match="training pair skipped"):
        code = train_cli.main(["--data", f"otb:{root}", "--steps", "6", "--batch-size", "2", "--samples-per-epoch",
                               "12", "--width", "0.25", "--num-workers", "0", "--threads", "1", "--seed", "3",
                               "--no-progress", "--device", "cpu", "--out", str(out)])
    assert code == 0 and (out / "last.pth").is_file()
    assert f"{skipped} pair(s) skipped for an unreadable image" in capsys.readouterr().out


# --------------------------------------------------------------------------------------- one clear line
@pytest.mark.parametrize("args, message", [
    (["--threads", "-1"], "--threads must be a positive number of threads, got -1"),
    (["--threads", "0"], "--threads must be a positive number of threads, got 0"),
    (["--device", "mps"], "device 'mps' is not supported: use cpu, cuda or cuda:N"),
    (["--device", "meta"], "device 'meta' is not supported: use cpu, cuda or cuda:N"),
    (["--init", "1,1,1e200,10"], "--init box is too large (values beyond 1e+06 pixels)"),
])
def test_track_options_that_cannot_work_are_one_error_line(short_seq, capsys, args, message):
    code, err = edcf(capsys, "track", short_seq, *args)
    assert code == 2 and message in one_error_line(err)


def test_huge_search_size_is_refused(short_seq, tmp_path, capsys):
    config = tmp_path / "big.yaml"
    config.write_text("search_size: 100000\n")
    code, err = edcf(capsys, "track", short_seq, "--config", config)
    assert code == 2 and "exemplar_size and search_size must be <= 1024 pixels" in one_error_line(err)
    TrackerConfig(search_size=1024)                                      # the bound itself is accepted
    with pytest.raises(ConfigError, match="<= 1024"):
        TrackerConfig(exemplar_size=2000, search_size=2000)


def test_bad_yaml_is_one_error_line(short_seq, tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("a: [1,\n")                                       # the YAML parser's message spans lines
    code, err = edcf(capsys, "track", short_seq, "--config", config)
    assert code == 2 and f"config file {config} is not valid YAML: " in one_error_line(err)
    assert train_cli.main(["--config", str(config), "--synthetic", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"edcf train: error: training config {config} is not valid YAML")


def test_init_box_beyond_the_bound_is_a_bad_box():
    with pytest.raises(InputError, match="too large"):
        as_box([1, 1, 1e154, 10])
    assert as_box([1, 1, 1e6, 10])[2] == 1e6


def test_gpu_preset_on_the_cpu_warns(short_seq, tmp_path, capsys):
    with pytest.warns(UserWarning, match="--preset gpu is made for a CUDA device; on cpu"):
        code, _ = edcf(capsys, "track", short_seq, "--preset", "gpu")
    assert code == 0


def test_weights_of_another_variant_warn_which_variant_they_were_trained_as(short_seq, tmp_path, capsys):
    ckpt = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)
    ckpt["variant"] = "SiamFC"
    weights = tmp_path / "siamfc_labelled.pth"
    torch.save(ckpt, weights)
    with pytest.warns(UserWarning, match=f"{weights} holds weights trained as SiamFC; tracking with them as EDCF"):
        code, _ = edcf(capsys, "track", short_seq, "--weights", weights)
    assert code == 0


def test_train_command_line_errors(tmp_path, capsys):
    def train(*args):
        code = train_cli.main([str(a) for a in args])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("edcf train: error: "), err
        return err[0]

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert "cannot create output folder" in train("--synthetic", "--out", blocker / "run")
    assert "--steps must be >= 1, got 0" in train("--synthetic", "--steps", "0", "--out", tmp_path / "r")
    assert "--threads must be >= 0" in train("--synthetic", "--threads", "-1", "--out", tmp_path / "r")
    root = make_otb_root(tmp_path / "seqs")
    gt = root / "seqA" / "groundtruth_rect.txt"
    gt.write_bytes(b"21,16,24,18\n\xff\xfe\xfa latin-1 \xe9\n")
    assert f"cannot read {gt}: not UTF-8 text" in train("--data", f"otb:{root}", "--out", tmp_path / "r")


def test_a_recipe_steps_0_still_means_use_the_epochs(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps: 0\nepochs: 3\n")
    parser = train_cli.argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    cfg = train_cli.build_config(parser.parse_args(["--config", str(recipe), "--synthetic", "--out", "x"]))
    assert cfg.steps == 0 and cfg.epochs == 3
    assert config_from_dict({"net": TINY_NET.to_dict(), "steps": 0}).steps == 0
