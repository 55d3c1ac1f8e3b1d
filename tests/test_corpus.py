"""The crops corpus as training data: frame steps, ranges in source frames, validation videos left out of every
source by name, and a crops folder refused wherever a video would be tracked."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edcf_plugin.errors import InputError
from edcf_plugin.formats.sequences import is_crops_sequence, load_sequence
from edcf_plugin.training.config import config_from_dict
from edcf_plugin.training.datasets import OTBFolders
from edcf_plugin.training.sampler import PairDataset
from edcf_plugin.training.processing import PairProcessing
from edcf_plugin.training.trainer import build_data
from edcf_plugin.training.validation import Validator
from train_helpers import frame_with_target, make_otb_root
from conftest import SHARED_SEQUENCES

SHARED_CORPUS = SHARED_SEQUENCES.parent / "corpus"


def make_corpus(root, names=("seqA", "seqB"), crops=12, step=7):
    """A crops corpus: index.json with kind crops and frame_step, meta.json per folder, one crop per entry."""
    entries = []
    for name in names:
        img = root / name / "img"
        img.mkdir(parents=True)
        lines = []
        for i in range(crops):
            cv2.imwrite(str(img / f"{i + 1:08d}.jpg"), frame_with_target(96, 96, [36, 36, 24, 24], i))
            lines.append("37,37,24,24")
        (root / name / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
        (root / name / "meta.json").write_text(json.dumps({"kind": "crops", "frame_step": step}))
        entries.append({"name": name, "frames": crops, "split": "train", "kind": "crops", "frame_step": step})
    (root / "index.json").write_text(json.dumps(entries))
    return root


def test_corpus_tracks_keep_their_step_and_ranges_count_source_frames(tmp_path):
    root = make_corpus(tmp_path / "corpus", step=7)
    ds = OTBFolders(root)
    assert [t.frame_step for t in ds.tracks] == [7, 7]
    pairs = PairDataset([ds], PairProcessing(), 200, frame_range=14, seed=0)
    gaps = set()
    for k in range(200):
        _, _, i, j = pairs.sample_pair(np.random.default_rng([0, 0, k]))
        gaps.add(abs(i - j))
    assert max(gaps) == 2 and 1 in gaps                   # 14 source frames = 2 crops apart at most
    plain = OTBFolders(make_otb_root(tmp_path / "videos"))
    assert all(t.frame_step == 1 for t in plain.tracks)


def test_crops_are_never_tracked_as_videos(tmp_path):
    root = make_corpus(tmp_path / "corpus")
    assert is_crops_sequence(root / "seqA")
    with pytest.raises(InputError, match="kind: crops"):
        load_sequence(root / "seqA")
    with pytest.raises(InputError, match="not a video to track"):
        Validator(root, ["seqA"], "EDCF")
    (root / "seqB" / "meta.json").unlink()                # the index alone says so too
    assert is_crops_sequence(root / "seqB")
    assert not is_crops_sequence(make_otb_root(tmp_path / "videos") / "seqA")


def test_validation_videos_leave_every_source_by_name(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", names=("seqA", "seqB", "other"))
    videos = make_otb_root(tmp_path / "videos")
    cfg = config_from_dict({"data": [{"kind": "otb", "root": str(corpus)}, {"kind": "otb", "root": str(videos)}],
                            "validation": {"root": str(videos), "sequences": ["seqB"]}})
    datasets, _, _ = build_data(cfg)
    names = [sorted(t.name for t in d.tracks) for d in datasets]
    assert names == [["other", "seqA"], ["seqA"]]         # seqB gone from the corpus too; seqC is bench


def test_the_shared_corpus_reads_as_training_data():
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"training corpus not present at {SHARED_CORPUS} (a user's clone has no ../shared)")
    held_out = ["Bolt", "dtb70_Animal3", "dtb70_Surfing06", "uav10_wakeboard10"]
    ds = OTBFolders(SHARED_CORPUS, exclude=held_out)
    assert len(ds.tracks) == 39 and not {t.name for t in ds.tracks} & set(held_out)
    assert {t.frame_step for t in ds.tracks} == {6, 7}
    assert sum(len(t.frames) for t in ds.tracks) == 2359
    with pytest.raises(InputError, match="kind: crops"):
        load_sequence(SHARED_CORPUS / "Bolt")


def test_gpu_carry_leaves_the_validation_videos_out_and_fits(tmp_path):
    import torch

    from test_imagenet_init import fake_trunk
    from train.gpu_carry import held_out, prepare
    names = tuple(held_out()[:2]) + ("keep1", "keep2")
    corpus = make_corpus(tmp_path / "corpus", names=names)
    torch.save({"trunk": fake_trunk()}, tmp_path / "alex.pt")
    assert prepare(corpus, tmp_path / "carry", str(tmp_path / "alex.pt")) == 0
    index = json.loads((tmp_path / "carry" / "corpus" / "index.json").read_text())
    assert [e["name"] for e in index] == ["keep1", "keep2"]
    assert sorted(p.name for p in (tmp_path / "carry" / "corpus").iterdir()) == ["index.json", "keep1", "keep2"]
    trunk = torch.load(tmp_path / "carry" / "alexnet_trunk.pt", weights_only=True)["trunk"]
    assert torch.equal(trunk[4]["weight"], fake_trunk()[4]["weight"])


def test_gpu_carry_train_split_feeds_the_scratch_recipe(tmp_path):
    """The previous bundled model's recipe (edcf_gpu.yaml, from scratch) reads every 3rd train-split frame in place
    (otb every: 3); carry/train3 holds the same tracks for a GPU machine: its validation sequences whole,
    frame_step recorded (so frame_range stays in original frames); bench is never copied."""
    from edcf_plugin.formats.generated_datasets import make_sequence_folders
    from edcf_plugin.training.config import load_config
    from train.gpu_carry import GPU_RECIPE, compact_train_split, held_out

    val = held_out(GPU_RECIPE)[0]
    root = make_sequence_folders(tmp_path / "seqs", {"trainA": {}, val: {}}, n_frames=10, split="train")
    index = json.loads((root / "index.json").read_text()) + [{"name": "benchZ", "split": "bench"}]
    (root / "index.json").write_text(json.dumps(index))
    compact_train_split(root, tmp_path / "carry")
    out = tmp_path / "carry" / "train3"
    carried = {e["name"]: e for e in json.loads((out / "index.json").read_text())}
    assert set(carried) == {"trainA", val}
    assert (carried["trainA"]["frame_step"], carried["trainA"]["frames"]) == (3, 4)      # frames 1, 4, 7, 10
    assert (carried[val]["frame_step"], carried[val]["frames"]) == (1, 10)
    gt = (out / "trainA" / "groundtruth_rect.txt").read_text().splitlines()
    assert gt == [(root / "trainA" / "groundtruth_rect.txt").read_text().splitlines()[i] for i in (0, 3, 6, 9)]
    ds = OTBFolders(out, exclude=[val])
    assert [(t.name, t.frame_step, len(t.frames)) for t in ds.tracks] == [("trainA", 3, 4)]
    in_place = OTBFolders(root, exclude=[val], every=3)
    assert [(t.name, t.frame_step, [Path(f).name for f in t.frames]) for t in in_place.tracks] == \
        [(t.name, t.frame_step, [Path(f).name for f in t.frames]) for t in ds.tracks]
    np.testing.assert_array_equal(in_place.tracks[0].boxes, ds.tracks[0].boxes)
    recipe = load_config(GPU_RECIPE)
    assert recipe.data[0]["root"] == recipe.validation.root == "../shared/data/sequences"
    assert recipe.data[0]["every"] == 3


REPO = Path(__file__).resolve().parents[1]
BRIEFLY = ["--steps", "2", "--batch-size", "2", "--samples-per-epoch", "4", "--num-workers", "0", "--threads", "1",
           "--no-progress", "--device", "cpu"]
#: What train_briefly gives on its command line, and the validation the bundled run turned off on its own.
BRIEF_KEYS = {"steps", "batch_size", "samples_per_epoch", "num_workers", "threads", "init_path", "validation"}


def train_briefly(recipe: Path, trunk: Path, out: Path, capsys) -> dict:
    """Two steps of a recipe as written (its data, init and network), then the tracker loads the result."""
    from edcf_plugin.checkpoint import load_checkpoint
    from edcf_plugin.commands import train as cli
    from edcf_plugin.tracking.tracker import build_tracker

    rc = cli.main(["--config", str(recipe), "--init-path", str(trunk), "--out", str(out)] + BRIEFLY)
    assert rc == 0, capsys.readouterr().err
    ckpt = load_checkpoint(out / "last.pth")
    build_tracker("EDCF", out / "last.pth", "cpu").warmup((120, 160))
    return ckpt


def test_the_bundled_recipe_trains_from_the_shared_corpus(tmp_path, monkeypatch, capsys):
    import torch

    from edcf_plugin.checkpoint import load_checkpoint
    from test_imagenet_init import fake_trunk
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"training corpus not present at {SHARED_CORPUS} (a user's clone has no ../shared)")
    torch.save({"trunk": fake_trunk()}, tmp_path / "alex.pt")
    monkeypatch.chdir(REPO)                               # the recipe's ../shared paths are relative to the checkout
    ckpt = train_briefly(REPO / "train" / "configs" / "edcf_bundled.yaml", tmp_path / "alex.pt", tmp_path / "run",
                         capsys)
    # read through config_from_dict: a key added after the model was trained (init_layers) takes its default,
    # which is what the training did then
    bundled = config_from_dict(load_checkpoint()["metadata"]["train_config"]).to_dict()
    assert {k: v for k, v in ckpt["train_config"].items() if k not in BRIEF_KEYS} == \
        {k: v for k, v in bundled.items() if k not in BRIEF_KEYS}, "the bundled model was not trained by this recipe"


def test_the_gpu_recipe_trains_from_what_gpu_carry_prepares(tmp_path, monkeypatch, capsys):
    import torch

    from test_imagenet_init import fake_trunk
    from train.gpu_carry import prepare
    corpus = make_corpus(tmp_path / "corpus", names=("keep1", "keep2"))
    torch.save({"trunk": fake_trunk()}, tmp_path / "alex.pt")
    assert prepare(corpus, tmp_path / "carry", str(tmp_path / "alex.pt")) == 0
    monkeypatch.chdir(tmp_path)                           # the recipe reads carry/corpus
    ckpt = train_briefly(REPO / "train" / "configs" / "edcf_imagenet_gpu.yaml",
                         tmp_path / "carry" / "alexnet_trunk.pt", tmp_path / "run", capsys)
    assert ckpt["net_config"]["trunk"] == "alexnet" and ckpt["step"] == 2
