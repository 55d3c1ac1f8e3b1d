"""The run seam (edcf_plugin.run): the loops every entry point uses, the tracker spec and the CLI error wrapper."""
import pickle

import numpy as np
import pytest

from edcf_plugin.config import preset
from edcf_plugin.errors import EDCFError, InputError
from edcf_plugin.run import INIT, LOST, SKIPPED, TrackerSpec, cli_main, one_pass, reset_based


class Scripted:
    """A tracker whose update returns the next scripted box (score = frame index); raises at ``fail_at``."""

    def __init__(self, boxes, fail_at=None):
        self.boxes, self.fail_at, self.calls = list(boxes), fail_at, []

    def init(self, image, box):
        self.calls.append(("init", int(image[0, 0, 0]), list(box)))

    def update(self, image):
        i = int(image[0, 0, 0])
        self.calls.append(("update", i))
        if i == self.fail_at:
            raise InputError("unreadable")
        return self.boxes[i], float(i)


def frames(n):
    return [np.full((8, 8, 3), i, np.uint8) for i in range(n)]


def test_one_pass_inits_on_the_first_frame_and_updates_the_rest():
    boxes = [[i, i, 4, 4] for i in range(5)]
    seen = []
    run = one_pass(Scripted(boxes), frames(5), [0, 0, 4, 4], on_frame=lambda i, f, b: seen.append((i, list(b))))
    assert run.boxes.tolist() == [[0, 0, 4, 4]] + [[float(i), float(i), 4, 4] for i in range(1, 5)]
    assert run.scores == [None, 1.0, 2.0, 3.0, 4.0]
    assert len(run.seconds) == 5 and all(s >= 0 for s in run.seconds)
    assert seen == [(i, b) for i, b in enumerate(run.entries)]


def test_one_pass_names_the_frame_and_keeps_what_was_tracked():
    boxes = [[i, i, 4, 4] for i in range(5)]
    with pytest.raises(InputError, match=r"^video 'x' frame 4: unreadable$") as info:
        one_pass(Scripted(boxes, fail_at=3), frames(5), [0, 0, 4, 4], where="video 'x' ")
    assert info.value.tracked_boxes.shape == (3, 4)
    with pytest.raises(InputError, match=r"^unreadable$") as info:        # without ``where``: the error as raised
        one_pass(Scripted(boxes, fail_at=2), frames(5), [0, 0, 4, 4])
    assert info.value.tracked_boxes.shape == (2, 4)


def test_reset_based_follows_the_vot_protocol():
    gt = [[10, 10, 4, 4]] * 14
    boxes = [[10, 10, 4, 4]] * 14
    boxes[3] = [50, 50, 4, 4]                 # no overlap: lost at frame 3
    run = reset_based(Scripted(boxes), frames(14), gt,
                      overlap=lambda b, g, size: float(abs(b[0] - g[0]) < 4 and abs(b[1] - g[1]) < 4))
    assert run.entries[:3] == [INIT, [10, 10, 4, 4], [10, 10, 4, 4]]
    assert run.entries[3] == LOST and run.lost == 1
    assert run.entries[4:8] == [SKIPPED] * 4                          # the four frames after the failure
    assert run.entries[8] == INIT                                     # re-initialised 5 frames after it
    assert run.entries[9:] == [[10, 10, 4, 4]] * 5
    assert [s is None for s in run.scores] == [e in (INIT, SKIPPED) for e in run.entries]


def test_cli_main_reports_a_users_error_on_one_line(capsys):
    def fails():
        raise EDCFError("bad thing\nsecond line")

    def interrupted():
        raise KeyboardInterrupt

    assert cli_main("prog", fails) == 2
    err = capsys.readouterr().err
    assert err.startswith("prog: error: bad thing") and err.count("\n") == 1
    assert cli_main("prog", interrupted) == 130
    assert cli_main("prog", lambda: None) == 0
    with pytest.raises(ZeroDivisionError):                            # a bug is not a user's error
        cli_main("prog", lambda: 1 / 0)


def test_tracker_spec_applies_the_preset_then_the_overrides():
    spec = TrackerSpec(variant="CACFNet", preset="fast", overrides={"scale_num": 5}, threads=1)
    assert spec.tracker_overrides() == {**preset("fast"), "scale_num": 5}
    assert pickle.loads(pickle.dumps(spec)) == spec
    tracker = spec.build()
    assert tracker.config.scale_num == 5 and tracker.variant == "CACFNet"
    for key, value in preset("fast").items():
        if key != "scale_num":
            assert getattr(tracker.config, key) == value, key
