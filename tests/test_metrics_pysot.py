"""Metric functions against hand-worked cases (pysot-toolkit's definitions, see edcf_plugin/formats/metrics.py)."""
import math

import numpy as np
import pytest

from edcf_plugin.formats import metrics as M

GT = np.array([[0, 0, 10, 10]] * 4, dtype=float)
GT_WITH_ABSENT = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 0, 0]], dtype=float)
# frame 1 exact (IoU 1, distance 0); frame 2 shifted 5 px (IoU 50/150, distance 5);
# frame 3 far away (IoU 0, distance 50); frame 4 anything (its ground truth is absent).
PRED = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [30, 40, 10, 10], [0, 0, 10, 10]], dtype=float)


def test_thresholds_are_pysot_toolkits():
    assert len(M.SUCCESS_THRESHOLDS) == 21 and M.SUCCESS_THRESHOLDS[0] == 0
    assert np.array_equal(M.SUCCESS_THRESHOLDS, np.arange(0, 1.05, 0.05))
    assert M.PRECISION_THRESHOLDS[M.REPORT_INDEX] == 20
    assert M.NORM_PRECISION_THRESHOLDS[M.REPORT_INDEX] == pytest.approx(0.2)


def test_success_curve_hand_worked():
    curve = M.success_curve(PRED, GT_WITH_ABSENT)
    # IoU > t: frames 1 and 2 for t <= 0.30 (1/3 > 0.3000...04), frame 1 only up to 0.95, none at 1.0;
    # the absent frame is in the denominator (a miss), as in pysot-toolkit.
    expected = np.array([0.5] * 7 + [0.25] * 13 + [0.0])
    np.testing.assert_allclose(curve, expected)
    assert M.ope_scores(PRED, GT_WITH_ABSENT).auc == pytest.approx((7 * 0.5 + 13 * 0.25) / 21)


def test_precision_curve_counts_absent_centre_as_hit():
    curve = M.precision_curve(PRED, GT_WITH_ABSENT)
    # distances 0, 5, 50 and -1 (ground-truth centre not > 0: pysot-toolkit counts it as a hit)
    assert curve[0] == 0.5
    assert curve[4] == 0.5 and curve[5] == 0.75 and curve[20] == 0.75 and curve[49] == 0.75
    assert curve[50] == 1.0


def test_norm_precision_hand_worked():
    curve = M.norm_precision_curve(PRED, GT_WITH_ABSENT)
    # normalised distances 0, 0.5, 5.0 and the skipped absent frame
    assert curve[M.REPORT_INDEX] == 0.5            # threshold 0.2: frames 1 and 4
    assert curve[50] == 0.75                       # threshold 0.5: + frame 2
    assert curve[49] == 0.5


def test_otb_summary_percent():
    s = M.otb_summary(PRED, GT)
    # with frame 4 exact on a valid ground truth: IoU 1, 1/3, 0, 1
    assert s["auc"] == pytest.approx(100 * (7 * 0.75 + 13 * 0.5) / 21)
    assert s["op50"] == pytest.approx(50.0)
    assert s["dp20"] == pytest.approx(75.0)
    assert set(s) == {"auc", "op50", "dp20"}


def test_shift_invariance_one_based_vs_zero_based():
    a = M.ope_scores(PRED, GT).as_percent()
    b = M.ope_scores(PRED + [1, 1, 0, 0], GT + [1, 1, 0, 0]).as_percent()
    assert a == pytest.approx(b)


def test_present_flags_keep_denominator():
    present = np.array([1, 1, 0, 1])
    # frame 3 (the far miss) is dropped from the numerator and stays in the denominator: unchanged here,
    # while dropping frame 1 (a hit) lowers the curve.
    np.testing.assert_allclose(M.success_curve(PRED, GT, present), M.success_curve(PRED, GT))
    assert M.success_curve(PRED, GT, np.array([0, 1, 1, 1]))[0] == 0.5


def test_nan_prediction_is_a_miss():
    pred = PRED.copy()
    pred[0] = np.nan
    assert M.success_curve(pred, GT)[0] == 0.5
    assert M.precision_curve(pred, GT)[50] == 0.75


def test_mean_over_sequences_weighs_sequences_equally():
    s1 = M.ope_scores(PRED[:1], GT[:1])          # one perfect frame
    s2 = M.ope_scores(PRED[2:3], GT[2:3])        # one total miss
    m = M.mean_ope_scores([s1, s2])
    assert m.dp20 == pytest.approx(0.5) and m.op50 == pytest.approx(0.5)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="rows"):
        M.success_curve(PRED[:3], GT)


# ---------------------------------------------------------------------------------------------- VOT

