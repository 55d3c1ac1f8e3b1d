"""Typed config (unknown keys rejected) and the versioned checkpoint format."""
import pytest
import torch

from edcf_plugin.checkpoint import DEFAULT_WEIGHTS, build_network, load_checkpoint, make_checkpoint, save_checkpoint
from edcf_plugin.config import TrackerConfig, resolve_variant
from edcf_plugin.errors import ConfigError, WeightsError
from edcf_plugin.networks import EDCFNet, NetConfig
from edcf_plugin.tracker import build_tracker


def test_config_rejects_unknown_keys_with_valid_list(tmp_path):
    with pytest.raises(ConfigError, match="valid keys: .*scale_step"):
        TrackerConfig.from_dict({"scale_stp": 1.1})
    p = tmp_path / "c.yaml"
    p.write_text("scale_step: 1.03\nwindow_influence: 0.3\n")
    cfg = TrackerConfig.from_yaml(p, variant="CACFNet_plus")
    assert cfg.scale_step == 1.03 and cfg.window_influence == 0.3 and cfg.variant == "CACFNet+"
    p.write_text("scale_num: two\n")
    with pytest.raises(ConfigError, match="scale_num"):
        TrackerConfig.from_yaml(p)
    with pytest.raises(ConfigError, match="not found"):
        TrackerConfig.from_yaml(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="odd"):
        TrackerConfig(scale_num=2)


def test_variant_aliases():
    assert resolve_variant("cacfnet_plus") == "CACFNet+"
    assert resolve_variant("edcf") == "EDCF"
    assert TrackerConfig(variant="CACFNet").uses_cf and not TrackerConfig(variant="CACFNet").uses_semantic


def test_checkpoint_round_trip(tmp_path):
    net = EDCFNet(NetConfig(width=0.25))
    path = save_checkpoint(make_checkpoint(net, "EDCF", metadata={"step": 3}), tmp_path / "m.pth")
    ckpt = load_checkpoint(path)
    assert ckpt["metadata"]["step"] == 3 and "git_revision" in ckpt["metadata"]
    net2 = build_network(ckpt)
    for (k, a), (_, b) in zip(net.state_dict().items(), net2.state_dict().items()):
        torch.testing.assert_close(a.float(), b.float(), msg=k)
    assert build_tracker("EDCF", weights=path).net.config.width == 0.25


def test_half_precision_bundle_loads_as_float32(tmp_path):
    net = EDCFNet(NetConfig(width=0.25))
    path = save_checkpoint(make_checkpoint(net, "EDCF", include_decoder=False, half=True), tmp_path / "h.pth")
    net2 = build_network(load_checkpoint(path))
    assert next(net2.parameters()).dtype == torch.float32


def test_bundled_default_loads():
    assert DEFAULT_WEIGHTS.is_file()
    ckpt = load_checkpoint()
    assert ckpt["variant"] in ("EDCF", "CACFNet+")
    build_network(ckpt)


def test_bad_weights_files(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_checkpoint(tmp_path / "none.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"this is not a checkpoint")
    with pytest.raises(WeightsError, match="cannot read"):
        load_checkpoint(junk)
    foreign = tmp_path / "foreign.pth"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(WeightsError, match="not an EDCF checkpoint"):
        load_checkpoint(foreign)
    ckpt = make_checkpoint(EDCFNet(NetConfig(width=0.25)), "EDCF")
    ckpt["net_config"]["width"] = 0.5          # weights no longer match the declared architecture
    mismatched = save_checkpoint(ckpt, tmp_path / "mismatch.pth")
    with pytest.raises(WeightsError, match="do not match"):
        build_network(load_checkpoint(mismatched))


def test_pysot_realtime_config_is_the_realtime_preset():
    from pathlib import Path

    from edcf_plugin.config import TrackerConfig, preset
    path = Path(__file__).resolve().parents[1] / "toolkit_configs" / "pysot" / "edcf_realtime.yaml"
    assert TrackerConfig.from_yaml(path) == TrackerConfig().replace(**preset("realtime"))
