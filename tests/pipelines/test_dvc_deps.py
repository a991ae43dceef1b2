"""dvc.yaml's stages depend on the code their pipelines run, so `dvc repro` reruns what a change touches.

A stage's code is read from the source, not listed by hand:

- every ``lam_kedro`` module its pipeline's folder imports, followed through imports (at module
  level and inside functions, not under ``if TYPE_CHECKING:``) and through ``"lam_kedro.x.y"``
  strings (lazy imports by name, the JSONL dataset's ``model:``);
- the dataset classes and models named by its catalog entries (``conf/base``) that read or write
  a file DVC tracks for the stage;
- the package data files (the prompt templates) those modules read.

A name a package re-exports counts as its defining module's (``from lam_kedro.env import
WordEnv`` is ``env/word_env.py``), not as every module the package's ``__init__`` imports. Each
file must lie under one of the stage's ``deps``. What DVC does not track is no reason to rerun:
datasets that only write to MLflow (a registered model's pyfunc wrapper, metrics) and the
project's settings and hooks (the validation gate decides whether a run goes ahead, not what it
writes) are no stage's dependency.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

SRC = REPO / "src"
PACKAGE = SRC / "lam_kedro"
PIPELINES = PACKAGE / "pipelines"
_DOTTED = re.compile(r"lam_kedro(\.[A-Za-z_]\w*)+")
_STAGE_CMD = re.compile(r"kedro run --pipelines (\w+)")


def _module_file(name: str) -> Path | None:
    path = SRC.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def _module_of(dotted: str) -> str | None:
    """The longest prefix of ``dotted`` that is a module of ours (the rest names an attribute)."""
    while dotted.startswith("lam_kedro"):
        if _module_file(dotted):
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` that runs: the bodies of ``if TYPE_CHECKING:`` are left out."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


@functools.cache
def _parsed(name: str) -> tuple[tuple[tuple[str, str | None], ...], frozenset[str]]:
    """What module ``name`` uses of ours, as (module, attribute or None), and its string constants."""
    tree = ast.parse(_module_file(name).read_text(encoding="utf-8"))
    uses: list[tuple[str, str | None]] = []
    strings: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            uses += [(alias.name, None) for alias in node.names if alias.name.startswith("lam_kedro")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lam_kedro"):
            assert node.level == 0, f"{name}: relative import; this test resolves absolute ones only"
            uses += [_split(f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.add(node.value)
            # A dotted name in a string is an import by name (a lazy import, a dataset's ``model``);
            # a package's name is where package data is looked up (``files("lam_kedro.agent")``).
            if _DOTTED.fullmatch(node.value) and not _is_package(node.value):
                uses.append(_split(node.value))
    return tuple(u for u in uses if u[0]), frozenset(strings)


def _is_package(name: str) -> bool:
    return SRC.joinpath(*name.split("."), "__init__.py").is_file()


def _split(dotted: str) -> tuple[str, str | None]:
    """``a.b.c`` as (module ``a.b.c``, None) when it is a module, else (``a.b``, ``c``)."""
    if _module_file(dotted):
        return dotted, None
    module = _module_of(dotted)
    return (module, dotted[len(module) + 1:]) if module else ("", None)


def _reexport(package: str, attr: str) -> str | None:
    """The module a package's ``__init__`` takes ``attr`` from (``from m import attr``, or lazily
    ``{"attr": "m"}``), or None when the ``__init__`` defines it."""
    tree = ast.parse(_module_file(package).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == attr for a in node.names):
            return node.module
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == attr and isinstance(value, ast.Constant):
                    return value.value
    return None


#: (package, attribute) -> the module that defines it, as this file resolved it (checked at run time below).
RESOLVED: dict[tuple[str, str], str] = {}


def _defining_module(module: str, attr: str | None) -> str:
    """Where the code behind ``module.attr`` lives: a package's re-export is followed to its source."""
    start = (module, attr)
    while attr is not None and _is_package(module) and (source := _reexport(module, attr)):
        module, attr = _split(f"{source}.{attr}")
    if module != start[0]:
        RESOLVED[start] = module
    return module


def _closure(roots: set[str]) -> set[str]:
    """``roots`` and every module of ours they use, transitively."""
    seen: set[str] = set()
    todo = set(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo |= {_defining_module(m, a) for m, a in _parsed(name)[0]} - seen
    return seen


def _data_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix not in {".py", ".pyc"}
                  and "__pycache__" not in p.parts)


def _readers(data_file: Path) -> set[str]:
    """Modules in a folder above ``data_file`` whose string constants name its file or a folder on its path."""
    readers = set()
    for module_path in PACKAGE.rglob("*.py"):
        name = _module_name(module_path)
        below = data_file.relative_to(module_path.parent) if data_file.is_relative_to(module_path.parent) else None
        if below is not None and _parsed(name)[1] & set(below.parts):
            readers.add(name)
    return readers


def _stages() -> dict[str, dict]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def _pipeline_names() -> list[str]:
    return sorted(p.name for p in PIPELINES.iterdir() if (p / "__init__.py").is_file())


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _tracked(stage: dict) -> list[str]:
    """The paths DVC tracks for a stage: its deps, outs, metrics and plots."""
    entries = [e for key in ("deps", "outs", "metrics", "plots") for e in stage.get(key, [])]
    return [e if isinstance(e, str) else next(iter(e)) for e in entries]


