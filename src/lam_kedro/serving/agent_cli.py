"""``lam agent``: run a LAM on one task in the simulated Word, step by step, behind the safety layer.

The model is run exactly as the online evaluation runs it: ``model.policy.lam_policy`` (the
function ``evaluation.online.build_policy``, Phase 3's exploration and ``lam serve`` build the LAM
with) from the same decode config (``evaluation.generate`` of the project's
``conf/base/parameters_evaluation.yml``; ``--constrained``, ``--max-new-tokens`` and ``--allow``
override single keys), the task's plan as the first ``<Previous Plans:>``
(``evaluation.online.use_task_plan``) and the same step limit (``evaluation.online.max_steps``),
in the same ``run_episode`` loop, so a model that solved a task in evaluation solves it here.
``SafePolicy`` (``serving.safety``) sits between the policy and the environment.

Where the task comes from, in order of precedence:

- ``--task-id ID`` [``--task-file FILE``]: a task of the project's data (default file: the
  instantiated tasks of data collection; a trajectories file or an executable task-plan file
  works too), on its own template (from ``--templates``, the templates pipeline's folder, else
  a built-in); the task's checker judges the result;
- ``--family F`` [``--params JSON``] [``--doc D``]: a task of family F on document D, its
  params sampled from D with ``--seed`` unless given; the family's checker judges it;
- ``--task "free text"`` [``--doc D``]: any request; there is no checker, so the command says
  so and you judge the saved document yourself.

The command writes ``<out>/result.docx``, ``<out>/trajectory.json`` (a ``Trajectory``) and
``<out>/ufo_execution.json`` (UFO's execution record); the default ``<out>`` is
``agent_runs/<task_id>``, resolved and confined to ``agent_runs/``. Exit status, one meaning
each: 0 done (the checker agrees, or there is no checker), 1 the checker says the task failed,
2 bad usage or bad input (the message says which option or file, and nothing is created),
3 an internal error (a bug: the traceback is printed).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.schema import InstantiatedTask, TaskPlan, Trajectory
from lam_kedro.env import WordEnv
from lam_kedro.env.action_table import FUNCTIONS
from lam_kedro.env.document import Document
from lam_kedro.env.safe_paths import UnsafePathError, confined, id_problem
from lam_kedro.env.types import Action, Observation, Task
from lam_kedro.model.policy import DecodeConfig, decode_config
from lam_kedro.serving.cli import print_step
from lam_kedro.serving.safety import ConfirmationRequest, SafePolicy, SafetyConfig

__all__ = [
    "DEFAULT_TASK_FILE",
    "DEFAULT_TEMPLATE",
    "DEFAULT_TEMPLATES_DIR",
    "FREE_TEXT_FAMILY",
    "NO_CHECKER",
    "EvaluationSettings",
    "UncheckedEnv",
    "agent_command",
    "evaluation_settings",
]

#: What data collection writes: every instantiated task (the test split's among them).
DEFAULT_TASK_FILE = Path("data/03_primary/trajectories/instantiated_tasks.jsonl")
#: The templates pipeline's documents, by template name (what evaluation loads tasks on).
DEFAULT_TEMPLATES_DIR = Path("data/02_intermediate/templates")
#: The built-in template a free-text task starts from when no ``--doc`` is given.
DEFAULT_TEMPLATE = "one_line"
#: The family name a free-text task carries while it runs (no family of the environment has it).
FREE_TEXT_FAMILY = "free_text"
#: The verdict of a task without a checker.
NO_CHECKER = "no checker for this task: judge the saved document yourself"


# ---------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class EvaluationSettings:
    """How the online evaluation runs a LAM; defaults are ``pipelines.evaluation.params``'."""

    decode: DecodeConfig = field(default_factory=DecodeConfig)
    max_steps: int = 30
    use_task_plan: bool = True


