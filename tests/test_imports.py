"""The package's import graph has no circle (issue 20): every ``import`` / ``from ... import`` anywhere in a module
(functions included) counts as an edge between edcf_plugin modules."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "edcf_plugin"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != mod and t.startswith("edcf_plugin"):
                    if not (mod.startswith(t + ".") or t == "edcf_plugin"):   # a package's own __init__
                        graph[mod].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_circle_in_the_package():
    graph = import_graph()
    assert "edcf_plugin.training.data_sources" in graph and graph["edcf_plugin.toolkits.pysot_runner"]
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_checker_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


#: The package's top level: the core (math, networks, config, checkpoints, boxes, errors, process set-up, the
#: machine's description), the ``edcf`` dispatcher, and the public names that existing configs and user code import
#: (short re-exports).
CORE = {"edcf_plugin.errors", "edcf_plugin.boxes", "edcf_plugin.cf", "edcf_plugin.networks", "edcf_plugin.config",
        "edcf_plugin.checkpoint", "edcf_plugin.process_setup", "edcf_plugin.geometry", "edcf_plugin.machine"}
PUBLIC_NAMES = {"edcf_plugin.trax", "edcf_plugin.tracker", "edcf_plugin.pysot", "edcf_plugin.got10k_adapter"}
SUBPACKAGES = {"tracking", "toolkits", "formats", "commands", "training"}


def test_the_folders_are_the_map():
    top = {module_name(p) for p in PACKAGE.glob("*.py")} - {"edcf_plugin"}
    seams = {"edcf_plugin.cli", "edcf_plugin.run"}     # the `edcf` dispatcher, the run seam
    assert top == CORE | PUBLIC_NAMES | seams, sorted(top ^ (CORE | PUBLIC_NAMES | seams))
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == SUBPACKAGES
    graph = import_graph()
    for mod in CORE:          # the bottom layer imports nothing above it
        assert graph[mod] <= CORE, (mod, sorted(graph[mod] - CORE))
    for mod in PUBLIC_NAMES:  # a public name only re-exports
        assert len(PACKAGE.joinpath(*mod.split(".")[1:]).with_suffix(".py").read_text().splitlines()) <= 20, mod


def test_public_names_reexport_the_same_objects():
    import importlib

    from edcf_plugin.config import TrackerConfig
    from edcf_plugin.toolkits import pysot_tracker, trax_server
    from edcf_plugin.tracking import tracker

    public = importlib.import_module("edcf_plugin.tracker")
    assert public.build_tracker is tracker.build_tracker and public.EDCFTracker is tracker.EDCFTracker
    assert public.TrackerConfig is TrackerConfig
    assert importlib.import_module("edcf_plugin.pysot").EDCFPysotTracker is pysot_tracker.EDCFPysotTracker
    assert importlib.import_module("edcf_plugin.trax").main is trax_server.main
    got10k = importlib.import_module("edcf_plugin.got10k_adapter")
    from edcf_plugin.toolkits import got10k as home
    assert got10k.EDCFGot10kTracker is home.EDCFGot10kTracker and got10k.LocalExperiment is home.LocalExperiment
