"""Which task ``lam agent`` runs: a task of the project's data, a family's task on a document, or a
user's free-text request (no checker), resolved from the command's options.

Every problem is a ``click.BadParameter`` / ``click.UsageError`` naming the option to change, so
``lam agent`` exits 2 before it creates anything.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from lam_kedro.agent.schema import InstantiatedTask, TaskPlan
from lam_kedro.env.document import Document
from lam_kedro.env.safe_paths import UnsafePathError, confined, id_problem
from lam_kedro.env.types import Task

__all__ = ["DEFAULT_TEMPLATE", "FREE_TEXT_ID", "Resolved", "resolve_task"]

#: The built-in template a free-text task starts from when no ``--doc`` is given.
DEFAULT_TEMPLATE = "one_line"
#: How a free-text task's id starts (``free_text-<digest of the request and document>``).
FREE_TEXT_ID = "free_text"


@dataclass
class Resolved:
    """The task to run, whether a checker judges it, and the documents the env needs."""

    task: InstantiatedTask
    checked: bool
    templates: dict[str, Document]
    source: str
    split: str | None = None


def _load_doc(doc: str, param_hint: str = "--doc") -> Document:
    """A built-in template by name or a .docx by path; a bad one is a usage error naming it."""
    from lam_kedro.env.docx_io import DocxLoadError
    from lam_kedro.env.templates import UnknownTemplateError, load_template

    try:
        return load_template(doc)
    except (UnknownTemplateError, DocxLoadError, OSError) as err:
        raise click.BadParameter(f"{doc}: {err}", param_hint=param_hint) from err


def _row_task(row: dict[str, Any], where: str) -> InstantiatedTask:
    """An ``InstantiatedTask`` from a row of instantiated tasks, trajectories or task plans."""
    from pydantic import ValidationError

    try:
        if isinstance(row.get("task"), dict) and "trajectory_id" in row:
            return InstantiatedTask.model_validate(row["task"])
        if "template" in row and "plan" in row and "source" in row:  # a task-plan row
            tp = TaskPlan.model_validate(row)
            if not tp.template:
                raise click.BadParameter(f"{where}: task {tp.task_id!r} has no template, so it cannot run",
                                         param_hint="--task-id")
            return InstantiatedTask(task_id=tp.task_id, app=tp.app, task=tp.task, plan=tp.plan,
                                    template=tp.template, family=tp.family, params=tp.params)
        return InstantiatedTask.model_validate(row)
    except ValidationError as err:
        raise click.BadParameter(f"{where}: not a task record: {err}", param_hint="--task-file") from err


def _row_id(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    if isinstance(row.get("task"), dict) and "trajectory_id" in row:
        return row["task"].get("task_id")
    return row.get("task_id")


def _task_from_file(path: Path, task_id: str) -> InstantiatedTask:
    from lam_kedro.agent.jsonl import JsonlError, iter_jsonl_lines, parse_json_line

    if not path.is_file():
        raise click.BadParameter(f"{path} does not exist (run the data collection pipeline, "
                                 "`kedro run --pipelines trajectories`, or pass --task-file)", param_hint="--task-file")
    seen: list[str] = []
    try:
        for n, line in iter_jsonl_lines(path):
            row = parse_json_line(path, n, line)
            rid = _row_id(row)
            if rid == task_id:
                return _row_task(row, f"{path}:{n}")
            if isinstance(rid, str) and len(seen) < 5:
                seen.append(rid)
    except JsonlError as err:
        raise click.BadParameter(str(err), param_hint="--task-file") from err
    except OSError as err:
        raise click.BadParameter(f"{path}: cannot read: {err}", param_hint="--task-file") from err
    hint = f"; ids there include {', '.join(seen)}" if seen else " (it has no task rows)"
    raise click.BadParameter(f"no task {task_id!r} in {path}{hint}", param_hint="--task-id")


def _split_of(splits: Path | None, task_id: str) -> str | None:
    """The task's split from the split manifest (the catalog's ``trajectory_splits``), when there is one."""
    if splits is None or not splits.is_file():
        return None
    with splits.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(row, dict) and row.get("task_id") == task_id:
                return str(row.get("split"))
    return None


def _template_docs(name: str, templates_dir: Path | None) -> dict[str, Document]:
    """The document a data task runs on: the templates pipeline's file, else a built-in / path."""
    saved = None
    if templates_dir is not None:
        try:  # a name from a task file must not reach outside the templates folder
            saved = confined(templates_dir, f"{name}.docx")
        except UnsafePathError:
            saved = templates_dir / "<outside>"
        if saved.is_file():
            return {name: _load_doc(str(saved), "--templates")}
    try:
        return {name: _load_doc(name, "--templates")}
    except click.BadParameter as err:
        where = f"neither {saved} nor" if saved is not None else "not"
        raise click.BadParameter(
            f"the task's template {name!r} is {where} a built-in template or .docx path; "
            "run `kedro run --pipelines templates` or pass --templates", param_hint="--templates") from err