def evaluation_settings(project: Path | None = None) -> EvaluationSettings:
    """The evaluation's decode config, step limit and plan use from ``conf/base`` of ``project``
    (default: the current directory); the defaults when the file is absent or unreadable. A decode
    block with an unknown key raises ``ValueError`` naming it, as the evaluation pipeline would."""
    base = EvaluationSettings()
    conf = (project or Path.cwd()) / "conf" / "base" / "parameters_evaluation.yml"
    if not conf.is_file():
        return base
    import yaml

    try:
        data = (yaml.safe_load(conf.read_text(encoding="utf-8")) or {}).get("evaluation") or {}
    except (yaml.YAMLError, AttributeError):
        return base
    online = data.get("online") or {}
    return EvaluationSettings(
        decode=decode_config(data.get("generate"), "conf/base/parameters_evaluation.yml: evaluation.generate"),
        max_steps=int(online.get("max_steps", base.max_steps)),
        use_task_plan=bool(online.get("use_task_plan", base.use_task_plan)),
    )


# ---------------------------------------------------------------------------- an env without checker


class UncheckedEnv:
    """``WordEnv`` for a task that has no checker (a free-text request).

    FINISH and FAIL end the episode here and are never passed on, so the inner environment never
    asks a task family for a verdict; the outcome says ``NO_CHECKER``. Same ``reset``/``step``
    contract, ``max_steps``, ``document`` and ``save`` as ``WordEnv``.
    """

    def __init__(self, max_steps: int = 30, templates: dict[str, Document] | None = None) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        self.max_steps = max_steps
        self.env = WordEnv(max_steps=2**31 - 1, templates=templates)  # never truncates (and checks) itself
        self.steps = 0
        self.done = False

    def reset(self, task: Task, seed: int | None = None) -> tuple[Observation, dict[str, Any]]:
        self.steps, self.done = 0, False
        return self.env.reset(task, seed=seed)

    def step(self, action: Action | dict[str, Any]) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        act = Action(**action) if isinstance(action, dict) else action
        obs, _reward, _term, _trunc, info = self.env.step(Action(act.control_label, act.function, act.args))
        self.steps += 1
        terminated = act.status in ("FINISH", "FAIL") and not self.done
        truncated = not terminated and not self.done and self.steps >= self.max_steps
        if terminated or truncated:
            self.done = True
            info = {**info, "success": False, "check_reason": NO_CHECKER}
        return obs, 0.0, terminated, truncated, info

    @property
    def document(self) -> Document:
        return self.env.document

    def save(self, path: str | Path) -> None:
        self.env.save(path)


# ---------------------------------------------------------------------------- the task


@dataclass
class _Resolved:
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


def _split_of(task_file: Path, task_id: str) -> str | None:
    """The task's split from ``splits.jsonl`` beside the task file (data collection writes it)."""
    splits = task_file.with_name("splits.jsonl")
    if not splits.is_file():
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


