"""OpenMP's passive wait policy for the command-line entry points (issue 21 item 6): set before torch loads, never
over a user's own setting, and not at all once torch is loaded (libgomp has read it by then)."""
import os
import subprocess
import sys

CHECK = """
import os, sys
{pre}
from edcf_plugin.threads import passive_openmp_waiting
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
    probe = ("import os, sys\nfrom edcf_plugin import {mod}\n"
             "try:\n    {mod}.main({argv})\nexcept SystemExit:\n    pass\n"
             "print('POLICY', os.environ.get('OMP_WAIT_POLICY'))")
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "EDCF_NO_OMP_POLICY")}
    for mod, argv in (("cli", "['track', '/nonexistent/seq']"), ("pysot_test", "['--help']"),
                      ("trax_server", "['--help']")):
        out = subprocess.run([sys.executable, "-c", probe.format(mod=mod, argv=argv)], capture_output=True,
                             text=True, env=e, timeout=120)
        assert "POLICY PASSIVE" in out.stdout, (mod, out.stdout[-500:], out.stderr[-500:])
