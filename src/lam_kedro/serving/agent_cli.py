"""``lam agent``: run a LAM on one task in the simulated Word (or LibreOffice Writer: ``--backend
writer``, ``serving.agent_env``), step by step, behind the safety layer.

The model is run exactly as the online evaluation runs it: ``model.policy.lam_policy`` (the
function ``evaluation.online.build_policy``, Phase 3's exploration and ``lam serve`` build the LAM
with) from the same decode config (``evaluation.generate`` of the project's conf, read with
Kedro's config loader in the environment ``--env`` selects, ``serving.project_conf``;
``--constrained``, ``--max-new-tokens`` and ``--allow`` override single keys), the task's plan as the first ``<Previous Plans:>``
(``evaluation.online.use_task_plan``) and the same step limit (``evaluation.online.max_steps``),
in the same ``run_episode`` loop, so a model that solved a task in evaluation solves it here.
``SafePolicy`` (``serving.safety``) sits between the policy and the environment.

Where the task comes from, in order of precedence:

- ``--task-id ID`` [``--task-file FILE``]: a task of the project's data (default file: the
  catalog's ``instantiated_tasks``; a trajectories file or an executable task-plan file works
  too), on its own template (from ``--templates``, default the catalog's ``templates`` folder,
  else a built-in); the task's checker judges the result;
- ``--family F`` [``--params JSON``] [``--doc D``]: a task of family F on document D, its
  params sampled from D with ``--seed`` unless given; the family's checker judges it;
- ``--task "free text"`` [``--doc D``]: any request; it runs by the same episode rules
  (``env.episode.EpisodeEnv``) as a task without a family, so no checker judges it: the command
  says so and you judge the saved document yourself.

The command writes ``<out>/result.docx``, ``<out>/trajectory.json`` (a ``Trajectory``) and
``<out>/ufo_execution.json`` (UFO's execution record); the default ``<out>`` is
``agent_runs/<task_id>``, resolved and confined to ``agent_runs/``. Exit status, one meaning
each: 0 done (the checker agrees, or there is no checker), 1 the checker says the task failed,
2 bad usage or bad input (the message says which option or file, and nothing is created),
3 an internal error (a bug: the traceback is printed).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.schema import Trajectory
from lam_kedro.env.action_table import FUNCTIONS
from lam_kedro.env.episode import NO_CHECKER
from lam_kedro.env.safe_paths import UnsafePathError, confined
from lam_kedro.env.worlds import runs_in, world_plan
from lam_kedro.model.policy import decode_config
from lam_kedro.serving.agent_env import BACKENDS, episode_env, require_solution
from lam_kedro.serving.agent_tasks import DEFAULT_TEMPLATE, Resolved, resolve_task
from lam_kedro.serving.cli import print_step
from lam_kedro.serving.project_conf import AgentSettings, agent_settings
from lam_kedro.serving.safety import ConfirmationRequest, SafePolicy, SafetyConfig

__all__ = ["DEFAULT_TEMPLATE", "agent_command"]


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


def _choose_plan(resolved: Resolved, plans: Sequence[str], plan_from: str, settings: AgentSettings,
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
              help="JSONL of instantiated tasks, trajectories or task plans [default: the catalog's "
                   "instantiated_tasks]")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder of the task file's templates [default: the catalog's templates]")
@click.option("--env", "conf_env", default=None,
              help="the conf environment whose settings and catalog are read, as `kedro run --env` "
                   "[default: $KEDRO_ENV, else local]")
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
              help="step limit [default: evaluation.online.max_steps, 15]")
@click.option("--step-timeout", type=click.FloatRange(min=0), default=None,
              help="seconds one decision may take, 0 for no limit [default: 60]")
@click.option("--unattended", is_flag=True, help="nobody to confirm: sensitive actions are refused")
@click.option("--allow", "allow", multiple=True, type=click.Choice(list(FUNCTIONS)),
              help="allow only these functions (repeat) [default: all nine]")
@click.option("--safety-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML/JSON of serving.safety.SafetyConfig (rules, mode, thresholds)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder [default: agent_runs/<task_id>]")
@click.option("--backend", type=click.Choice(list(BACKENDS)), default="word", show_default=True,
              help="the world to act in: the simulated Word, or LibreOffice Writer (docs/writer.md)")
@click.option("--seed", default=0, show_default=True, type=int, help="env reset seed and --family sampling seed")
@click.option("-v", "--verbose", is_flag=True, help="print the controls and document the agent sees at each step")
@_exit_codes
def agent_command(
    model: str, task_text: str | None, task_id: str | None, task_file: Path | None, templates_dir: Path | None,
    conf_env: str | None,
    family: str | None, params_json: str | None, doc: str | None, plans: tuple[str, ...], plan_from: str,
    policy: str, constrained: bool | None, max_new_tokens: int | None, tracking_uri: str | None, max_steps: int | None,
    step_timeout: float | None, unattended: bool, allow: tuple[str, ...], safety_config: Path | None, out_dir: Path | None,
    backend: str, seed: int, verbose: bool,
) -> None:
    """Run a LAM on one task in the simulated Word or LibreOffice Writer: every step is printed, the result saved.

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
        settings = agent_settings(env=conf_env)
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

    resolved = resolve_task(task_text, task_id, task_file, templates_dir or settings.templates_dir, family,
                            params_json, doc, seed, data=settings)
    out = _output_dir(out_dir, resolved.task.task_id)
    if policy == "scripted" and not resolved.checked:
        raise click.UsageError("--policy scripted plays a task family's solution: give --family or --task-id")
    if policy == "scripted":
        require_solution(backend, resolved.task.family)

    generate = None
    if policy == "scripted":
        from lam_kedro.agent.policies import ScriptedPolicy

        inner: Any = ScriptedPolicy(name="expert", app=BACKENDS[backend])
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

    world = {"backend": BACKENDS[backend]}
    if resolved.task.family and runs_in(world, resolved.task.family) is None:  # in Writer: its recipe's plan
        plan_in_world = world_plan(world, resolved.task.family, resolved.task.params, resolved.task.plan)
        resolved = dataclasses.replace(resolved, task=resolved.task.model_copy(update={"plan": plan_in_world}))
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
    # a task without family: no checker
    with episode_env(backend, config.max_steps, task, resolved.templates) as (env, task):
        traj = run_episode(env, safe, task, max_steps=config.max_steps, seed=seed,
                           on_step=functools.partial(print_step, full=verbose),
                           trajectory_id=f"{task.task_id}-{_safe_name(safe.name)}-agent")
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