def _template_docs(name: str, templates_dir: Path) -> dict[str, Document]:
    """The document a data task runs on: the templates pipeline's file, else a built-in / path."""
    try:  # a name from a task file must not reach outside the templates folder
        saved = confined(templates_dir, f"{name}.docx")
    except UnsafePathError:
        saved = templates_dir / "<outside>"
    if saved.is_file():
        return {name: _load_doc(str(saved), "--templates")}
    try:
        return {name: _load_doc(name, "--templates")}
    except click.BadParameter as err:
        raise click.BadParameter(
            f"the task's template {name!r} is neither {saved} nor a built-in template or .docx path; "
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
    task = InstantiatedTask(task_id=f"{FREE_TEXT_FAMILY}-{digest}", task=request, template=name,
                            template_description=describe_document(document), family=FREE_TEXT_FAMILY)
    return task, {name: document}


def _resolve_task(task_text: str | None, task_id: str | None, task_file: Path | None, templates_dir: Path,
                  family: str | None, params_json: str | None, doc: str | None, seed: int) -> _Resolved:
    if task_id is not None:
        problem = id_problem(task_id)
        if problem is not None:
            raise click.BadParameter(f"the task id {problem}", param_hint="--task-id")
        for opt, given in (("--family", family), ("--params", params_json), ("--doc", doc), ("--task", task_text)):
            if given is not None:
                raise click.UsageError(f"{opt} cannot be combined with --task-id (the task file defines the task)")
        path = task_file or DEFAULT_TASK_FILE
        task = _task_from_file(path, task_id)
        if task.family:
            from lam_kedro.env.tasks import get_family

            try:
                get_family(task.family)
            except KeyError as err:
                raise click.BadParameter(f"task {task_id!r}: {err}", param_hint="--task-id") from err
        docs = _template_docs(task.template, templates_dir)
        checked = bool(task.family)
        if not checked:
            task = task.model_copy(update={"family": FREE_TEXT_FAMILY})
        return _Resolved(task, checked, docs, f"task file {path}", _split_of(path, task_id))
    if task_file is not None:
        raise click.UsageError("--task-file needs --task-id (which task of the file to run)")
    if family is not None:
        task, docs = _family_task(family, params_json, task_text, doc, seed)
        return _Resolved(task, True, docs, f"family {family}")
    if params_json is not None:
        raise click.UsageError("--params needs --family")
    if not task_text:
        raise click.UsageError("say what to do: --task TEXT, --family NAME or --task-id ID (see --help)")
    task, docs = _free_task(task_text, doc)
    return _Resolved(task, False, docs, "free text")


# ---------------------------------------------------------------------------- the policy


def _load_model(model: str, tracking_uri: str | None) -> Any:
    if not model.startswith(("models:/", "runs:/")) and not (Path(model) / "config.json").is_file():
        # checked before load_lam imports torch, so a typo fails at once
        raise click.BadParameter(f"{model} is neither a registry URI (models:/lam@champion) nor a Hugging Face "
                                 "model folder (no config.json there)", param_hint="--model")
    from lam_kedro.serving.models import ModelNotFoundError, load_lam

    try:
        return load_lam(model, tracking_uri=tracking_uri)
    except ModelNotFoundError as err:
        raise click.BadParameter(str(err), param_hint="--model") from err


def _model_plan(generate: Callable[[list[dict[str, str]]], str], request: str) -> list[str]:
    """Phase 1: the LAM's own plan for a request (``plan_messages`` -> ``parse_plan_output``)."""
    from lam_kedro.agent.prompt import parse_plan_output, plan_messages

    raw = generate(plan_messages(request))
    return parse_plan_output(raw) if isinstance(raw, str) else []


def _choose_plan(resolved: _Resolved, plans: Sequence[str], plan_from: str, settings: EvaluationSettings,
                 generate: Callable[[list[dict[str, str]]], str] | None) -> tuple[list[str], str]:
    """``(plan, where it came from)``; ``auto`` does what evaluation does for a task with a plan
    and asks the model (Phase 1) for a task without one."""
    task = resolved.task
    if plans:
        return list(plans), "given with --plan"
    if plan_from == "none":
        return [], "none"
    if plan_from == "task" or (plan_from == "auto" and task.plan):
        if plan_from == "auto" and not settings.use_task_plan:
            return [], "none (evaluation.online.use_task_plan is false)"
        return list(task.plan), "the task's"
    if generate is None:
        return [], "none (the scripted expert needs no plan)"
    return _model_plan(generate, task.task), "the model's own, Phase 1"


def _confirm(request: ConfirmationRequest) -> bool:
    """Ask the person at the terminal; no answer (end of input) is a no."""
    click.secho(f"\nsensitive action at {request.describe()}", fg="yellow", bold=True)
    if request.thought:
        click.echo(f"the agent's reason: {request.thought}")
    try:
        return click.confirm("allow it?", default=False)
    except click.Abort:
        click.echo("\n(no answer: refused)")
        return False


# ---------------------------------------------------------------------------- output


def _verdict(traj: Trajectory, checked: bool) -> tuple[str, str]:
    """``(headline, colour)``: what the agent claimed and whether the checker agrees."""
    out = traj.outcome
    last = traj.steps[-1].status if traj.steps else None
    if out.truncated:
        how = f"the episode was stopped at the step limit ({out.steps} steps) before the agent said FINISH"
    elif last == "FAIL":
        why = traj.steps[-1].error or "it gave up"
        how = f"the agent gave up (FAIL: {why})"
    else:
        how = "the agent said FINISH"
    if not checked:
        return f"DONE: {how}; {NO_CHECKER}", "yellow"
    if out.success:
        return f"SUCCESS: {how} and the checker agrees: {out.reason}", "green"
    if last == "FINISH" and not out.truncated:
        return f"FAILURE: {how} but the checker disagrees: {out.reason}", "red"
    return f"FAILURE: {how}; the checker says: {out.reason}", "red"


def _write_outputs(out_dir: Path, env: Any, traj: Trajectory, checked: bool) -> dict[str, Path]:
    from lam_kedro.agent.ufo import export_execution_record

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"document": out_dir / "result.docx", "trajectory": out_dir / "trajectory.json",
             "ufo": out_dir / "ufo_execution.json"}
    from lam_kedro.env.docx_patch import DocxFlattenError

    try:
        env.save(paths["document"])
        refused = None
    except DocxFlattenError as err:  # the episode's edits would flatten the user's document: not saved
        refused = err
    paths["trajectory"].write_text(traj.model_dump_json(indent=2) + "\n", encoding="utf-8")
    record = export_execution_record(traj)
    if not checked:
        result = record["execution_result"]["result"]
        result["complete"] = "unsure"
        result["sub_scores"]["checker"] = "none"
    paths["ufo"].write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if refused is not None:
        raise click.ClickException(f"{refused} (the trajectory and UFO record are in {out_dir})")
    return paths


