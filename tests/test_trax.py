"""The TraX server (``python -m edcf_plugin.trax``) driven by vot-trax's own client over pipes.

Every server here is the real tracker with the bundled model, on tiny generated frames (64 x 48 px), one torch
thread. The target is a textured 12 x 14 block moving 2 px right and 1 px down per frame.
"""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

trax = pytest.importorskip("trax", reason="the [vot] extra (vot-trax) is not installed")
from trax.client import Client  # noqa: E402
from trax.image import BufferImage, FileImage, MemoryImage  # noqa: E402
from trax.region import Polygon, Rectangle  # noqa: E402

from edcf_plugin.toolkits import trax_server  # noqa: E402
from edcf_plugin.boxes import iou  # noqa: E402
from edcf_plugin.errors import InputError  # noqa: E402

H, W = 48, 64
TW, TH = 12, 14
STARTUP_S = 120          # model load + warm-up on a busy 2-core machine
EXIT_S = 15              # how long a server may take to leave after the session ends


def truth(i: int) -> np.ndarray:
    """0-based [x, y, w, h] of the target in frame ``i``."""
    return np.array([8 + 2 * i, 14 + i, TW, TH], dtype=np.float64)


def scene(i: int) -> np.ndarray:
    """BGR frame ``i``: fixed random background, the target at :func:`truth` (i)."""
    rng = np.random.default_rng(0)
    image = rng.integers(30, 70, (H, W, 3), dtype=np.uint8)
    x, y = int(truth(i)[0]), int(truth(i)[1])
    image[y:y + TH, x:x + TW] = (0, 200, 255)
    image[y + 4:y + 9, x + 3:x + 8] = (255, 0, 0)
    return image


def memory(image_bgr: np.ndarray) -> MemoryImage:
    """TraX MEMORY images hold RGB (or gray) rows."""
    if image_bgr.ndim == 2:
        return MemoryImage.create(image_bgr)
    return MemoryImage.create(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))


def centre_error(box, i: int) -> float:
    b, t = np.asarray(box, dtype=np.float64), truth(i)
    return float(np.hypot(*((b[:2] + b[2:] / 2) - (t[:2] + t[2:] / 2))))


def follows(box, i: int, gray: bool = False) -> bool:
    """Colour frames: centre within 3 px. Grayscale frames change the target's look (the tracker's model
    saw colour), so there overlap with the truth (IoU >= 0.4) is what counts."""
    if gray:
        return float(iou(np.asarray(box, dtype=np.float64), truth(i))) >= 0.4
    return centre_error(box, i) < 3.0


def server_env(**extra) -> dict:
    env = dict(os.environ, EDCF_THREADS="1")
    for key in ("EDCF_VARIANT", "EDCF_WEIGHTS", "EDCF_DEVICE", "EDCF_PRESET"):
        env.pop(key, None)
    env.update(extra)
    return env


class Session:
    """A server process in a scratch working directory and a plain ``trax.client.Client`` on its pipes."""

    def __init__(self, workdir: Path, argv: list[str] | None = None, **env):
        self.stderr_path = workdir / "server.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.process = subprocess.Popen(argv or [sys.executable, "-m", "edcf_plugin.trax"], cwd=workdir,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                        env=server_env(**env))
        self.protocol_log: list = []
        self.client = Client(stream=(self.process.stdin.fileno(), self.process.stdout.fileno()),
                             log=self.protocol_log.append)

    def init(self, image, region):
        objects, _ = self.client.initialize({"color": image}, [(region, {})], {})
        return self._one(objects)

    def frame(self, image):
        objects, elapsed = self.client.frame({"color": image}, {}, [])
        return self._one(objects)

    @staticmethod
    def _one(objects):
        assert len(objects) == 1, f"expected exactly one region, got {len(objects)}"
        region, properties = objects[0]
        assert region.type == trax.Region.RECTANGLE
        return np.array(region.bounds(), dtype=np.float64), float(properties["confidence"])

    def wait(self, timeout: float = EXIT_S) -> int:
        return self.process.wait(timeout)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text()

    def close(self) -> None:
        # Release the client (its finaliser talks to the pipes) before the pipes are closed.
        self.client = None
        gc.collect()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(EXIT_S)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._stderr.close()


@pytest.fixture
def session(tmp_path):
    sessions = []

    def start(argv: list[str] | None = None, **env) -> Session:
        s = Session(tmp_path, argv, **env)
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        s.close()


