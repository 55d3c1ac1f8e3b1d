"""The tracker end to end on generated sequences, its variants and its handling of bad input."""
import numpy as np
import pytest

from conftest import make_sequence
from edcf_plugin.boxes import iou
from edcf_plugin.config import VARIANTS
from edcf_plugin.errors import ConfigError, InputError
from edcf_plugin.tracker import build_tracker


def run(tracker, frames, box0):
    tracker.init(frames[0], box0)
    out = [np.asarray(box0, dtype=float)]
    for f in frames[1:]:
        box, score = tracker.update(f)
        assert isinstance(score, float) and np.isfinite(score)
        assert box.shape == (4,) and np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0
        out.append(box)
    return np.asarray(out)


def test_edcf_follows_moving_scaling_target(moving_sequence):
    frames, gt = moving_sequence
    pred = run(build_tracker("EDCF"), frames, gt[0])
    assert np.nanmean(iou(pred, gt)) > 0.6


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_tracks(variant):
    frames, gt = make_sequence(n=20, seed=1)
    pred = run(build_tracker(variant), frames, gt[0])
    assert np.nanmean(iou(pred, gt)) > 0.25


def test_grayscale_frames_are_accepted():
    frames, gt = make_sequence(n=15, gray=True, seed=2)
    assert frames[0].ndim == 2
    pred = run(build_tracker("EDCF"), frames, gt[0])
    assert np.nanmean(iou(pred, gt)) > 0.5
    # H x W x 1 too
    trk = build_tracker("CACFNet")
    trk.init(frames[0][:, :, None], gt[0])
    assert trk.update(frames[1][:, :, None])[0].shape == (4,)


@pytest.mark.parametrize("box,msg", [
    ([10, 10, 0, 5], "degenerate"), ([10, 10, -3, 5], "degenerate"), ([np.nan, 1, 5, 5], "NaN"),
    ([1, 2, 3], "4 values"), ([500, 500, 10, 10], "outside"), ([-50, -50, 10, 10], "outside"),
])
def test_bad_initial_boxes_are_rejected(box, msg):
    frames, _ = make_sequence(n=2)
    with pytest.raises(InputError, match=msg):
        build_tracker("CACFNet").init(frames[0], box)


def test_bad_images_are_rejected():
    trk = build_tracker("CACFNet")
    with pytest.raises(InputError):
        trk.init(np.zeros((10, 10, 5), np.uint8), [1, 1, 4, 4])
    with pytest.raises(InputError):
        trk.init("not an image", [1, 1, 4, 4])
    with pytest.raises(RuntimeError, match="before init"):
        build_tracker("CACFNet").update(np.zeros((20, 20, 3), np.uint8))


def test_unknown_variant_lists_valid_ones():
    with pytest.raises(ConfigError, match="EDCF"):
        build_tracker("NotATracker")


def test_target_leaving_the_frame_keeps_box_finite_and_near_frame():
    frames, gt = make_sequence(n=12, seed=3)
    trk = build_tracker("EDCF")
    trk.init(frames[0], gt[0])
    blank = np.full_like(frames[0], 127)
    h, w = blank.shape[:2]
    for _ in range(10):
        box, score = trk.update(blank)
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        assert 0 <= cx <= w and 0 <= cy <= h and np.isfinite(score)


@pytest.mark.parametrize("box", [[50, 60, 2, 2], [1, 1, 195, 155]])
def test_tiny_and_huge_targets(box):
    frames, _ = make_sequence(n=4, seed=4)
    trk = build_tracker("EDCF")
    trk.init(frames[0], box)
    for f in frames[1:]:
        b, _ = trk.update(f)
        assert np.all(np.isfinite(b)) and b[2] >= trk.config.min_target_size


def test_reinitialisation_starts_over(moving_sequence):
    frames, gt = moving_sequence
    trk = build_tracker("EDCF")
    run(trk, frames[:5], gt[0])
    pred = run(trk, frames[20:30], gt[20])
    assert np.nanmean(iou(pred, gt[20:30])) > 0.5


@pytest.mark.parametrize("name", ["realtime", "fast"])
def test_presets_track_and_profile_stages(name, moving_sequence):
    from edcf_plugin.config import preset

    frames, gt = moving_sequence
    trk = build_tracker("EDCF", overrides=preset(name))
    trk.profile = {}
    pred = run(trk, frames[:20], gt[0])
    assert np.nanmean(iou(pred, gt[:20])) > 0.5
    assert {"crop", "encoder", "cf_response", "fusion", "cf_update"} <= set(trk.profile)
    assert all(v > 0 for v in trk.profile.values())
