"""Imports run one way and without cycles: ../shared/DESIGN.md's direction, read from the source.

- every module of ``lam_kedro`` imports alone (no other module of ours loaded before it);
- no two modules import each other at module level, even where a package's ``__init__`` happens to
  import them in an order that works (the import order is no contract);
- ``env`` imports nothing of ours outside ``env``; ``serving`` never imports ``training``; each
  package imports only the packages ../shared/DESIGN.md lets it, counting imports inside functions too.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SRC = REPO / "src"

#: The packages of ours each package may import (../shared/DESIGN.md, "Direction of imports"). Modules at the
#: top (``console``, ``settings``, ``pipeline_registry``) wire everything and may import anything.
ALLOWED: dict[str, frozenset[str]] = {
    "env": frozenset(),
    "agent": frozenset({"env"}),
    "model": frozenset({"agent", "env"}),
    "training": frozenset({"model", "agent", "env"}),
    "evaluation": frozenset({"model", "agent", "env"}),
    # serving reads the evaluation's params model (evaluation.params): `lam agent` / `lam serve` run a LAM as
    # the evaluation's config says, validated by the same model
    "serving": frozenset({"model", "agent", "env", "evaluation"}),
    "datasets": frozenset({"serving", "model", "agent", "env"}),
    "validation": frozenset(),
    "pipelines": frozenset({"datasets", "evaluation", "training", "model", "agent", "env"}),
}

#: Cycles that only imports inside functions close (so every module still imports alone), each with
#: why it is still there. A cycle not listed here fails the test.
KNOWN_LOCAL_CYCLES: dict[frozenset[str], str] = {
    frozenset({"env.episode", "env.feasibility", "env.tasks", "env.tasks.registry", "env.tasks.sequence",
               "env.word_env"}):
        "the episode rules check a task with its family, and a sequence family replays steps in the simulator",
    frozenset({"env.docx_body", "env.docx_hf", "env.docx_inplace", "env.docx_io", "env.docx_patch",
               "env.docx_write"}):
        "the .docx reader and writer call each other's part handlers",
}


@functools.cache
def modules() -> dict[str, Path]:
    """Every module of ``lam_kedro`` by dotted name."""
    out = {}
    for path in sorted((SRC / "lam_kedro").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _nodes(tree: ast.AST, in_functions: bool):
    """The nodes of ``tree`` that run on import (``in_functions``: and those inside functions);
    ``if TYPE_CHECKING:`` bodies never run."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not in_functions:
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


@functools.cache
def imports(name: str, in_functions: bool) -> frozenset[str]:
    """The modules of ours that importing ``name`` runs (``in_functions``: and that its functions import):
    ``from pkg import x`` is ``pkg.x`` when that is a module, else ``pkg``; a package imported on the
    way (``lam_kedro.env`` for ``lam_kedro.env.types``) counts unless ``name`` is inside it."""
    path, known = modules()[name], modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8")), in_functions):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
    out = set()
    for target in found:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in known and prefix != name and not name.startswith(prefix + "."):
                out.add(prefix)
    return frozenset(out)


def cycles(in_functions: bool) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan), names without ``lam_kedro.``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in imports(v, in_functions):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(frozenset(g.removeprefix("lam_kedro.") for g in group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(modules())))
    try:
        for v in modules():
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def _package(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


_IMPORT_EACH = """
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    for key in [k for k in sys.modules if k == "lam_kedro" or k.startswith("lam_kedro.")]:
        del sys.modules[key]
    try:
        importlib.import_module(name)
    except BaseException as err:
        failures[name] = "".join(traceback.format_exception_only(err)).strip()
print(json.dumps(failures))
"""


def test_every_module_imports_alone():
    """Each module in an interpreter with no module of ours loaded (third-party ones stay, for speed)."""
    names = list(modules())
    env = {"KEDRO_DISABLE_TELEMETRY": "1", "DVC_NO_ANALYTICS": "1", "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH, json.dumps(names)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env}, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failures, "modules that do not import on their own:\n" + "\n".join(f"{k}: {v}" for k, v in failures.items())


def test_no_module_level_import_cycles():
    assert cycles(in_functions=False) == []


def test_import_cycles_through_functions_are_only_the_known_ones():
    unknown = [sorted(c) for c in cycles(in_functions=True) if c not in KNOWN_LOCAL_CYCLES]
    assert not unknown, f"new import cycles (counting imports inside functions): {unknown}"


def test_the_cycle_check_sees_a_cycle_a_package_init_hides(tmp_path, monkeypatch):
    """``a`` and ``b`` import each other; a package ``__init__`` importing ``a`` first would hide it."""
    pkg = tmp_path / "lam_kedro" / "toy"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from lam_kedro.toy import a\n")
    (pkg / "a.py").write_text("from lam_kedro.toy import b\n")
    (pkg / "b.py").write_text("def f():\n    from lam_kedro.toy import c\n\n\nfrom lam_kedro.toy import a\n")
    (pkg / "c.py").write_text("from lam_kedro.toy import b\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    for f in (modules, imports):
        f.cache_clear()
    try:
        assert cycles(in_functions=False) == [frozenset({"toy.a", "toy.b"})]
        assert cycles(in_functions=True) == [frozenset({"toy.a", "toy.b", "toy.c"})]
    finally:
        for f in (modules, imports):
            f.cache_clear()


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_follow_the_design_direction(package: str):
    """Counting imports inside functions: a lazy import is still a dependency."""
    wrong = sorted(
        f"{name} -> {target}"
        for name in modules() if _package(name) == package
        for target in imports(name, in_functions=True)
        if (other := _package(target)) not in (None, package) and other not in ALLOWED[package]
    )
    assert not wrong, f"{package} may import {sorted(ALLOWED[package]) or 'nothing of ours'} only: {wrong}"


def test_env_imports_nothing_of_ours_outside_env():
    outside = sorted(f"{n} -> {t}" for n in modules() if _package(n) == "env"
                     for t in imports(n, in_functions=True) if t != "lam_kedro" and not t.startswith("lam_kedro.env"))
    assert not outside, outside