# ------------------------------------------------------------------------------------------ conversions
def test_rectangle_and_polygon_regions_become_boxes():
    assert np.allclose(trax_server.box_from_trax(Rectangle.create(3, 4, 10, 20)), [3, 4, 10, 20])
    diamond = Polygon.create([(10.0, 4.0), (16.0, 10.0), (10.0, 16.0), (4.0, 10.0)])
    assert np.allclose(trax_server.box_from_trax(diamond), [4, 4, 12, 12])


@pytest.mark.parametrize("region", [Rectangle.create(3, 4, 0, 20), Rectangle.create(3, 4, 10, -1),
                                    Polygon.create([(5.0, 5.0), (5.0, 9.0), (5.0, 12.0)])],
                         ids=["zero-width", "negative-height", "collinear-polygon"])
def test_empty_or_degenerate_regions_are_input_errors(region):
    with pytest.raises(InputError, match="degenerate"):
        trax_server.box_from_trax(region)


def test_memory_and_buffer_images_arrive_as_bgr():
    image = scene(0)
    assert np.array_equal(trax_server.image_from_trax(memory(image)), image)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(trax_server.image_from_trax(memory(gray)), gray)
    ok, png = cv2.imencode(".png", image)
    assert ok
    assert np.array_equal(trax_server.image_from_trax(BufferImage.create(png.tobytes())), image)
    with pytest.raises(InputError, match="cannot decode the BUFFER image"):
        trax_server.image_from_trax(BufferImage.create(b"not an image at all"))


# ------------------------------------------------------------------------------------- a whole session
def test_client_drives_server_through_all_image_and_region_kinds(session, tmp_path):
    s = session()
    assert s.client.tracker_name == "EDCF"
    assert set(s.client.image_formats) >= {"path", "memory", "buffer"}
    assert set(s.client.region_formats) >= {"rectangle", "polygon"}

    # Rectangle init on a MEMORY image, then MEMORY frames.
    box, confidence = s.init(memory(scene(0)), Rectangle.create(*truth(0)))
    assert np.allclose(box, truth(0), atol=1e-3) and confidence == 1.0
    for i in range(1, 4):
        box, confidence = s.frame(memory(scene(i)))
        assert follows(box, i), (i, box)
        assert np.isfinite(confidence)

    # Re-initialisation in the same process with a POLYGON on a PATH image; PATH frames (one grayscale PNG).
    paths = {}
    for i in range(5, 9):
        paths[i] = tmp_path / f"frame{i}.jpg"
        cv2.imwrite(str(paths[i]), scene(i), [cv2.IMWRITE_JPEG_QUALITY, 95])
    paths[8] = tmp_path / "frame8_gray.png"
    cv2.imwrite(str(paths[8]), cv2.cvtColor(scene(8), cv2.COLOR_BGR2GRAY))
    x, y, w, h = truth(5)
    diamond = Polygon.create([(x + w / 2, y), (x + w, y + h / 2), (x + w / 2, y + h), (x, y + h / 2)])
    box, _ = s.init(FileImage.create(str(paths[5])), diamond)
    assert np.allclose(box, truth(5), atol=1e-3)
    for i in range(6, 9):
        box, _ = s.frame(FileImage.create(str(paths[i])))
        assert follows(box, i, gray=(i == 8)), (i, box)

    # An encoded BUFFER frame and a grayscale MEMORY frame.
    ok, png = cv2.imencode(".png", scene(9))
    box, _ = s.frame(BufferImage.create(png.tobytes()))
    assert follows(box, 9), box
    box, _ = s.frame(memory(cv2.cvtColor(scene(10), cv2.COLOR_BGR2GRAY)))
    assert follows(box, 10, gray=True), box

    # A sequence run backwards (as multistart does from a backward anchor): init at 10, frames 9, 8, 7.
    s.init(memory(scene(10)), Rectangle.create(*truth(10)))
    for i in (9, 8, 7):
        box, _ = s.frame(memory(scene(i)))
        assert follows(box, i), (i, box)

    s.client.quit()
    assert s.wait() == 0
    assert "QUIT" in s.stderr()


