"""got10k toolkit adapter: conventions at its edge, and a full OTB-protocol experiment on generated data."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("got10k", reason="the got10k toolkit (pip install got10k six) is an optional extra")

from got10k.experiments import ExperimentOTB  # noqa: E402
from got10k.trackers import Tracker  # noqa: E402

from edcf_plugin.toolkits.got10k import EDCFGot10kTracker, pil_to_bgr  # noqa: E402
from edcf_plugin.formats.generated_datasets import make_got10k_otb  # noqa: E402

torch.set_num_threads(1)


class FakeCore:
    variant = "Fake"

    def __init__(self):
        self.images, self.boxes = [], []

    def init(self, image, box):
        self.images.append(image)
        self.boxes.append(np.asarray(box, dtype=float))

    def update(self, image):
        self.images.append(image)
        return np.array([10.0, 20.0, 30.0, 40.0]), 0.5


def test_pil_rgb_in_bgr_and_one_based_boxes_at_the_edge():
    core = FakeCore()
    t = EDCFGot10kTracker(tracker=core)
    assert isinstance(t, Tracker) and t.name == "Fake" and t.is_deterministic
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[..., 0] = 200                                            # pure red in RGB
    t.init(Image.fromarray(rgb), [11, 21, 30, 40])
    assert core.images[0].shape == (6, 8, 3) and core.images[0][0, 0].tolist() == [0, 0, 200]   # BGR
    np.testing.assert_allclose(core.boxes[0], [10, 20, 30, 40])                                # 0-based
    np.testing.assert_allclose(t.update(Image.fromarray(rgb).convert("L")), [11, 21, 30, 40])   # 1-based
    assert core.images[1].shape == (6, 8, 3)                     # grayscale PIL expanded to 3 channels
    zero = EDCFGot10kTracker(tracker=FakeCore(), one_based=False)
    zero.init(Image.fromarray(rgb), [11, 21, 30, 40])
    np.testing.assert_allclose(zero.tracker.boxes[0], [11, 21, 30, 40])


def test_pil_to_bgr_rejects_bad_arrays():
    from edcf_plugin.errors import InputError
    with pytest.raises(InputError, match="shape"):
        pil_to_bgr(np.zeros((4, 4, 2), np.uint8))


def test_otb_experiment_runs_and_reports(tmp_path):
    root = make_got10k_otb(tmp_path / "OTB", "tb50", n_frames=3)
    exp = ExperimentOTB(str(root), version="tb50", result_dir=str(tmp_path / "results"),
                        report_dir=str(tmp_path / "reports"))
    tracker = EDCFGot10kTracker("SiamFC", overrides={"scale_num": 1})
    exp.run(tracker)
    res = tmp_path / "results" / "OTBtb50" / "SiamFC"
    files = sorted(res.glob("*.txt"))
    assert len(files) == len(exp.dataset) == 49
    for f in files:
        boxes = np.loadtxt(f, delimiter=",")
        assert boxes.shape == (3, 4) and np.isfinite(boxes).all()
    assert len(list((res / "times").glob("*_time.txt"))) == 49
    perf = exp.report([tracker.name])["SiamFC"]["overall"]
    assert perf["success_score"] > 0.5 and perf["precision_score"] > 0.9
    rep = tmp_path / "reports" / "OTBtb50" / "SiamFC"
    assert json.loads((rep / "performance.json").read_text())["SiamFC"]["overall"]["speed_fps"] > 0
    assert (rep / "success_plots.png").stat().st_size > 0 and (rep / "precision_plots.png").stat().st_size > 0


def test_local_experiment_runs_on_own_sequences_without_download(tmp_path, monkeypatch):
    """Issue 21 item 7: a user's own OTB-style folders (names that are not OTB's, a polygon file beside the
    rectangles) run got10k's OTB protocol; nothing tries to download."""
    import got10k.datasets.otb as otb_module

    from edcf_plugin.errors import InputError
    from edcf_plugin.toolkits.got10k import LocalExperiment, LocalSequences
    from edcf_plugin.formats.generated_datasets import make_sequence_folders

    def no_download(*args, **kwargs):
        raise AssertionError("got10k tried to download")

    monkeypatch.setattr(otb_module, "download", no_download)
    monkeypatch.setattr(otb_module.OTB, "_download", no_download)
    root = make_sequence_folders(tmp_path / "mine", {"my_cat": {}, "drone-7": {"step": (-1.0, 1.0)}},
                                 n_frames=6, split="test")
    rect = (root / "my_cat" / "groundtruth_rect.txt").read_text().splitlines()
    (root / "my_cat" / "groundtruth_polygon.txt").write_text(
        "".join(",".join(["1"] * 8) + "\n" for _ in rect))        # got10k's OTB would count this folder twice
    data = LocalSequences(root)
    assert data.seq_names == ["my_cat", "drone-7"] and len(data) == 2
    files, anno = data["drone-7"]
    assert len(files) == len(anno) == 6
    np.testing.assert_allclose(anno[0], [float(v) for v in
                                         (root / "drone-7" / "groundtruth_rect.txt").read_text().split()[0].split(",")])
    exp = LocalExperiment(root, name="mine", result_dir=str(tmp_path / "results"),
                          report_dir=str(tmp_path / "reports"))
    threads = torch.get_num_threads()
    tracker = EDCFGot10kTracker("SiamFC", overrides={"scale_num": 1}, name="edcf", threads=1)
    assert torch.get_num_threads() == 1
    torch.set_num_threads(threads)                              # leave the pytest process as it was
    exp.run(tracker)
    assert sorted(p.name for p in (tmp_path / "results" / "mine" / "edcf").glob("*.txt")) == \
        ["drone-7.txt", "my_cat.txt"]
    perf = exp.report(["edcf"])["edcf"]
    assert set(perf["seq_wise"]) == {"my_cat", "drone-7"} and perf["overall"]["success_score"] > 0.3
    assert (tmp_path / "reports" / "mine" / "edcf" / "performance.json").is_file()
    with pytest.raises(InputError, match="split 'bench'"):
        LocalSequences(root, split="bench")
    from edcf_plugin.errors import ConfigError
    with pytest.raises(ConfigError, match="threads must be a positive integer"):
        EDCFGot10kTracker(threads=0)
