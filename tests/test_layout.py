"""The house's parts: the engine (what lm-eval calls for the tasks) is small modules that import neither the model
backends, the command-line helpers nor the reporting side, the backends do not import the reporting side, and no
module imports itself back through others.
"""

from __future__ import annotations

import ast

from conftest import ROOT


PACKAGES = ("culture_metrics", "hf_dataset", "lm_eval_tasks", "scripts", "benchmarks")


def imports(path) -> set[str]:
    """The project modules a file imports (absolute imports only: the project uses no relative ones)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] in PACKAGES}


def module_files() -> dict[str, object]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def test_the_engine_imports_neither_backends_nor_reporting():
    engine = [p for p in (ROOT / "culture_metrics").glob("*.py") if p.name != "__main__.py"]
    assert len(engine) >= 10
    for path in engine:
        assert not [name for name in imports(path)
                    if name.startswith(("culture_metrics.reporting", "culture_metrics.backends"))], path.name


def test_the_engine_is_small_modules_that_never_import_the_command_line_helpers():
    engine = [p for p in (ROOT / "culture_metrics").glob("*.py") if p.name != "__main__.py"]
    assert not [p.name for p in engine if len(p.read_text(encoding="utf-8").splitlines()) > 300]
    assert not [p.name for p in engine if [name for name in imports(p) if name.startswith("culture_metrics.cli")]]


def test_the_backends_live_together_and_never_import_the_reporting_side():
    backends = sorted(p.name for p in (ROOT / "culture_metrics" / "backends").glob("*.py"))
    assert backends == ["__init__.py", "hf_prefix.py", "wvs_lm_eval.py"]
    assert (ROOT / "culture_metrics" / "backends" / "served" / "__init__.py").exists()
    assert not [p.name for p in (ROOT / "culture_metrics").glob("*.py") if p.name in [*backends[1:], "served.py"]]
    for path in (ROOT / "culture_metrics" / "backends").rglob("*.py"):
        assert not [name for name in imports(path) if name.startswith("culture_metrics.reporting")], path.name


def test_no_import_circle():
    modules = module_files()
    graph = {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and not seen.add(n) and reaches(n, goal, seen)) for n in graph[start])

    circles = [name for name in graph if reaches(name, name, set())]
    assert not circles, circles
