"""The training loop: loss goes down, checkpoints round-trip into the tracker, resume, failures, the CLI."""
import errno
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from edcf_plugin.checkpoint import load_checkpoint
from edcf_plugin.machine import cpu_features
from edcf_plugin.networks import EDCFNet
from edcf_plugin.tracking.tracker import EDCFTracker
from edcf_plugin.commands import train as cli
from edcf_plugin.training import trainer
from edcf_plugin.training.config import TrainConfig, config_from_dict, load_config
from edcf_plugin.training.losses import EDCFActor, loss_weights
from edcf_plugin.training.processing import PairProcessing
from edcf_plugin.training.sampler import PairDataset
from edcf_plugin.training.synthetic import SyntheticTracks
from edcf_plugin.errors import ConfigError
from train_helpers import TINY_ARGS, TINY_NET, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_cfg(**kw) -> TrainConfig:
    base = {"net": TINY_NET.to_dict(), "use_synthetic": True,
            "synthetic": {"num_tracks": 6, "num_frames": 20, "size": [120, 160]},
            "batch_size": 2, "samples_per_epoch": 4, "steps": 4, "num_workers": 0, "log_every": 1, "threads": 1}
    base.update(kw)
    return config_from_dict(base)


def test_short_cpu_run_on_synthetic_lowers_the_loss():
    torch.manual_seed(0)
    ds = SyntheticTracks(4, 20, size=(120, 160), seed=0)
    pairs = PairDataset([ds], PairProcessing(), 2, frame_range=5, seed=0)
    batch = torch.utils.data.default_collate([pairs[i] for i in range(2)])
    net = EDCFNet(TINY_NET)
    actor = EDCFActor(net, loss_weights("EDCF", {"low": 0.01}))
    net.adjust.weight.requires_grad_(False)
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=1e-2, momentum=0.9)
    losses = []
    for _ in range(10):
        loss, _ = actor(batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        losses.append(float(loss.detach()))
    assert all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < 0.9 * np.mean(losses[:3])


def test_checkpoint_round_trips_into_the_tracker_and_resume_continues(tmp_path):
    out = tmp_path / "run"
    res = trainer.train(tiny_cfg(steps=4), out, device="cpu", progress=False)
    assert res["step"] == 4 and (out / "last.pth").is_file()
    ckpt = torch.load(out / "last.pth", map_location="cpu", weights_only=True)
    assert ckpt["step"] == 4 and ckpt["epoch"] == 1 and ckpt["metadata"]["trained"] is True
    assert "git_revision" in ckpt["metadata"] and ckpt["train_config"]["steps"] == 4
    assert ckpt["optimizer"]["state"] and ckpt["scheduler"]["last_epoch"] == 4
    # round trip: EDCFTracker(weights=...) uses exactly the trained weights
    tr = EDCFTracker(weights=out / "last.pth", device="cpu")
    trained = EDCFNet(TINY_NET)
    trained.load_state_dict({k: v for k, v in ckpt["state_dict"].items()})
    for k, v in trained.state_dict().items():
        assert torch.equal(tr.net.state_dict()[k], v), k
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    tr.init(img, [50, 40, 30, 24])
    box, score = tr.update(img)
    ref = EDCFTracker(device="cpu", net=trained)
    ref.init(img, [50, 40, 30, 24])
    box2, _ = ref.update(img)
    assert np.allclose(box, box2) and np.isfinite(score)
    # export: compact (fp16, no decoder, no optimiser) and loadable by the tracker with the same outputs
    from edcf_plugin.training.export import export_model
    small = export_model(out / "last.pth", tmp_path / "model.pth")
    assert small.stat().st_size < 0.5 * (out / "last.pth").stat().st_size
    ex = EDCFTracker(weights=small, device="cpu")
    assert not any(k.startswith("decoder.") for k in load_checkpoint(small)["state_dict"])
    ex.init(img, [50, 40, 30, 24])
    assert np.abs(ex.update(img)[0] - box2).max() < 2.0                    # fp16 rounding only
    # resume: continues from step 4 to step 6, same lr schedule position, history appended
    res2 = trainer.train(tiny_cfg(steps=6), out, device="cpu", resume=out / "last.pth", progress=False)
    assert res2["step"] == 6
    ck2 = load_checkpoint(out / "last.pth")
    assert ck2["step"] == 6 and ck2["epoch"] == 2 and len(ck2["history"]) == 3
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]
    lr = [json.loads(line)["lr"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert all(a > b for a, b in zip(lr, lr[1:]))                    # one exponential schedule across resume


def test_resume_rejects_a_non_training_checkpoint(tmp_path):
    from edcf_plugin.checkpoint import make_checkpoint, save_checkpoint
    save_checkpoint(make_checkpoint(EDCFNet(TINY_NET), "EDCF"), tmp_path / "plain.pth")
    with pytest.raises(ConfigError, match="not a training checkpoint"):
        trainer.train(tiny_cfg(), tmp_path / "o", resume=tmp_path / "plain.pth", progress=False)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    calls = {"n": 0}
    forward = EDCFActor.forward

    def poisoned(self, batch):
        loss, stats = forward(self, batch)
        calls["n"] += 1
        return (loss * float("nan") if calls["n"] == 3 else loss), stats

    monkeypatch.setattr(EDCFActor, "forward", poisoned)
    out = tmp_path / "run"
    with pytest.raises(trainer.TrainingError, match="non-finite loss .* step 3"):
        trainer.train(tiny_cfg(steps=6), out, device="cpu", progress=False)
    assert load_checkpoint(out / "last.pth")["step"] == 2             # epoch 1 (steps 1-2) kept


def test_no_space_left_for_a_checkpoint(tmp_path, monkeypatch):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(trainer, "save_checkpoint", full)
    with pytest.raises(trainer.TrainingError, match="no space left"):
        trainer.train(tiny_cfg(steps=2), tmp_path / "run", device="cpu", progress=False)


def test_config_rejects_unknown_keys_and_recipes_load(tmp_path):
    with pytest.raises(ConfigError, match="valid keys"):
        config_from_dict({"lr": 1})
    with pytest.raises(ConfigError, match="'net' key"):
        config_from_dict({"net": {"depth": 3}})
    import pathlib
    recipes = sorted((pathlib.Path(__file__).parents[1] / "train" / "configs").glob("*.yaml"))
    assert recipes and all(load_config(p).variant == "EDCF" for p in recipes)
    ablation = load_config(pathlib.Path(__file__).parents[1] / "train" / "configs" / "ablation_imagenet.yaml")
    for variant in ("SiamFC", "EDSiam", "CACFNet", "CACFNet+", "EDCF"):      # --variant picks Eq. 15's terms
        assert config_from_dict({**ablation.to_dict(), "variant": variant}).variant == variant


def test_cli_synthetic_steps_writes_a_checkpoint(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = cli.main(["--synthetic", "--steps", "20", "--device", "cpu", "--out", str(out), "--data", "synthetic:4"]
                  + TINY_ARGS)
    assert rc == 0
    ck = load_checkpoint(out / "last.pth")
    assert ck["step"] == 20 and ck["variant"] == "EDCF"
    EDCFTracker(weights=out / "last.pth").warmup((96, 128))
    capsys.readouterr()
    # --resume keeps the saved recipe: recipe flags given with it are ignored, and the command says which
    rc = cli.main(["--resume", str(out / "last.pth"), "--steps", "22", "--batch-size", "3", "--seed", "9",
                   "--device", "cpu", "--out", str(out), "--no-progress"])
    assert rc == 0
    assert "ignored: --batch-size, --seed" in capsys.readouterr().err
    ck = load_checkpoint(out / "last.pth")
    assert ck["step"] == 22 and ck["train_config"]["batch_size"] != 3 and ck["train_config"]["seed"] != 9
    assert cli.main(["--device", "cpu", "--out", str(out)]) == 2                   # no data
    assert cli.main(["--synthetic", "--variant", "nope", "--out", str(out)]) == 2   # one-line error
    assert "unknown variant" in capsys.readouterr().err


def test_python_m_train_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "train", "--help"], capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert proc.returncode == 0 and "--synthetic" in proc.stdout and "--resume" in proc.stdout


def test_validation_tracks_each_branch_and_selects_the_checkpoint(tmp_path):
    from train_helpers import make_otb_root
    root = make_otb_root(tmp_path / "seqs")
    val = {"root": str(root), "sequences": ["seqB"], "branches": True, "select": "mean"}
    out = tmp_path / "run"
    trainer.train(tiny_cfg(steps=4, samples_per_epoch=4, validation=val), out, device="cpu", progress=False)
    hist = json.loads((out / "history.json").read_text())
    rows = hist["history"]
    assert len(rows) == 2 and (out / "best.pth").is_file()
    for r in rows:
        aucs = [r["val/auc"], r["val/semantic/auc"], r["val/cf/auc"]]
        assert all(0.0 <= a <= 100.0 for a in aucs) and r["val/seqB/auc"] == r["val/auc"]
        assert r["val/semantic/seqB/auc"] == r["val/semantic/auc"] and r["val/cf/seqB/auc"] == r["val/cf/auc"]
        assert r["val/mean_auc"] == pytest.approx(np.mean(aucs))
    assert hist["best_val_auc"] == pytest.approx(max(r["val/mean_auc"] for r in rows))   # select: mean
    best = torch.load(out / "best.pth", map_location="cpu", weights_only=True)
    assert best["metrics"]["val/mean_auc"] == pytest.approx(hist["best_val_auc"])
    # the run records the library versions its numbers depend on, in the history and in every checkpoint
    env = hist["environment"]
    assert env["torch"] == f"torch {torch.__version__}"
    assert env["numpy"] == f"numpy {np.__version__}" and env["python"].count(".") == 2
    assert {k: env[k] for k in ("cpu", "amx", "avx512_bf16", "capability")} == cpu_features()
    assert best["metadata"]["environment"] == env
    # wrong settings are refused before any training
    with pytest.raises(ConfigError, match="needs validation branches"):
        tiny_cfg(validation={"root": str(root), "sequences": ["seqB"], "select": "cf"})
    with pytest.raises(ConfigError, match="one of"):
        tiny_cfg(validation={"root": str(root), "sequences": ["seqB"], "select": "best"})
    with pytest.raises(ConfigError, match="EDCF variant"):
        tiny_cfg(variant="SiamFC", validation={"root": str(root), "sequences": ["seqB"], "branches": True})
    with pytest.raises(ConfigError, match="split 'bench'"):
        trainer.train(tiny_cfg(validation={"root": str(root), "sequences": ["seqC"]}), tmp_path / "r2",
                      device="cpu", progress=False)


def test_cli_flags_for_branch_validation_and_real_images(tmp_path, capsys):
    import argparse
    from train_helpers import make_otb_root
    root = make_otb_root(tmp_path / "seqs")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--synthetic", "--out", str(tmp_path / "o"), "--val-root", str(root),
                              "--val-sequences", "seqB", "--val-branches", "--val-select", "semantic",
                              "--real-images", str(root)])
    cfg = cli.build_config(args)
    assert cfg.validation.branches and cfg.validation.select == "semantic"
    assert cfg.synthetic["real_images"] == [str(root)]
    synth = trainer.build_data(cfg)[0][-1]                 # the held-out seqB stays out of the real images
    assert synth.real_paths and not any("seqB" in p or "seqC" in p for p in synth.real_paths)
    # --val-select other than auc without --val-branches: a one-line error, exit 2
    assert cli.main(["--synthetic", "--out", str(tmp_path / "o2"), "--val-root", str(root), "--val-sequences", "seqB",
                     "--val-select", "cf"] + TINY_ARGS) == 2
    assert "needs validation branches" in capsys.readouterr().err


def test_loader_workers_draw_new_pairs_every_epoch():
    """With loader workers, set_epoch must reach them: epoch 2 draws other pairs than epoch 1 (persistent workers
    kept the first epoch's copy of the dataset and repeated its pairs)."""
    cfg = tiny_cfg(num_workers=1, samples_per_epoch=4, batch_size=2)
    ds = SyntheticTracks(6, 20, size=(120, 160), seed=0)
    pairs = PairDataset([ds], PairProcessing(), 4, frame_range=5, seed=0)
    loader = trainer.make_loader(pairs, cfg, None, torch.device("cpu"))
    epochs = []
    for epoch in range(2):
        pairs.set_epoch(epoch)
        epochs.append(torch.cat([b["search"] for b in loader]))
    pairs.set_epoch(1)
    expected = torch.stack([pairs[i]["search"] for i in range(4)])
    assert not torch.equal(epochs[0], epochs[1])
    assert torch.equal(epochs[1], expected)
