"""TraX server: lets the VOT toolkit (or any TraX client) drive an EDCF tracker.

Run it as ``python -m edcf_plugin.trax`` or ``edcf-trax``. The protocol itself is vot-trax's ``trax.Server``;
this module only converts between TraX and the package conventions (docs/ARCHITECTURE.md):

* regions: RECTANGLE as given; POLYGON -> axis-aligned bounds. TraX coordinates are 0-based like ours, so there
  is no offset. Every INITIALIZE and FRAME gets exactly one RECTANGLE and a ``confidence`` property.
* images on the ``color`` channel: PATH (read with :func:`edcf_plugin.formats.sequences.read_image`), MEMORY (TraX
  stores RGB or gray rows, converted to BGR / gray) and BUFFER (an encoded JPEG/PNG, decoded with OpenCV).
* a new INITIALIZE in the same process restarts tracking (re-initialisation after a failure, multistart anchors,
  sequences run backwards); a FRAME whose size differs from the INITIALIZE frame's is refused (exit status 2).

The model is loaded and warmed up before the server greets the client, because the toolkit times every reply but
not the start-up. Settings come from arguments or, for ``trackers.ini``, from the environment variables
``EDCF_VARIANT``, ``EDCF_WEIGHTS``, ``EDCF_DEVICE``, ``EDCF_THREADS`` and ``EDCF_PRESET`` (an argument wins over
the variable).

Exit status: 0 after the client's QUIT, 1 when the client went away (closed the pipe or socket), 2 on bad input
or settings, 3 on an unexpected internal error (for 2 and 3 the reason is written to stderr, with the traceback
for 3, and, when the session is open, sent to the client with the quit).
All diagnostics go to stderr; stdout carries only the protocol.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from typing import Optional, Sequence

import cv2
import numpy as np

from ..errors import EDCFError, InputError, one_line_warnings

ENV_VARIANT = "EDCF_VARIANT"
ENV_WEIGHTS = "EDCF_WEIGHTS"
ENV_DEVICE = "EDCF_DEVICE"
ENV_THREADS = "EDCF_THREADS"
ENV_PRESET = "EDCF_PRESET"

PROG = "edcf-trax"


def log(message: str) -> None:
    """One diagnostic line on stderr (the VOT toolkit shows it in the tracker log)."""
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------------------------------- conversions
def image_from_trax(image) -> np.ndarray:
    """A ``trax.Image`` (PATH, MEMORY or BUFFER) -> ``uint8`` BGR (H x W x 3) or gray (H x W) array.

    Raises :class:`InputError` naming the image when it cannot be read or decoded.
    """
    import trax

    kind = image.type()
    if kind == trax.Image.PATH:
        from ..formats.sequences import read_image
        return read_image(image.path())
    if kind == trax.Image.MEMORY:
        arr = image.array()                      # H x W x C, rows as TraX stores them: RGB or gray
        if arr.ndim == 3 and arr.shape[2] == 3:
            return cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
        gray = arr.reshape(arr.shape[0], arr.shape[1])
        if gray.dtype == np.uint16:              # 16-bit gray: keep the top 8 bits
            gray = (gray >> 8).astype(np.uint8)
        return np.ascontiguousarray(gray)
    if kind == trax.Image.BUFFER:
        data = np.frombuffer(image.buffer(), dtype=np.uint8)
        decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
        if decoded is None:
            raise InputError(f"cannot decode the BUFFER image ({data.size} bytes; JPEG or PNG expected)")
        if decoded.dtype == np.uint16:
            decoded = (decoded >> 8).astype(np.uint8)
        if decoded.ndim == 3 and decoded.shape[2] == 4:
            decoded = cv2.cvtColor(decoded, cv2.COLOR_BGRA2BGR)
        return decoded
    raise InputError(f"unsupported TraX image type {kind!r} (PATH, MEMORY and BUFFER are supported)")


def box_from_trax(region) -> np.ndarray:
    """A ``trax.Region`` -> 0-based ``[x, y, w, h]``: a RECTANGLE as given, a POLYGON as the box of its bounds.

    Raises :class:`InputError` for other region types and for empty or degenerate regions.
    """
    import trax

    from ..boxes import as_box, polygon_to_box

    kind = region.type
    if kind == trax.Region.RECTANGLE:
        box = np.asarray(region.bounds(), dtype=np.float64)
    elif kind == trax.Region.POLYGON:
        points = [region.get(i) for i in range(region.size())]
        if len(points) < 3:
            raise InputError(f"initial polygon has {len(points)} points, at least 3 are needed")
        box = polygon_to_box([c for p in points for c in p])
    else:
        raise InputError(f"unsupported initial region type {kind!r} (rectangle or polygon expected)")
    return as_box(box, what="initial region")


def reply(server, box: np.ndarray, confidence: float) -> None:
    """Send one RECTANGLE carrying a ``confidence`` object property (what the VOT toolkit stores per frame)."""
    import trax

    x, y, w, h = (float(v) for v in box)
    server.status([(trax.Rectangle.create(x, y, w, h), {"confidence": f"{float(confidence):.6f}"})])


# ----------------------------------------------------------------------------------------------------- settings
def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..config import VARIANT_ALIASES, VARIANTS

    parser.add_argument("--variant", default=None,
                        help=f"tracker variant, one of {', '.join(VARIANTS)} or an alias "
                             f"({', '.join(VARIANT_ALIASES)}) (default: ${ENV_VARIANT} or EDCF)")
    parser.add_argument("--weights", default=None,
                        help=f"checkpoint file, an absolute path (default: ${ENV_WEIGHTS} or the bundled model)")
    parser.add_argument("--device", default=None,
                        help=f"torch device: cpu, cuda, cuda:1, ... (default: ${ENV_DEVICE} or cpu)")
    parser.add_argument("--threads", default=None,
                        help=f"CPU threads for torch (default: ${ENV_THREADS} or torch's default)")
    parser.add_argument("--preset", default=None,
                        help=f"tracking preset from edcf_plugin.config.PRESETS, e.g. realtime or fast "
                             f"(default: ${ENV_PRESET} or the reference settings)")
    parser.add_argument("--no-warmup", action="store_true",
                        help="skip the dummy init+update before the handshake (first reply will be slow)")


def resolve_settings(args: argparse.Namespace) -> dict:
    """Arguments first, then environment variables, then defaults; validated, with one-line errors."""
    from ..config import preset, resolve_variant
    from ..errors import ConfigError, WeightsError

    variant = resolve_variant(args.variant or os.environ.get(ENV_VARIANT) or "EDCF")
    weights = args.weights or os.environ.get(ENV_WEIGHTS) or None
    if weights is not None:
        if not os.path.isabs(weights) and not os.path.isfile(weights):
            raise WeightsError(f"weights file {weights!r} not found relative to {os.getcwd()!r}; the VOT toolkit "
                               "starts trackers in a temporary directory, so give an absolute path")
        weights = os.path.abspath(weights)
    device = args.device or os.environ.get(ENV_DEVICE) or "cpu"
    threads_text = args.threads or os.environ.get(ENV_THREADS) or None
    threads = None
    if threads_text is not None:
        try:
            threads = int(threads_text)
        except ValueError:
            threads = 0
        if threads < 1:
            raise ConfigError(f"thread count must be a positive integer, got {threads_text!r}")
    preset_name = args.preset or os.environ.get(ENV_PRESET) or None
    overrides = preset(preset_name) if preset_name else None
    return {"variant": variant, "weights": weights, "device": device, "threads": threads,
            "preset": preset_name, "overrides": overrides}


def load_tracker(settings: dict, warmup: bool = True):
    """Build the tracker (and warm it up) before any client is talked to."""
    import torch

    from ..run import TrackerSpec

    start = time.perf_counter()
    tracker = TrackerSpec(variant=settings["variant"], weights=settings["weights"], preset=settings["preset"],
                          device=settings["device"], threads=settings["threads"]).build()
    if warmup:
        tracker.warmup()
    log(f"{settings['variant']} ready on {settings['device']} in {time.perf_counter() - start:.1f} s "
        f"(weights: {settings['weights'] or 'bundled default'}, preset: {settings['preset'] or 'reference'}, "
        f"threads: {torch.get_num_threads()})")
    return tracker


# ----------------------------------------------------------------------------------------------------- protocol
def _protect_stdout() -> None:
    """Keep stray prints (Python or C) off the protocol stream.

    Unless the client chose a socket or explicit descriptors, the protocol moves to a duplicate of stdout
    (handed to libtrax through ``TRAX_OUT``) and file descriptor 1 is pointed at stderr.
    """
    if os.environ.get("TRAX_SOCKET") or os.environ.get("TRAX_OUT") or os.environ.get("TRAX_IN"):
        return
    sys.stdout.flush()
    protocol_out = os.dup(1)
    os.dup2(2, 1)
    os.environ["TRAX_IN"] = "0"
    os.environ["TRAX_OUT"] = str(protocol_out)


def serve(tracker, name: str = "EDCF") -> int:
    """Answer TraX requests until QUIT (returns 0), a lost client (1), unusable input (2) or an internal
    error (3)."""
    import trax

    _protect_stdout()
    server = trax.Server([trax.Region.RECTANGLE, trax.Region.POLYGON],
                         [trax.Image.PATH, trax.Image.MEMORY, trax.Image.BUFFER],
                         [trax.ImageChannel.COLOR], tracker_name=name,
                         tracker_description="EDCF: encoder-decoder correlation-filter tracker",
                         tracker_family="edcf")
    initialized = False
    size, since_init = None, 0                      # (height, width) of the INITIALIZE frame; frames since it
    frames = 0
    try:
        while True:
            try:
                request = server.wait()
            except trax.TraxException as exc:
                log(f"connection to the client lost ({exc}); exiting")
                return 1
            if request.type == trax.TraxStatus.QUIT:
                log(f"client sent QUIT after {frames} frames; exiting")
                return 0
            try:
                image = _color_image(request.image)
                if request.type == trax.TraxStatus.INITIALIZE:
                    if len(request.objects) != 1:
                        raise InputError(f"INITIALIZE carries {len(request.objects)} objects; this tracker "
                                         "follows exactly one")
                    box = box_from_trax(request.objects[0][0])
                    tracker.init(image, box)
                    initialized = True
                    size, since_init = image.shape[:2], 0
                    confidence = 1.0
                else:
                    if not initialized:
                        raise InputError("FRAME received before INITIALIZE")
                    if image.shape[:2] != size:
                        raise InputError(f"frame {since_init + 1} after INITIALIZE is {image.shape[1]}x{image.shape[0]} "
                                         f"pixels, the sequence was initialised on {size[1]}x{size[0]}: boxes would "
                                         f"answer in the old coordinates (send INITIALIZE to start a new sequence)")
                    if request.objects:
                        log(f"FRAME carries {len(request.objects)} new objects; ignored (single-object tracker)")
                    box, confidence = tracker.update(image)
                    frames += 1
                    since_init += 1
            except EDCFError as exc:
                log(f"error: {exc}")
                _quit(server, str(exc))
                server = None
                return 2
            except Exception as exc:                        # noqa: BLE001 (never die without telling the client)
                reason = f"internal tracker error: {type(exc).__name__}: {exc}"
                log(reason)
                log(traceback.format_exc().rstrip())
                _quit(server, reason)
                server = None
                return 3
            try:
                reply(server, box, confidence)
            except trax.TraxException as exc:
                log(f"connection to the client lost while replying ({exc}); exiting")
                return 1
    finally:
        if server is not None:
            _quit(server, None)


def _color_image(images) -> np.ndarray:
    if not images or "color" not in images:
        raise InputError(f"request has no image on the color channel (channels: {sorted(images or {})})")
    return image_from_trax(images["color"])


def _quit(server, reason: Optional[str]) -> None:
    import trax

    try:
        server.quit(reason=reason)
    except trax.TraxException:
        pass                                     # the client is already gone: nothing left to tell it


def main(argv: Optional[Sequence[str]] = None) -> int:
    from ..process_setup import process_setup

    process_setup()                              # before torch is imported
    parser = argparse.ArgumentParser(prog=PROG, description="TraX server for the EDCF tracker (VOT toolkit, any "
                                                            "TraX client). Talks the protocol on stdin/stdout.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    one_line_warnings(PROG)
    try:
        settings = resolve_settings(args)
        tracker = load_tracker(settings, warmup=not args.no_warmup)
    except EDCFError as exc:
        log(f"error: {exc}")
        return 2
    except Exception as exc:                                # noqa: BLE001 (report, never a bare traceback exit)
        log(f"internal error while loading the tracker: {type(exc).__name__}: {exc}")
        log(traceback.format_exc().rstrip())
        return 3
    return serve(tracker, name=settings["variant"])