# ------------------------------------------------------------------------------------------- bad input
def _expect_session_refused(s: Session, action, reason: str) -> None:
    with pytest.raises(trax.TraxException, match=reason):
        action()
    assert s.wait() == 2
    errors = [line for line in s.stderr().splitlines() if line.startswith("edcf-trax: error:")]
    assert len(errors) == 1 and reason in errors[0], s.stderr()
    assert "Traceback" not in s.stderr()


def test_missing_image_path_on_initialize(session, tmp_path):
    s = session()
    missing = tmp_path / "no_such_frame.jpg"
    _expect_session_refused(s, lambda: s.init(FileImage.create(str(missing)), Rectangle.create(*truth(0))),
                            "image not found")


def test_missing_and_corrupt_image_path_on_frame(session, tmp_path):
    s = session()
    s.init(memory(scene(0)), Rectangle.create(*truth(0)))
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 this is not a JPEG")
    _expect_session_refused(s, lambda: s.frame(FileImage.create(str(corrupt))), "cannot decode image")


def test_frame_whose_size_changes_mid_sequence_is_refused(session):
    """Issue 21 item 9: boxes in the old frame's coordinates would be silently wrong."""
    s = session()
    s.init(memory(scene(0)), Rectangle.create(*truth(0)))
    s.frame(memory(scene(1)))
    bigger = cv2.resize(scene(2), None, fx=2.0, fy=2.0)
    _expect_session_refused(s, lambda: s.frame(memory(bigger)), "the sequence was initialised on")


def test_degenerate_initial_region(session):
    s = session()
    _expect_session_refused(s, lambda: s.init(memory(scene(0)), Rectangle.create(10, 10, 0, 0)), "degenerate")


def test_frame_before_initialize(tmp_path):
    """A client that skips INITIALIZE. The client runs in its own process: after this protocol violation
    vot-trax 4.0.2's client crashes when its handle is released, so it leaves with os._exit."""
    code = textwrap.dedent("""
        import os, subprocess, sys
        import numpy as np
        import trax
        from trax.client import Client
        from trax.image import MemoryImage
        server = subprocess.Popen([sys.executable, "-m", "edcf_plugin.trax"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=open(sys.argv[1], "wb"))
        client = Client(stream=(server.stdin.fileno(), server.stdout.fileno()), log=lambda message: None)
        try:
            client.frame({"color": MemoryImage.create(np.zeros((48, 64, 3), np.uint8))}, {}, [])
            print("answered", flush=True)
        except trax.TraxException:
            print("refused", server.wait(30), flush=True)
        os._exit(0)
    """)
    stderr_path = tmp_path / "server.stderr"
    done = subprocess.run([sys.executable, "-c", code, str(stderr_path)], cwd=tmp_path, env=server_env(),
                          capture_output=True, text=True, timeout=STARTUP_S)
    assert done.stdout.split() == ["refused", "2"], done.stdout + done.stderr
    assert "edcf-trax: error: FRAME received before INITIALIZE" in stderr_path.read_text()


CLIENT_CODE = textwrap.dedent("""
    import os, sys
    from trax.client import Client
    from trax.image import FileImage
    from trax.region import Rectangle
    to_server, from_server, frame, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    client = Client(stream=(to_server, from_server), log=lambda message: None)
    image = {"color": FileImage.create(frame)}
    client.initialize(image, [(Rectangle.create(8, 14, 12, 14), {})], {})
    client.frame(image, {}, [])
    print("tracking", flush=True)
    if mode == "exit":
        os._exit(0)                 # gone without QUIT, between two requests
    while True:                     # "kill": streams frames until SIGKILL arrives
        client.frame(image, {}, [])
""")


@pytest.mark.parametrize("mode", ["exit", "kill"])
def test_client_that_vanishes_mid_sequence(tmp_path, mode):
    """The client process ends without QUIT (exits between requests, or is killed while a frame is in
    flight): the server must notice, say so on stderr and exit by itself with status 1."""
    frame_path = tmp_path / "f.png"
    cv2.imwrite(str(frame_path), scene(0))
    stderr_path = tmp_path / "server.stderr"
    with open(stderr_path, "wb") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "edcf_plugin.trax"], cwd=tmp_path, env=server_env(),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
    to_server, from_server = server.stdin.fileno(), server.stdout.fileno()
    client = subprocess.Popen([sys.executable, "-c", CLIENT_CODE, str(to_server), str(from_server),
                               str(frame_path), mode], pass_fds=(to_server, from_server),
                              stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=server_env())
    server.stdin.close()                 # only the client holds the server's pipes now
    server.stdout.close()
    try:
        assert client.stdout.readline().strip() == "tracking"
        if mode == "kill":
            time.sleep(0.3)
            client.send_signal(signal.SIGKILL)
        client.wait(STARTUP_S)
        assert server.wait(EXIT_S) == 1
        assert "connection to the client lost" in stderr_path.read_text()
    finally:
        for process in (client, server):
            if process.poll() is None:
                process.kill()
                process.wait()
        client.stdout.close()


