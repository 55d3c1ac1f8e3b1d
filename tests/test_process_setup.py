"""What every entry point sets before it tracks (edcf_plugin/process_setup.py): OpenMP's passive wait policy (issue 21
item 6: before torch loads, never over a user's own setting) and glibc's allocator settings with the heap's free
pages handed back (item 1)."""
import os
import platform
import subprocess
import sys

import pytest

CHECK = """
import os, sys
{pre}
from edcf_plugin.process_setup import passive_openmp_waiting
print(passive_openmp_waiting(), os.environ.get("OMP_WAIT_POLICY"))
"""


def _run(pre: str = "", **env) -> str:
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "EDCF_NO_OMP_POLICY")}
    e.update(env)
    out = subprocess.run([sys.executable, "-c", CHECK.format(pre=pre)], capture_output=True, text=True, env=e,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_passive_policy_is_set_before_torch_and_respects_the_user():
    assert _run() == "True PASSIVE"
    assert _run(OMP_WAIT_POLICY="ACTIVE") == "False ACTIVE"
    assert _run(EDCF_NO_OMP_POLICY="1") == "False None"
    assert _run(pre="import torch") == "False None"


def test_every_entry_point_sets_it_before_importing_torch():
    probe = ("import importlib, os, sys\nm = importlib.import_module('{mod}')\n"
             "try:\n    m.main({argv})\nexcept SystemExit:\n    pass\n"
             "print('POLICY', os.environ.get('OMP_WAIT_POLICY'))")
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "EDCF_NO_OMP_POLICY")}
    for mod, argv in (("edcf_plugin.cli", "['track', '/nonexistent/seq']"),
                      ("edcf_plugin.toolkits.pysot_runner", "['--help']"),
                      ("edcf_plugin.toolkits.trax_server", "['--help']")):
        out = subprocess.run([sys.executable, "-c", probe.format(mod=mod, argv=argv)], capture_output=True,
                             text=True, env=e, timeout=120)
        assert "POLICY PASSIVE" in out.stdout, (mod, out.stdout[-500:], out.stderr[-500:])


ALLOCATOR = """
import json, os
import numpy as np
from edcf_plugin.commands.bench import current_rss
from edcf_plugin.process_setup import release_free_memory, steady_allocator
tuned = steady_allocator()
# 300 blocks of 1 MiB, every other one freed: holes in the heap that glibc keeps (its trim works from the top only)
blocks = [np.ones(1 << 20, np.uint8) for _ in range(300)]
del blocks[::2]
before = current_rss()
released = release_free_memory()
print(json.dumps({"tuned": tuned, "released": released, "before": before, "after": current_rss()}))
"""


def _allocator(**env) -> dict:
    import json

    e = dict(CLEAN_ENV, **env)
    out = subprocess.run([sys.executable, "-c", ALLOCATOR], capture_output=True, text=True, env=e, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


GLIBC = platform.libc_ver()[0] == "glibc"
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("EDCF_NO_MALLOC_TUNING", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")}


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator settings (this C library is not glibc)")
def test_allocator_keeps_buffers_in_the_heap_and_hands_free_pages_back():
    r = _allocator()
    assert r["tuned"] and r["released"]
    freed = 150 << 20
    assert r["before"] - r["after"] > 0.8 * freed, r          # the holes' pages went back to the system
    off = _allocator(EDCF_NO_MALLOC_TUNING="1")
    assert not off["tuned"] and not off["released"]
    assert _allocator(MALLOC_MMAP_THRESHOLD_="65536")["tuned"] is False   # the user's own settings win
    assert _allocator(GLIBC_TUNABLES="glibc.malloc.trim_threshold=0")["tuned"] is False


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator settings (this C library is not glibc)")
def test_entry_points_and_build_tracker_set_the_allocator():
    probe = ("import importlib, os, sys\nm = importlib.import_module('{mod}')\nfrom edcf_plugin import process_setup\n"
             "try:\n    m.main({argv})\nexcept SystemExit:\n    pass\n"
             "print('ALLOCATOR', process_setup._allocator_done)")
    for mod, argv in (("edcf_plugin.cli", "['track', '/nonexistent/seq']"),
                      ("edcf_plugin.toolkits.pysot_runner", "['--help']"),
                      ("edcf_plugin.toolkits.trax_server", "['--help']")):
        out = subprocess.run([sys.executable, "-c", probe.format(mod=mod, argv=argv)], capture_output=True,
                             text=True, timeout=120, env=CLEAN_ENV)
        assert "ALLOCATOR True" in out.stdout, (mod, out.stdout[-500:], out.stderr[-500:])
    library = ("from edcf_plugin import process_setup\nfrom edcf_plugin.tracker import build_tracker\n"
               "build_tracker('CACFNet')\nprint('ALLOCATOR', process_setup._allocator_done)")
    out = subprocess.run([sys.executable, "-c", library], capture_output=True, text=True, timeout=120, env=CLEAN_ENV)
    assert "ALLOCATOR True" in out.stdout, out.stderr[-500:]
