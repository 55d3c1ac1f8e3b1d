"""Training datasets: readers on tiny fake trees, splits, bad input, the index cache, synthetic data, pairs."""
import cv2
import numpy as np
import pytest

from edcf_plugin.errors import ConfigError, InputError
from edcf_plugin.training.datasets import (GOT10k, ImageNetVID, LaSOT, OTBFolders, Track, TrackDataset,
                                           parse_boxes_tolerant)
from edcf_plugin.training.data_sources import parse_data_spec
from edcf_plugin.training.processing import PairProcessing
from edcf_plugin.training.sampler import PairDataset
from edcf_plugin.training.synthetic import SyntheticTracks
from train_helpers import make_otb_root


def test_otb_train_split_only_and_bench_refused(tmp_path):
    root = make_otb_root(tmp_path / "seqs")
    ds = OTBFolders(root, "train")
    assert [t.name for t in ds.tracks] == ["seqA", "seqB"]
    # 1-based file -> 0-based boxes
    assert (root / "seqA" / "groundtruth_rect.txt").read_text().splitlines()[0] == "33,30,24,18"
    assert ds.tracks[0].boxes[0].tolist() == [32.0, 29.0, 24.0, 18.0]
    assert [t.name for t in OTBFolders(root, "train", exclude=["seqB"]).tracks] == ["seqA"]
    with pytest.raises(ConfigError, match="bench"):
        OTBFolders(root, "bench")
    assert [t.name for t in OTBFolders(root, None).tracks] == ["seqA", "seqB"]   # no split: bench left out
    assert len(OTBFolders(root, "bench", allow_bench=True).tracks) == 1


def test_corrupt_lines_skipped_and_counted(tmp_path, capsys):
    root = make_otb_root(tmp_path / "seqs", bad_line=True)
    ds = OTBFolders(root, "train")
    assert ds.stats["bad_lines"] == 1
    assert not ds.tracks[0].visible[2] and ds.tracks[0].visible[1]
    assert "skipped 1 corrupt" in capsys.readouterr().out
    boxes, bad = parse_boxes_tolerant("1,2,3,4\nx\n5 6 7 8\n", expected=4)
    assert bad == 2 and boxes.shape == (4, 4) and np.isnan(boxes[1]).all() and np.isnan(boxes[3]).all()


def test_missing_root_and_annotation_named(tmp_path):
    with pytest.raises(InputError, match="not found"):
        OTBFolders(tmp_path / "nope", "train")
    root = make_otb_root(tmp_path / "seqs")
    (root / "seqA" / "groundtruth_rect.txt").unlink()
    with pytest.raises(InputError, match="seqA.groundtruth_rect.txt"):
        OTBFolders(root, "train")
    with pytest.raises(InputError, match="ILSVRC2015-VID frame folder"):
        ImageNetVID(tmp_path)
    with pytest.raises(InputError, match="GOT-10k"):
        GOT10k(tmp_path)


def _write_vid(root, n=4):
    data = root / "Data" / "VID" / "train" / "snip0"
    ann = root / "Annotations" / "VID" / "train" / "snip0"
    data.mkdir(parents=True)
    ann.mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(data / f"{i:06d}.JPEG"), np.zeros((40, 60, 3), np.uint8))
        objs = f"""<object><trackid>0</trackid><name>n1</name><bndbox><xmax>{20 + i}</xmax><xmin>{10 + i}</xmin>
            <ymax>30</ymax><ymin>5</ymin></bndbox><occluded>{1 if i == 1 else 0}</occluded></object>"""
        if i < 2:
            objs += """<object><trackid>3</trackid><bndbox><xmax>50</xmax><xmin>40</xmin><ymax>20</ymax>
                <ymin>10</ymin></bndbox><occluded>0</occluded></object>"""
        (ann / f"{i:06d}.xml").write_text(f"<annotation><folder>snip0</folder>{objs}</annotation>")


def test_vid_reader_tracks_occlusion_and_cache(tmp_path, monkeypatch):
    _write_vid(tmp_path / "vid")
    cache = tmp_path / "cache"
    ds = ImageNetVID(tmp_path / "vid", cache_dir=cache)
    names = sorted(t.name for t in ds.tracks)
    assert names == ["snip0/0", "snip0/3"]
    t0 = [t for t in ds.tracks if t.name == "snip0/0"][0]
    assert t0.boxes[2].tolist() == [12.0, 5.0, 11.0, 26.0]
    assert t0.visible.tolist() == [True, False, True, True]
    t3 = [t for t in ds.tracks if t.name == "snip0/3"][0]
    assert t3.visible.tolist() == [True, True, False, False]        # absent in frames 2-3
    assert (cache / "vid_train.json").is_file()
    # second start reads the cache: parsing must not run again
    monkeypatch.setattr(ImageNetVID, "_parse", staticmethod(lambda *a: (_ for _ in ()).throw(AssertionError)))
    again = ImageNetVID(tmp_path / "vid", cache_dir=cache)
    assert sorted(t.name for t in again.tracks) == names
    assert again.tracks[0].frames[0].endswith("000000.JPEG")


