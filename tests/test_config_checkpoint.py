"""Typed config (unknown keys rejected) and the versioned checkpoint format."""
import pytest
import torch

from edcf_plugin.checkpoint import DEFAULT_WEIGHTS, build_network, load_checkpoint, make_checkpoint, save_checkpoint
from edcf_plugin.config import TrackerConfig, resolve_variant
from edcf_plugin.errors import ConfigError, WeightsError
from edcf_plugin.networks import EDCFNet, NetConfig
from edcf_plugin.tracking.tracker import build_tracker


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


@pytest.mark.parametrize("change, message", [
    ({"scale_step": float("nan")}, "'scale_step' must be a finite number"),
    ({"cf_lr": float("inf")}, "'cf_lr' must be a finite number"),
    ({"context_amount": -1.0}, "'context_amount' must be > 0"),
    ({"exemplar_size": 0}, "exemplar_size must be > 0"),
    ({"variant": "CACFNet", "search_size": 21}, "search_size >= 23"),
    ({"exemplar_size": 86}, r"with the semantic branch \(EDCF\) exemplar_size must be >= 87"),
    ({"variant": "SiamFC", "search_size": 100}, "search_size >= exemplar_size"),
    ({"cf_lambda2": -0.1}, "'cf_lambda2' must be >= 0"),
    ({"window_influence": 1.5}, "'window_influence' must lie in"),
    ({"semantic_window_influence": -0.1}, "'semantic_window_influence' must lie in"),
    ({"max_scale_change": 0.5}, "max_scale_change must be >= 1"),
    ({"cf_band": 1.0}, r"cf_band must lie in \[0, 1\)"),
    ({"cf_band": -1e-4}, r"cf_band must lie in \[0, 1\)"),
])
def test_config_rejects_values_that_cannot_track(change, message):
    with pytest.raises(ConfigError, match=message):
        TrackerConfig(**change)


def test_smallest_exemplar_size_gives_a_one_cell_embedding():
    from edcf_plugin.config import MIN_EXEMPLAR_SIZE

    net = EDCFNet(NetConfig(width=0.25)).eval()
    with torch.no_grad():
        assert net.embed(torch.zeros(1, 3, MIN_EXEMPLAR_SIZE, MIN_EXEMPLAR_SIZE)).shape[-2:] == (1, 1)
        with pytest.raises(RuntimeError):
            net.embed(torch.zeros(1, 3, MIN_EXEMPLAR_SIZE - 2, MIN_EXEMPLAR_SIZE - 2))
    TrackerConfig(exemplar_size=MIN_EXEMPLAR_SIZE, search_size=MIN_EXEMPLAR_SIZE)    # accepted
    TrackerConfig(variant="CACFNet", search_size=47)         # the CF branch alone works on small crops


def test_unreadable_config_files(tmp_path):
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read config file"):
        TrackerConfig.from_yaml(binary)
    with pytest.raises(ConfigError, match="cannot read config file"):
        TrackerConfig.from_yaml(tmp_path)                     # a folder
    from edcf_plugin.training.config import load_config
    with pytest.raises(ConfigError, match="cannot read training config"):
        load_config(binary)


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
    ckpt = make_checkpoint(EDCFNet(NetConfig(width=0.25)), "EDCF")
    ckpt["state_dict"] = list(ckpt["state_dict"].values())
    as_list = save_checkpoint(ckpt, tmp_path / "list.pth")
    with pytest.raises(WeightsError, match="'state_dict' must map parameter names to tensors, got list"):
        load_checkpoint(as_list)
    ckpt = make_checkpoint(EDCFNet(NetConfig(width=0.25)), "EDCF")
    ckpt["state_dict"]["fine_head.bias"][1] = float("inf")
    diverged = save_checkpoint(ckpt, tmp_path / "inf.pth")
    with pytest.raises(WeightsError, match=r"non-finite \(NaN or inf\) weights in \['fine_head.bias'\]"):
        load_checkpoint(diverged)