def _family_task(family: str, params_json: str | None, request: str | None, doc: str | None, seed: int
                 ) -> tuple[InstantiatedTask, dict[str, Document]]:
    from lam_kedro.env.feasibility import InfeasibleTask, infeasibility
    from lam_kedro.env.tasks import get_family, make_task, task_id
    from lam_kedro.env.templates import builtin_templates

    try:
        fam = get_family(family)
    except KeyError as err:
        raise click.BadParameter(str(err), param_hint="--family") from err
    candidates = [doc] if doc else [t.name for t in builtin_templates()]
    if params_json is not None:
        try:
            params = json.loads(params_json)
        except json.JSONDecodeError as err:
            raise click.BadParameter(f"not JSON: {err.msg}", param_hint="--params") from err
        if not isinstance(params, dict):
            raise click.BadParameter("a JSON object of the family's params is needed", param_hint="--params")
        name = candidates[0] if doc else DEFAULT_TEMPLATE
        document = _load_doc(name)
        _check_params_shape(family, fam, params, document)
        try:
            text = request or fam.render(params, random.Random(seed))
            plan = fam.plan(params)
            fam.solution(params)
        except Exception as err:  # noqa: BLE001 - whatever the family trips on, it is the --params' fault
            raise click.BadParameter(f"params do not suit family {family!r}: {err!r}", param_hint="--params") from err
        reason = infeasibility(family, params, document)
        if reason is not None:
            raise click.BadParameter(f"the task is infeasible on {name}: {reason}", param_hint="--params")
        env_task = Task(task_id(family, name, seed), family, text, params, name)
    else:
        found = None
        for name in candidates:
            document = _load_doc(name)
            try:
                env_task = make_task(fam, name, document, seed)
            except InfeasibleTask as err:
                raise click.BadParameter(str(err), param_hint="--doc" if doc else "--family") from err
            if env_task is not None:
                found = (env_task, name, document)
                break
        if found is None:
            where = f"the document {doc}" if doc else "any built-in template"
            raise click.BadParameter(f"family {family!r} finds nothing to act on in {where}; give --params "
                                     "or another --doc", param_hint="--family")
        env_task, name, document = found
        plan = fam.plan(env_task.params)
        if request:
            env_task = Task(env_task.task_id, family, request, env_task.params, name)
    task = InstantiatedTask.from_env_task(env_task, plan=plan)
    return task, {name: document}


_JSON_TYPES = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
               dict: "an object", type(None): "null"}


def _check_params_shape(family: str, fam: Any, params: dict[str, Any], document: Document) -> None:
    """``--params`` must have the keys and JSON types of the params the family draws itself
    (from ``document``, else a built-in template): a wrong type is refused, never coerced."""
    from lam_kedro.env.templates import builtin_templates

    reference = None
    for doc in [document, *(t.build() for t in builtin_templates() if t.build is not None)]:
        try:
            reference = fam.sample_params(doc, random.Random(0))
        except Exception:  # noqa: BLE001 - a document the family cannot sample from
            reference = None
        if reference is not None:
            break
    if reference is None:
        return
    missing = sorted(set(reference) - set(params))
    unknown = sorted(set(params) - set(reference))
    if missing or unknown:
        raise click.BadParameter(
            f"family {family!r} takes the params {sorted(reference)}"
            + (f"; missing {missing}" if missing else "") + (f"; unknown {unknown}" if unknown else ""),
            param_hint="--params")
    for key, want in reference.items():
        want_t, got_t = _JSON_TYPES.get(type(want)), _JSON_TYPES.get(type(params[key]))
        if want is not None and want_t != got_t:
            raise click.BadParameter(f"{key!r} must be {want_t} (like {json.dumps(want)}), got {got_t}: "
                                     f"{json.dumps(params[key])[:60]}", param_hint="--params")


def _free_task(request: str, doc: str | None) -> tuple[InstantiatedTask, dict[str, Document]]:
    from lam_kedro.env.templates import describe_document

    name = doc or DEFAULT_TEMPLATE
    document = _load_doc(name)
    digest = hashlib.sha1(f"{request}|{Path(name).name}".encode()).hexdigest()[:12]
    task = InstantiatedTask(task_id=f"{FREE_TEXT_ID}-{digest}", task=request, template=name,
                            template_description=describe_document(document))
    return task, {name: document}


def resolve_task(task_text: str | None, task_id: str | None, task_file: Path | None, templates_dir: Path | None,
                 family: str | None, params_json: str | None, doc: str | None, seed: int,
                 data: Any = None) -> Resolved:
    """The task the options describe. ``data`` (``project_conf.AgentSettings``) holds the catalog's
    paths: the task file a bare ``--task-id`` reads and the split manifest."""
    if task_id is not None:
        problem = id_problem(task_id)
        if problem is not None:
            raise click.BadParameter(f"the task id {problem}", param_hint="--task-id")
        for opt, given in (("--family", family), ("--params", params_json), ("--doc", doc), ("--task", task_text)):
            if given is not None:
                raise click.UsageError(f"{opt} cannot be combined with --task-id (the task file defines the task)")
        path = task_file or (data.task_file if data is not None else None)
        if path is None:
            raise click.UsageError("--task-id needs --task-file here: there is no project conf/ whose catalog "
                                   "names the instantiated tasks (run it in the project, or pass --task-file)")
        task = _task_from_file(path, task_id)
        if task.family:
            from lam_kedro.env.tasks import get_family

            try:
                get_family(task.family)
            except KeyError as err:
                raise click.BadParameter(f"task {task_id!r}: {err}", param_hint="--task-id") from err
        docs = _template_docs(task.template, templates_dir)
        splits = data.splits_file if data is not None else None
        return Resolved(task, bool(task.family), docs, f"task file {path}", _split_of(splits, task_id))
    if task_file is not None:
        raise click.UsageError("--task-file needs --task-id (which task of the file to run)")
    if family is not None:
        task, docs = _family_task(family, params_json, task_text, doc, seed)
        return Resolved(task, True, docs, f"family {family}")
    if params_json is not None:
        raise click.UsageError("--params needs --family")
    if not task_text:
        raise click.UsageError("say what to do: --task TEXT, --family NAME or --task-id ID (see --help)")
    task, docs = _free_task(task_text, doc)
    return Resolved(task, False, docs, "free text")