def test_got10k_reader_absence_and_cover(tmp_path):
    base = tmp_path / "got" / "train"
    seq = base / "GOT-10k_Train_000001"
    seq.mkdir(parents=True)
    for i in range(5):
        cv2.imwrite(str(seq / f"{i + 1:08d}.jpg"), np.zeros((30, 40, 3), np.uint8))
    (seq / "groundtruth.txt").write_text("1,2,10,12\n2,2,10,12\n3,2,10,12\nbad\n5,2,10,12\n")
    (seq / "absence.label").write_text("0\n0\n1\n0\n0\n")
    (seq / "cover.label").write_text("8\n0\n8\n8\n8\n")
    (base / "list.txt").write_text("GOT-10k_Train_000001\n")
    ds = GOT10k(tmp_path / "got")
    assert ds.tracks[0].visible.tolist() == [True, False, False, False, True]
    assert ds.stats["bad_lines"] == 1 and ds.tracks[0].boxes[0].tolist() == [1, 2, 10, 12]


def test_lasot_reader_flags_and_one_based(tmp_path):
    seq = tmp_path / "lasot" / "cat" / "cat-1"
    (seq / "img").mkdir(parents=True)
    for i in range(4):
        cv2.imwrite(str(seq / "img" / f"{i + 1:08d}.jpg"), np.zeros((30, 40, 3), np.uint8))
    (seq / "groundtruth.txt").write_text("\n".join(["11,21,5,6"] * 4))
    (seq / "full_occlusion.txt").write_text("0,1,0,0")
    (seq / "out_of_view.txt").write_text("0,0,0,1")
    ds = LaSOT(tmp_path / "lasot")
    assert ds.tracks[0].boxes[0].tolist() == [10, 20, 5, 6]
    assert ds.tracks[0].visible.tolist() == [True, False, True, False]


def test_data_specs():
    assert parse_data_spec("otb:/a/b") == {"kind": "otb", "root": "/a/b"}
    assert parse_data_spec("synthetic:7") == {"kind": "synthetic", "num_tracks": 7}
    with pytest.raises(ConfigError, match="unknown dataset kind"):
        parse_data_spec("foo:/x")
    with pytest.raises(ConfigError, match="needs a path"):
        parse_data_spec("vid")


def test_synthetic_is_deterministic_and_boxes_in_frame():
    a, b = SyntheticTracks(3, 30, seed=5), SyntheticTracks(3, 30, seed=5)
    assert np.array_equal(a.read_frame(a.tracks[1], 7), b.read_frame(b.tracks[1], 7))
    assert not np.array_equal(a.read_frame(a.tracks[1], 7), SyntheticTracks(3, 30, seed=6).read_frame(a.tracks[1], 7))
    for t in a.tracks:
        bx = t.boxes
        assert (bx[:, 0] >= -1).all() and (bx[:, 0] + bx[:, 2] <= 321).all() and (bx[:, 2] > 5).all()
    img = a.read_frame(a.tracks[0], 0)
    assert img.shape == (240, 320, 3) and img.dtype == np.uint8 and img.std() > 5


def test_pair_sampler_deterministic_and_frame_range():
    ds = SyntheticTracks(4, 40, seed=0)
    pairs = PairDataset([ds], PairProcessing(), 8, frame_range=5, seed=1)
    s1, s2 = pairs[3], pairs[3]
    assert all(np.array_equal(s1[k].numpy(), s2[k].numpy()) for k in s1)
    rng = np.random.default_rng(0)
    for _ in range(50):
        _, track, i, j = pairs.sample_pair(rng)
        assert abs(i - j) <= 5 and i != j and track.visible[i] and track.visible[j]
    pairs.set_epoch(1)
    assert not np.array_equal(pairs[3]["search"].numpy(), s1["search"].numpy())