def test_pysot_realtime_config_is_the_realtime_preset():
    from pathlib import Path

    from edcf_plugin.config import TrackerConfig, preset
    path = Path(__file__).resolve().parents[1] / "toolkit_configs" / "pysot" / "edcf_realtime.yaml"
    assert TrackerConfig.from_yaml(path) == TrackerConfig().replace(**preset("realtime"))


def test_variants_track_with_their_own_bundled_weights_where_shipped(tmp_path, monkeypatch):
    from edcf_plugin import checkpoint

    monkeypatch.setattr(checkpoint, "VARIANT_WEIGHTS_DIR", tmp_path)
    assert checkpoint.default_weights("SiamFC") == DEFAULT_WEIGHTS          # none shipped: the EDCF model
    own = EDCFNet(NetConfig(width=0.125, embed_channels=16))
    save_checkpoint(make_checkpoint(own, "SiamFC"), tmp_path / checkpoint.VARIANT_WEIGHTS["SiamFC"])
    assert checkpoint.default_weights("SiamFC") == tmp_path / "siamfc.pth"
    assert checkpoint.default_weights("EDCF") == DEFAULT_WEIGHTS
    assert checkpoint.default_weights("CACFNet") == DEFAULT_WEIGHTS
    assert build_tracker("SiamFC").net.config.width == 0.125               # no --weights: its own
    assert build_tracker("SiamFC", weights=DEFAULT_WEIGHTS).net.config.width != 0.125
    assert build_tracker("EDCF").checkpoint["path"] == str(DEFAULT_WEIGHTS)


def test_shipped_variant_weights_are_their_variants_own():
    from edcf_plugin.checkpoint import VARIANT_WEIGHTS, VARIANT_WEIGHTS_DIR

    for variant, name in VARIANT_WEIGHTS.items():
        path = VARIANT_WEIGHTS_DIR / name
        if path.is_file():
            ckpt = load_checkpoint(path)
            assert ckpt["variant"] == variant, f"{path} was trained as {ckpt['variant']}"
            build_network(ckpt)


def test_bundled_models_from_imagenet_weights_ship_with_the_torchvision_notice():
    from edcf_plugin.checkpoint import VARIANT_WEIGHTS, VARIANT_WEIGHTS_DIR

    notice = (DEFAULT_WEIGHTS.parent / "NOTICE").read_text()
    variants = (VARIANT_WEIGHTS_DIR / name for name in VARIANT_WEIGHTS.values())
    shipped = [DEFAULT_WEIGHTS] + [p for p in variants if p.is_file()]
    for path in shipped:
        init = load_checkpoint(path)["metadata"].get("init") or {}
        if init.get("kind") == "imagenet-alexnet":
            assert len(init["sha256"]) == 64, path
            assert path.name in notice and "BSD 3-Clause" in notice, f"{path.name} derives from torchvision's weights"


def test_shipped_models_name_no_path_of_the_machine_that_trained_them():
    """Provenance in the shipped checkpoints is relative (a package file, a recipe, a run folder): no absolute path,
    no home directory, no site-packages of one machine."""
    from edcf_plugin.checkpoint import VARIANT_WEIGHTS, VARIANT_WEIGHTS_DIR

    def strings(obj):
        if isinstance(obj, dict):
            for value in obj.values():
                yield from strings(value)
        elif isinstance(obj, (list, tuple)):
            for value in obj:
                yield from strings(value)
        elif isinstance(obj, str):
            yield obj

    variants = (VARIANT_WEIGHTS_DIR / name for name in VARIANT_WEIGHTS.values())
    for path in [DEFAULT_WEIGHTS] + [p for p in variants if p.is_file()]:
        meta = load_checkpoint(path)["metadata"]
        for text in strings(meta):
            assert not text.startswith(("/", "~")) and "site-packages" not in text and ":\\" not in text, \
                f"{path.name} records a machine's path: {text}"