# ---------------------------------------------------------------------------- the command

#: Exit status of ``lam agent``, one meaning each.
EXIT_DONE, EXIT_TASK_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def _exit_codes(fn: Callable[..., None]) -> Callable[..., None]:
    """Map every way the command can end to its one exit status: a ``ClickException`` (bad usage
    or input, whatever class Click gives it) is 2, never 1, which means "the checker says the task
    failed"; an unexpected exception is 3 with its traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException as err:
            err.exit_code = EXIT_BAD_INPUT
            raise
        except click.Abort:
            click.echo("aborted", err=True)
            raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
        except Exception:  # noqa: BLE001 - a bug, not the user's input
            traceback.print_exc(file=sys.stderr)
            click.echo("internal error (a bug of lam agent; the traceback is above)", err=True)
            raise click.exceptions.Exit(EXIT_INTERNAL) from None

    return wrapper


def _output_dir(out_dir: Path | None, task_id: str) -> Path:
    """``--out``, else ``agent_runs/<task_id>`` resolved and confined to ``agent_runs/``."""
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise click.BadParameter(f"{out_dir} exists and is not a folder", param_hint="--out")
        return out_dir
    try:
        return confined("agent_runs", task_id)
    except UnsafePathError as err:
        raise click.BadParameter(f"task id {task_id!r}: {err}", param_hint="--task-id") from err


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+=~-]", "_", name)[:40] or "lam"


@click.command("agent")
@click.option("--model", default="models:/lam@champion", show_default=True,
              help="registry URI (models:/lam@champion, models:/lam/3) or a Hugging Face model folder")
@click.option("--task", "task_text", default=None, help="the request in words (free text, or the wording of --family)")
@click.option("--task-id", default=None, help="run this task of --task-file (its checker judges the result)")
@click.option("--task-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"JSONL of instantiated tasks, trajectories or task plans [default: {DEFAULT_TASK_FILE}]")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_TEMPLATES_DIR, show_default=True, help="folder of the task file's templates")
@click.option("--family", default=None, help="task family whose checker judges the result (`lam env families`)")
@click.option("--params", "params_json", default=None, help="the family's params as JSON (default: drawn from --doc)")
@click.option("--doc", default=None,
              help=f"starting document: a .docx path or a built-in template name [default: {DEFAULT_TEMPLATE}, "
                   "or the first built-in that suits --family]")
@click.option("--plan", "plans", multiple=True, help="a plan step for the first <Previous Plans:> (repeat)")
@click.option("--plan-from", type=click.Choice(["auto", "task", "model", "none"]), default="auto", show_default=True,
              help="auto: the task's plan as in evaluation, else the model's own plan (Phase 1)")
@click.option("--policy", type=click.Choice(["lam", "scripted"]), default="lam", show_default=True,
              help="scripted: the task family's expert instead of a model (for checking a task or a setup)")
@click.option("--constrained/--no-constrained", default=None,
              help="constrained action decoding (model.decoder) or plain generate "
                   "[default: evaluation.generate.constrained, true]")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=None,
              help="generation budget per answer [default: evaluation.generate.max_new_tokens, 256]")
@click.option("--tracking-uri", default=None, help="MLflow tracking URI [default: $MLFLOW_TRACKING_URI or conf/base]")
@click.option("--max-steps", type=click.IntRange(min=1), default=None,
              help="step limit [default: evaluation.online.max_steps, 30]")
@click.option("--step-timeout", type=click.FloatRange(min=0), default=None,
              help="seconds one decision may take, 0 for no limit [default: 60]")
@click.option("--unattended", is_flag=True, help="nobody to confirm: sensitive actions are refused")
@click.option("--allow", "allow", multiple=True, type=click.Choice(list(FUNCTIONS)),
              help="allow only these functions (repeat) [default: all nine]")
@click.option("--safety-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML/JSON of serving.safety.SafetyConfig (rules, mode, thresholds)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder [default: agent_runs/<task_id>]")
@click.option("--seed", default=0, show_default=True, type=int, help="env reset seed and --family sampling seed")
@click.option("-v", "--verbose", is_flag=True, help="print the controls and document the agent sees at each step")
@_exit_codes
def agent_command(
    model: str, task_text: str | None, task_id: str | None, task_file: Path | None, templates_dir: Path,
    family: str | None, params_json: str | None, doc: str | None, plans: tuple[str, ...], plan_from: str,
    policy: str, constrained: bool | None, max_new_tokens: int | None, tracking_uri: str | None, max_steps: int | None,
    step_timeout: float | None, unattended: bool, allow: tuple[str, ...], safety_config: Path | None, out_dir: Path | None, seed: int,
    verbose: bool,
) -> None:
    """Run a LAM on one task in the simulated Word: every step is printed, the result saved.

    \b
    Examples:
      lam agent --task-id bold_text-1a2b3c4d5e6f              # a held-out task, judged by its checker
      lam agent --family bold_text --doc report.docx          # a family's task on your document
      lam agent --task "Make the title bold" --doc report.docx  # free text: no checker

    \b
    Exit status: 0 done, 1 the checker says the task failed, 2 bad usage or
    bad input (nothing is created), 3 an internal error.
    """
    try:
        settings = evaluation_settings()
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    try:
        config = SafetyConfig.from_file(safety_config) if safety_config else SafetyConfig(max_steps=settings.max_steps)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--safety-config") from err
    updates: dict[str, Any] = {}
    if max_steps is not None:
        updates["max_steps"] = max_steps
    if step_timeout is not None:
        updates["step_timeout_s"] = step_timeout or None
    if allow:
        updates["allowed_functions"] = list(allow)
    config = config.model_copy(update=updates)

    resolved = _resolve_task(task_text, task_id, task_file, templates_dir, family, params_json, doc, seed)
    out = _output_dir(out_dir, resolved.task.task_id)
    if policy == "scripted" and not resolved.checked:
        raise click.UsageError("--policy scripted plays a task family's solution: give --family or --task-id")

    generate = None
    if policy == "scripted":
        from lam_kedro.agent.policies import ScriptedPolicy

        inner: Any = ScriptedPolicy(name="expert")
        click.echo("policy: the scripted expert")
    else:
        from lam_kedro.model.policy import lam_policy

        updates = {"functions": tuple(config.allowed_functions)}
        if constrained is not None:
            updates["constrained"] = constrained
        if max_new_tokens:
            updates["max_new_tokens"] = max_new_tokens
        decode = decode_config({**settings.decode.model_dump(), **updates}, "lam agent")
        click.echo(f"loading {model} ...")
        bundle = _load_model(model, tracking_uri)
        inner = lam_policy(bundle, decode, name=str(bundle.info.get("generation") or "lam"))
        generate = inner.generate
        click.echo(f"policy: {inner.name} ({'constrained' if decode.constrained else 'plain'} decoding)")

    plan, plan_source = _choose_plan(resolved, plans, plan_from, settings, generate)
    task = resolved.task.model_copy(update={"plan": plan})
    if policy != "scripted":
        inner.plan_for = lambda _task: plan

    click.secho(f"task {task.task_id}: {task.task}", bold=True)
    split = f"   split: {resolved.split}" if resolved.split else ""
    click.echo(f"from: {resolved.source}{split}   document: {task.template}")
    checker = (f"{task.family} {json.dumps(task.params, ensure_ascii=False)}" if resolved.checked
               else "none (free text)")
    click.echo(f"checker: {checker}")
    click.echo(f"plan ({plan_source}):" + ("".join(f"\n  {s}" for s in plan) if plan else " -"))
    timeout = f"{config.step_timeout_s:g} s" if config.step_timeout_s else "none"
    restricted = "" if set(config.allowed_functions) == set(FUNCTIONS) else \
        f"   allowed: {', '.join(config.allowed_functions)}"
    sensitive = {"allow": "allowed (and recorded)", "refuse": "refused"}.get(config.mode) or (
        "refused (unattended)" if unattended else "need your confirmation")
    click.echo(f"safety: sensitive actions {sensitive}; max {config.max_steps} steps; "
               f"step timeout {timeout}{restricted}")

    safe = SafePolicy(inner, config, confirm=None if unattended else _confirm)
    env: Any = (WordEnv(max_steps=config.max_steps, templates=resolved.templates) if resolved.checked
                else UncheckedEnv(max_steps=config.max_steps, templates=resolved.templates))
    traj = run_episode(env, safe, task, max_steps=config.max_steps, seed=seed,
                       on_step=functools.partial(print_step, full=verbose),
                       trajectory_id=f"{task.task_id}-{_safe_name(safe.name)}-agent")
    if not resolved.checked:
        traj = traj.model_copy(update={"task": traj.task.model_copy(update={"family": None})})

    for e in safe.events:
        click.secho(f"safety: step {e.step} {e.kind} ({e.rule}): {e.detail}", fg="yellow")
    headline, colour = _verdict(traj, resolved.checked)
    click.secho(f"\n{headline}", fg=colour, bold=True)
    n, bad = traj.outcome.steps, traj.outcome.invalid_actions
    click.echo(f"({n} step{'s' * (n != 1)}, {bad} invalid, {traj.outcome.duration_s:.1f} s)")
    paths = _write_outputs(out, env, traj, resolved.checked)
    for what, path in paths.items():
        click.echo(f"saved {what}: {path}")
    if resolved.checked and not traj.outcome.success:
        raise click.exceptions.Exit(EXIT_TASK_FAILED)