@functools.cache
def _base_catalog() -> dict[str, object]:
    """``conf/base``'s catalog as Kedro reads it (``${globals:...}`` resolved)."""
    from kedro.config import OmegaConfigLoader

    return dict(OmegaConfigLoader(str(REPO / "conf"), base_env="base", default_run_env="base")["catalog"])


def _catalog_modules(stage: str) -> set[str]:
    """The ``lam_kedro`` modules named (dataset types, models) by the base catalog's entries of the
    stage's pipeline that read or write a file DVC tracks for the stage. Entries that only talk to
    MLflow (metrics) are left out, and of an entry that wraps a file dataset (a model folder
    registered as it is saved) only the wrapped dataset counts: DVC does not track what MLflow
    gets."""
    tracked = _tracked(_stages()[stage])
    names: set[str] = set()
    for key, entry in _base_catalog().items():
        inner = entry.get("dataset") if isinstance(entry, dict) else None
        if isinstance(inner, dict) and any(_covers(t, v) for t in tracked for v in _strings(inner)):
            entry = inner  # a wrapper (the registry, kedro-mlflow's artifacts) writes the file through it
        values = _strings(entry)
        on_disk = any(_covers(t, v) for t in tracked for v in values)
        if key in _pipeline_datasets()[stage] and on_disk:
            names |= {v for v in values if _DOTTED.fullmatch(v)}
    unknown = sorted(n for n in names if not _module_of(n))
    assert not unknown, f"the catalog names lam_kedro classes that do not exist: {unknown}"
    return {_defining_module(*_split(n)) for n in names}


@functools.cache
def _pipeline_datasets() -> dict[str, set[str]]:
    """Each pipeline's dataset names, from its ``create_pipeline()`` (in a fresh interpreter)."""
    code = (
        "import importlib, json\n"
        f"names = {_pipeline_names()!r}\n"
        "print(json.dumps({n: sorted(importlib.import_module(f'lam_kedro.pipelines.{n}').create_pipeline()"
        ".datasets()) for n in names}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(SRC), "KEDRO_DISABLE_TELEMETRY": "1", "PATH": ""})
    assert proc.returncode == 0, proc.stderr[-4000:]
    return {name: set(ds) for name, ds in json.loads(proc.stdout.splitlines()[-1]).items()}


def stage_code(pipeline: str) -> set[str]:
    """The files under ``src/`` (repo-relative) whose change can change what ``pipeline`` writes."""
    roots = {_module_name(p) for p in (PIPELINES / pipeline).rglob("*.py")}
    roots |= _catalog_modules(pipeline)
    modules = _closure(roots)
    files = {_module_file(m) for m in modules}
    files |= {f for f in _data_files() if _readers(f) & modules}
    return {f.relative_to(REPO).as_posix() for f in files}


def _covers(dep: str, path: str) -> bool:
    return path == dep or path.startswith(dep.rstrip("/") + "/")


def test_one_stage_per_pipeline():
    stages = _stages()
    commands = {name: _STAGE_CMD.fullmatch(stage["cmd"]) for name, stage in stages.items()}
    assert all(commands.values()), {n: s["cmd"] for n, s in stages.items() if not commands[n]}
    assert {n: m.group(1) for n, m in commands.items()} == {n: n for n in stages}
    assert sorted(stages) == _pipeline_names()


def test_every_package_data_file_has_a_reader():
    """A data file no module names would be outside every stage's code: say which module reads it."""
    assert _data_files(), "the prompt templates are package data"
    unread = [f.relative_to(REPO).as_posix() for f in _data_files() if not _readers(f)]
    assert not unread, unread


@pytest.mark.parametrize("stage", sorted(_stages()))
def test_stage_deps_cover_its_code(stage: str):
    deps = [d for d in _stages()[stage]["deps"] if d.startswith("src/")]
    code = stage_code(stage)
    missing = sorted(f for f in code if not any(_covers(d, f) for d in deps))
    assert not missing, f"dvc.yaml stage '{stage}' runs code its deps omit; add to its deps: {missing}"
    unused = [d for d in deps if not any(_covers(d, f) for f in code)]
    assert not unused, f"dvc.yaml stage '{stage}' depends on code its pipeline does not run: {unused}"


def test_reexports_resolve_to_where_python_finds_them():
    """The re-exports this file follows (``from lam_kedro.env import WordEnv`` is ``env.word_env``'s
    code) are where the running interpreter finds those objects."""
    for stage in _stages():
        stage_code(stage)
    assert RESOLVED
    wrong = {}
    for (package, attr), module in sorted(RESOLVED.items()):
        found = getattr(importlib.import_module(package), attr)
        where = getattr(found, "__module__", None) or getattr(found, "__name__", None)
        if where is not None and where != module:
            wrong[f"{package}.{attr}"] = (module, where)
    assert not wrong, wrong


def test_the_derivation_sees_function_level_imports_and_the_prompt_files():
    """The omissions this test was written for: Phase 1 imports its trainer inside a node, the phases
    render prompts from package data, evaluation decodes through the tokenizer's module."""
    assert "src/lam_kedro/training/sft.py" in stage_code("phase1")
    for stage in ("base_model", "phase1", "phase2"):
        assert "src/lam_kedro/agent/prompts/step_user.txt" in stage_code(stage)
    assert {"src/lam_kedro/model/decoder.py", "src/lam_kedro/model/grammar.py", "src/lam_kedro/model/tokenizer.py"} <= stage_code("evaluation")
    assert not any(f.startswith("src/lam_kedro/training/") for f in stage_code("templates"))