def test_region_overlap_rectangles_and_bounds():
    assert M.region_overlap([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(1 / 3)
    assert M.region_overlap([0, 0, 10, 10], [20, 0, 10, 10]) == 0.0
    # half of A lies left of the image: clipped to the image it equals B
    assert M.region_overlap([-5, 0, 10, 10], [0, 0, 5, 10]) == pytest.approx(0.5)
    assert M.region_overlap([-5, 0, 10, 10], [0, 0, 5, 10], bounds=(100, 100)) == pytest.approx(1.0)
    assert math.isnan(M.region_overlap([2], [0, 0, 5, 10]))


def test_region_overlap_polygon():
    diamond = [10, 0, 20, 10, 10, 20, 0, 10]             # area 200
    # the diamond's part inside the top-left quadrant is a triangle of area 50
    assert M.region_overlap([0, 0, 10, 10], diamond) == pytest.approx(50 / 250)
    assert M.region_overlap(diamond, [0, 0, 10, 10]) == pytest.approx(50 / 250)


def test_region_overlap_two_non_convex_polygons():
    ell = np.array([0, 0, 20, 0, 20, 10, 10, 10, 10, 20, 0, 20], dtype=float)   # L shape, area 300
    shifted = ell + 5
    # intersection: [5,20]x[5,10] + [5,10]x[10,15] + [5,10]x[15,20] = 75 + 25 + 25
    assert M.region_overlap(ell, shifted) == pytest.approx(125 / 475)


def test_region_overlap_matches_brute_force_raster():
    rng = np.random.default_rng(1)
    for _ in range(5):
        c = rng.uniform(20, 40, 2)
        ang = rng.uniform(0, np.pi)
        d = np.array([[np.cos(ang), np.sin(ang)], [-np.sin(ang), np.cos(ang)]])
        half = rng.uniform(4, 12, 2)
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half @ d + c
        rect = [*rng.uniform(15, 35, 2), *rng.uniform(5, 20, 2)]
        ys, xs = np.mgrid[0:60:0.05, 0:60:0.05] + 0.025
        local = (np.stack([xs - c[0], ys - c[1]], -1) @ d.T) / half
        in_poly = np.all(np.abs(local) <= 1, axis=-1)
        in_rect = (xs >= rect[0]) & (xs <= rect[0] + rect[2]) & (ys >= rect[1]) & (ys <= rect[1] + rect[3])
        oracle = (in_poly & in_rect).sum() / (in_poly | in_rect).sum()
        assert M.region_overlap(rect, corners.reshape(-1)) == pytest.approx(oracle, abs=5e-3)


BOX, HALF = [0, 0, 10, 10], [5, 0, 10, 10]                # IoU 1 and 1/3 against the ground truth BOX


def _traj_with_failure():
    return [[1], BOX, HALF, [2], [0], [0], [0], [0], [1], BOX, [0, 5, 10, 10], BOX]


def test_failures_and_accuracy_with_burnin():
    traj = _traj_with_failure()
    gt = [BOX] * len(traj)
    assert M.vot_failures(traj) == [3]
    acc, ov = M.vot_accuracy(traj, gt, (100, 100), burnin=2)
    # burn-in drops frames 0-1 and 8-9; left: 1/3, 1/3, 1
    assert acc == pytest.approx(5 / 9)
    assert np.isnan(ov[[0, 1, 3, 4, 8, 9]]).all()
    acc0, _ = M.vot_accuracy(traj, gt, (100, 100), burnin=0)
    assert acc0 == pytest.approx((1 + 1 / 3 + 1 + 1 / 3 + 1) / 5)


def test_ar_scores_pool_frames_and_count_failures_per_100_frames():
    a = M.VOTSequence("a", [BOX] * 12, 100, 100, [_traj_with_failure()])
    b = M.VOTSequence("b", [BOX] * 4, 100, 100, [[[1], BOX, BOX, BOX]])
    r = M.ar_scores([a, b], burnin=2)
    assert r["accuracy"] == pytest.approx((1 / 3 + 1 / 3 + 1 + 1 + 1) / 5)
    assert r["lost"] == 1.0
    assert r["robustness"] == pytest.approx(100 * 1 / 16)
    assert r["per_sequence"]["a"]["lost"] == 1.0 and r["per_sequence"]["b"]["accuracy"] == 1.0


def test_expected_overlap_without_reinit():
    tall = [0, 0, 10, 20]                                  # IoU 0.5 with BOX
    a = M.VOTSequence("a", [BOX] * 4, 100, 100, [[[1], BOX, BOX, tall]])
    b = M.VOTSequence("b", [BOX] * 6, 100, 100, [[[1], tall, [2], [0], [0], [0]]])
    eao, curve = M.expected_average_overlap([a, b], low=2, high=4)
    # fragments: a = [nan, 1, 1, .5] (ends after 4 frames), b = [0, .5, 0, 0, 0, 0] (failed, no re-init)
    np.testing.assert_allclose(curve, [1, 0.75, 0.625, 0.5, 0.125, 0.1], atol=1e-6)
    assert eao == pytest.approx((0.75 + 0.625 + 0.5) / 3, abs=1e-6)


def test_expected_overlap_fragments_at_reinit():
    half = [0, 0, 10, 20]
    traj = [[1], BOX, [2], [0], [0], [0], [0], [1], BOX, half]
    c = M.VOTSequence("c", [BOX] * 10, 100, 100, [traj])
    frags, w = M.eao_fragments([c])
    # cut at 0 and 2 + 5 = 7: frames 0..7 (zero-padded: it failed) and 7..9 (ends with the sequence)
    np.testing.assert_allclose(frags[0], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(frags[1][:3], [0, 1, 0.5])
    assert np.isnan(frags[1][3:]).all()
    np.testing.assert_allclose(w, [1, 1])
    curve = M.expected_overlap_curve(frags, w)
    np.testing.assert_allclose(curve[:4], [1, 1, 0.625, 1 / 3], atol=1e-6)
    assert curve[9] == pytest.approx(1 / 9, abs=1e-6)


def test_eao_is_nan_when_runs_are_shorter_than_the_range():
    a = M.VOTSequence("a", [BOX] * 4, 100, 100, [[[1], BOX, BOX, BOX]])
    eao, _ = M.expected_average_overlap([a], low=100, high=356)
    assert math.isnan(eao)