@pytest.mark.parametrize("env, reason", [
    ({"EDCF_VARIANT": "NoSuchTracker"}, "unknown variant"),
    ({"EDCF_THREADS": "zero"}, "thread count"),
    ({"EDCF_WEIGHTS": "relative/missing.pth"}, "absolute path"),
    ({"EDCF_PRESET": "turbo"}, "unknown preset"),
], ids=["variant", "threads", "weights", "preset"])
def test_bad_settings_fail_before_the_handshake(tmp_path, env, reason):
    done = subprocess.run([sys.executable, "-m", "edcf_plugin.trax"], cwd=tmp_path, env=server_env(**env),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=STARTUP_S)
    assert done.returncode == 2
    assert done.stdout == ""                             # nothing on the protocol stream
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edcf-trax: error:") and reason in lines[0], done.stderr


def test_bad_device_and_non_finite_weights_fail_before_the_handshake(tmp_path):
    import torch

    from edcf_plugin.checkpoint import DEFAULT_WEIGHTS

    ckpt = torch.load(DEFAULT_WEIGHTS, map_location="cpu", weights_only=True)
    ckpt["state_dict"]["conv1.0.weight"][0, 0, 0, 0] = float("nan")
    nan_weights = tmp_path / "nan.pth"
    torch.save(ckpt, nan_weights)
    for env, reason in [({"EDCF_DEVICE": "bogus"}, "unknown device 'bogus'"),
                        ({"EDCF_WEIGHTS": str(nan_weights)}, "non-finite (NaN or inf) weights in ['conv1.0.weight']")]:
        done = subprocess.run([sys.executable, "-m", "edcf_plugin.trax"], cwd=tmp_path, env=server_env(**env),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=STARTUP_S)
        assert done.returncode == 2 and done.stdout == "", done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("edcf-trax: error:") and reason in lines[0], done.stderr


FAULTY_SERVER = textwrap.dedent("""
    # The real server loop around a tracker whose update() fails the way a bug or a numerical failure would.
    import sys
    from edcf_plugin.toolkits import trax_server

    class Faulty:
        def init(self, image, box):
            pass

        def update(self, image):
            raise FloatingPointError("the response map is all NaN")

    sys.exit(trax_server.serve(Faulty(), name="Faulty"))
""")


def test_unexpected_tracker_error_is_reported_to_the_client(session):
    """Anything the tracker raises (not only the package's own errors) ends the session with the reason sent to
    the client, the traceback on stderr and status 3: the evaluator learns why and goes on."""
    s = session([sys.executable, "-c", FAULTY_SERVER])
    s.init(memory(scene(0)), Rectangle.create(*truth(0)))
    with pytest.raises(trax.TraxException, match="internal tracker error: FloatingPointError: the response map"):
        s.frame(memory(scene(1)))
    assert s.wait() == 3
    err = s.stderr()
    assert "edcf-trax: internal tracker error: FloatingPointError: the response map is all NaN" in err
    assert "Traceback (most recent call last)" in err and "in update" in err


def test_variant_and_preset_from_environment(session):
    s = session(EDCF_VARIANT="CACFNet_plus", EDCF_PRESET="fast")
    assert s.client.tracker_name == "CACFNet+"
    box, _ = s.init(memory(scene(0)), Rectangle.create(*truth(0)))
    box, _ = s.frame(memory(scene(1)))
    assert follows(box, 1), box
    s.client.quit()
    assert s.wait() == 0
    assert "CACFNet+ ready on cpu" in s.stderr() and "preset: fast" in s.stderr()


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("edcf-trax")
    assert script.is_file(), "edcf-trax console script missing: reinstall with `pip install -e .[vot]`"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=STARTUP_S)
    assert done.returncode == 0 and "TraX server" in done.stdout