def test_distractor_pasted_beside_the_target_deterministically():
    from edcf_plugin.training.processing import ProcessingConfig, paste_distractor
    rng = np.random.default_rng(0)
    for _ in range(30):
        x = np.zeros((255, 255, 3), np.uint8)
        target = (127.5 + rng.uniform(-40, 40), 127.5 + rng.uniform(-40, 40), 40.0, 70.0)
        box = paste_distractor(x, target, np.full((9, 5, 3), 200, np.uint8), rng, 0.25, 32.0)
        assert box is not None
        x0, y0, w, h = box
        assert (x[y0:y0 + h, x0:x0 + w] == 200).all() and x.sum() == 200 * 3 * w * h     # only the box changed
        assert 0 <= x0 and x0 + w <= 255 and 0 <= y0 and y0 + h <= 255
        assert np.hypot(x0 + w / 2 - target[0], y0 + h / 2 - target[1]) >= 32.0
        assert 40 * 0.77 <= w <= 40 * 1.3 and 70 * 0.77 <= h <= 70 * 1.3             # the target's size, jittered
    # no room beside a target that fills the patch: nothing pasted
    x = np.zeros((255, 255, 3), np.uint8)
    assert paste_distractor(x, (127.5, 127.5, 250.0, 250.0), np.ones((4, 4, 3), np.uint8), rng, 0.0, 32.0) is None
    assert not x.any()
    # through the sampler: deterministic per item, and most search patches change
    ds = SyntheticTracks(6, 40, seed=0)
    plain = PairDataset([ds], PairProcessing(), 8, frame_range=5, seed=1)
    with_d = PairDataset([ds], PairProcessing(ProcessingConfig(distractor_p=1.0)), 8, frame_range=5, seed=1)
    changed = 0
    for i in range(8):
        a, b = plain[i], with_d[i]
        assert np.array_equal(b["search"].numpy(), with_d[i]["search"].numpy())      # deterministic
        changed += not np.array_equal(a["search"].numpy(), b["search"].numpy())
    assert changed >= 6
    rng = np.random.default_rng(1)
    track = ds.tracks[0]
    for _ in range(10):
        obj = with_d.sample_distractor(rng, track, track.boxes[0])
        assert obj is None or (obj.ndim == 3 and obj.shape[0] >= 2 and obj.shape[1] >= 2)


def test_track_too_short_for_a_pair():
    class One(TrackDataset):
        def __init__(self):
            super().__init__()
            self.tracks = [Track("one", ["f"], [[1, 1, 5, 5]])]
    with pytest.raises(InputError, match="two visible frames"):
        PairDataset([One()], PairProcessing(), 4)


def test_synthetic_real_images_follow_the_split_and_hold_outs(tmp_path):
    from edcf_plugin.training.synthetic import real_image_paths
    root = make_otb_root(tmp_path / "seqs")
    paths = real_image_paths([root])
    assert len(paths) == 12 and not any("seqC" in p for p in paths)            # bench never read
    assert not any("seqB" in p for p in real_image_paths([root], exclude=["seqB"]))
    assert len(real_image_paths([root / "seqA" / "img"])) == 6                   # a plain folder
    with pytest.raises(ConfigError, match="bench"):
        real_image_paths([root / "seqC" / "img"])                               # a bench sequence's own folder
    with pytest.raises(InputError, match="not found"):
        real_image_paths([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        real_image_paths([tmp_path / "empty"])
    # the trainer keeps the validation sequences out of the real images too
    from edcf_plugin.training import trainer
    from edcf_plugin.training.config import config_from_dict
    cfg = config_from_dict({"use_synthetic": True, "validation": {"root": str(root), "sequences": ["seqA"]},
                            "synthetic": {"num_tracks": 2, "num_frames": 10, "real_images": [str(root)]}})
    synth = trainer.build_data(cfg)[0][-1]
    assert synth.real_paths and not any("seqA" in p or "seqC" in p for p in synth.real_paths)


def test_synthetic_real_images_make_background_and_target(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    colour = (10, 200, 30)
    cv2.imwrite(str(photos / "flat.png"), np.full((90, 120, 3), colour, np.uint8))
    ds = SyntheticTracks(3, 20, size=(60, 80), seed=2, real_images=[photos], real_prob=1.0)
    assets = ds._assets(ds._params[0])
    for key in ("bg", "tex", "occ_tex"):                      # every asset cut from the photo
        assert np.allclose(assets[key], colour, atol=1.0), key
    procedural = SyntheticTracks(3, 20, size=(60, 80), seed=2)._assets(ds._params[0])
    assert procedural["bg"].std() > 5                          # the procedural ones are not flat
    a, b = ds.read_frame(ds.tracks[1], 4), SyntheticTracks(3, 20, size=(60, 80), seed=2, real_images=[photos],
                                                          real_prob=1.0).read_frame(ds.tracks[1], 4)
    assert np.array_equal(a, b)                                # still deterministic
    with pytest.raises(ConfigError, match="real_prob"):
        SyntheticTracks(2, 10, real_images=[photos], real_prob=1.5)
    # an unreadable image: that track falls back to procedural assets, counted and reported once
    (photos / "flat.png").write_bytes(b"not an image")
    bad = SyntheticTracks(2, 10, size=(60, 80), seed=2, real_images=[photos], real_prob=1.0)
    img = bad.read_frame(bad.tracks[0], 3)
    assert img.shape == (60, 80, 3) and img.std() > 5 and bad.stats["bad_images"] == 1
    assert "cannot use real image" in capsys.readouterr().out
