"""The package layout the architecture note describes: the core imports nothing from the other groups,
and the runtime never imports the training stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mergebert"
TRAINING_STACK = {"torch", "transformers", "tokenizers", "onnx"}


def _imports(path: Path) -> set[str]:
    """Every module name imported anywhere in the file (top level or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules(group: str) -> list[Path]:
    return sorted((PACKAGE / group).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: p.name)
def test_core_imports_only_core(path: Path) -> None:
    outside = {
        name
        for name in _imports(path)
        if name.startswith("mergebert.") and not name.startswith("mergebert.core")
    }
    assert not outside, f"{path.name} reaches outside the core: {sorted(outside)}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_runtime_never_imports_the_training_stack(path: Path) -> None:
    heavy = {name for name in _imports(path) if name.split(".")[0] in TRAINING_STACK}
    assert not heavy, f"{path.relative_to(PACKAGE)} imports {sorted(heavy)}"


@pytest.mark.parametrize("path", _modules("neural"), ids=lambda p: p.name)
def test_neural_runtime_does_not_depend_on_front_ends_or_data(path: Path) -> None:
    outside = {
        name
        for name in _imports(path)
        if name.startswith(("mergebert.git", "mergebert.data", "mergebert.cli"))
    }
    assert not outside, f"{path.name} reaches into front-ends or data: {sorted(outside)}"


def _top_level_imports(path: Path) -> set[str]:
    """The module names a file imports when it is loaded (its module-level statements only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update({node.module, *(f"{node.module}.{alias.name}" for alias in node.names)})
    return names


def test_only_the_interactive_commands_load_rich() -> None:
    """rich is imported by git/interactive.py alone, which no module imports when it is loaded: the merge
    driver and the other front-ends never pay for it."""
    users = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if any(name.split(".")[0] == "rich" for name in _imports(p))
    }
    assert users == {"git/interactive.py"}
    eager = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "mergebert.git.interactive" in _top_level_imports(p)
    ]
    assert eager == []


CLUSTER_STACK = {"dask", "distributed"}
CLUSTER_MODULE = PACKAGE / "data" / "mining" / "cluster.py"  # `mine --scheduler`: the one module that may


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_mining_on_a_cluster_imports_dask(path: Path) -> None:
    dask = {name for name in _imports(path) if name.split(".")[0] in CLUSTER_STACK}
    assert path == CLUSTER_MODULE or not dask, f"{path.relative_to(PACKAGE)} imports {sorted(dask)}"


def test_runtime_and_local_mining_load_no_dask() -> None:
    script = (
        "import sys, mergebert.cli, mergebert.git.driver, mergebert.git.frontend, mergebert.data.mining; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', 'torch'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
