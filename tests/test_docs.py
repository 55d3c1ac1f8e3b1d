"""The README's set-up and test commands: what `.ci/run` runs, and runnable on an ordinary Linux machine."""
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.DOTALL)


def two_commands() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## The two commands that matter")
    return readme[start:readme.index("\n## ", start + 1)]


def steps(commands: list[str]) -> list[list[str]]:
    """Commands as argument lists, pip's -q dropped and pip's self-upgrade left out (neither changes what is
    installed or run)."""
    out = []
    for c in commands:
        args = [a for a in shlex.split(c) if not (a == "-q" and c.startswith("pip "))]
        if args[:2] == ["pip", "install"] and "--upgrade" in args and args[-1] == "pip":
            continue
        out.append(args)
    return out


def test_readme_test_command_is_what_ci_runs():
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    ci = [ln for ln in ci if ln and not ln.startswith("#") and not ln.startswith(("set ", "cd "))]
    section = two_commands()
    test_line = next(b.strip() for b in bash_blocks(section) if "pytest" in b and "[vot,test]" in b)
    assert steps(test_line.split(" && ")) == steps(ci)


def test_readme_gives_cpu_and_cuda_set_up_and_a_quick_subset():
    section = two_commands()
    demo_line = next(b.strip() for b in bash_blocks(section) if "edcf demo" in b)
    assert f"pip install torch {CPU_INDEX}" in demo_line               # CPU wheel index, no CUDA download
    assert f"pip install torch {CPU_INDEX}" in section and "**CUDA**" in section and "--device cuda" in section
    assert f"pip install torch==2.13.0 {CPU_INDEX}" in section          # makes the pinned CI step a no-op
    assert "about 8 minutes on an idle 2-core machine" in section
    quick = next(b.strip() for b in bash_blocks(section) if b.startswith("python -m pytest") and "tests/" in b)
    files = [a for a in shlex.split(quick) if a.startswith("tests/")]
    assert files and all((ROOT / f).is_file() for f in files), files


def test_pysot_doc_explains_the_two_precisions():
    text = " ".join((ROOT / "docs" / "pysot.md").read_text().split())
    assert "mean of that video's whole 0-50 px curve" in text and "at 20 px like the overall row" in text
    assert "--partial" in text and "--preset NAME" in text and "edcf_one_scale.yaml" in text
