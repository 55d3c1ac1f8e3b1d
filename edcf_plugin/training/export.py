"""Turn a training checkpoint into a compact tracking model (no decoder, float16 weights, no optimiser state),
e.g. the bundled ``edcf_plugin/models/edcf_default.pth``::

    python -m edcf_plugin.training.export runs/edcf/best.pth edcf_plugin/models/edcf_default.pth
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..checkpoint import build_network, file_sha256, load_checkpoint, make_checkpoint, save_checkpoint


def export_model(src: str | Path, dst: str | Path, note: str | None = None) -> Path:
    """Write ``dst`` from training checkpoint ``src``; metadata keeps the recipe, step, epoch and metrics."""
    ckpt = load_checkpoint(src)
    net = build_network(ckpt, "cpu")
    meta = dict(ckpt.get("metadata", {}))
    meta.update({"source_checkpoint": str(src), "source_sha256": file_sha256(src),
                 "metrics": ckpt.get("metrics", meta.get("metrics", {})), "trained": True})
    if "history" in ckpt:
        meta["history"] = ckpt["history"]
    if note:
        meta["note"] = note
    out = make_checkpoint(net, ckpt["variant"], ckpt.get("tracker_config"), metadata=meta,
                          include_decoder=False, half=True)
    out["metadata"]["git_revision"] = meta.get("git_revision", out["metadata"]["git_revision"])
    return save_checkpoint(out, dst)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (2, 3):
        print("usage: python -m edcf_plugin.training.export SRC_CHECKPOINT DST_MODEL [NOTE]", file=sys.stderr)
        return 2
    from ..run import cli_main

    def body() -> int:
        path = export_model(*argv)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return 0

    return cli_main("export", body)


if __name__ == "__main__":
    sys.exit(main())
