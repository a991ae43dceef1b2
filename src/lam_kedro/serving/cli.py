"""`lam env ...`: look at the simulated Word world without training anything."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lam_kedro.env import WordEnv, builtin_templates, families, get_family, sample_task

if TYPE_CHECKING:
    from lam_kedro.agent.schema import Step


@click.group("env")
def env_group() -> None:
    """The simulated Word environment."""


@env_group.command("families")
def list_families() -> None:
    """List the task families with their category and an example request."""
    for name, family in sorted(families().items()):
        click.echo(f"{name:32s} {family.category:12s} {family.description}")


@env_group.command("templates")
def list_templates() -> None:
    """List the built-in templates with their descriptions."""
    for t in builtin_templates():
        click.echo(f"{t.name:24s} {t.description}")


def print_step(step: Step, next_obs: object = None, info: object = None, *, full: bool = True) -> None:
    """Print one step as ``run_episode``'s ``on_step``; shared by ``lam env demo`` and ``lam agent``.

    ``full`` shows what the agent saw (controls, document, the previous action's error); without
    it, a compact line per step plus the step's own error (a refusal, an invalid action).
    """
    obs = step.observation
    click.secho(f"\n--- step {step.index}  [{obs['title']}]", bold=True)
    if full:
        controls = "  ".join(f"{c['label']}:{c['control_text']}({c['control_type']})" for c in obs["controls"])
        click.echo(f"controls: {controls}")
        text = obs["document"]
        click.echo(f"document: {text[:300]!r}{' ...' if len(text) > 300 else ''}")
    if obs.get("selection"):
        click.echo(f"selection: {obs['selection'][:200]!r}")
    if full and obs.get("error"):
        click.secho(f"error: {obs['error']}", fg="red")
    if step.function:
        args = json.dumps(step.args, ensure_ascii=False)
        action = f"{step.function}({args}) on {step.control_label} '{step.control_name}'"
    else:
        action = "none"
    click.secho(f"action: {action}  status={step.status}", fg="cyan")
    if step.thought:
        click.echo(f"thought: {step.thought}")
    if not full:
        if step.result is not None:
            click.echo(f"result: {str(step.result)[:300]}")
        if step.error:
            click.secho(f"error: {step.error}", fg="red")


@env_group.command("demo")
@click.option("--family", default="bold_text", show_default=True, help="task family (see `lam env families`)")
@click.option("--template", default=None, help="built-in template name or a .docx path (default: first that suits)")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--policy", type=click.Choice(["scripted", "random"]), default="scripted", show_default=True)
@click.option("--max-steps", default=30, show_default=True, type=int)
@click.option("--document", is_flag=True, help="print the document text before and after")
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path), default=None, help="write the result .docx")
def demo(
    family: str, template: str | None, seed: int, policy: str, max_steps: int, document: bool, save: Path | None
) -> None:
    """Run one task and print every observation and action, so you can see the world."""
    from lam_kedro.agent.episode import run_episode  # the agent runtime loads only for this command
    from lam_kedro.agent.policies import RandomPolicy, ScriptedPolicy

    try:
        get_family(family)
    except KeyError as err:
        raise click.BadParameter(str(err), param_hint="--family") from err
    candidates = [template] if template else [t.name for t in builtin_templates()]
    task = next((t for name in candidates if (t := sample_task(family, name, seed=seed)) is not None), None)
    if task is None:
        raise click.BadParameter(f"family '{family}' does not apply to {candidates}", param_hint="--template")
    click.secho(f"task {task.task_id}: {task.request}", bold=True)
    click.echo(f"template: {task.template}   params: {json.dumps(task.params, ensure_ascii=False)}")
    env = WordEnv(max_steps=max_steps)
    agent = ScriptedPolicy() if policy == "scripted" else RandomPolicy(seed=seed)
    if document:
        env.reset(task, seed=seed)
        click.echo("\n" + env.document.summary_text())
    traj = run_episode(env, agent, task, seed=seed, on_step=print_step)
    if document:
        click.echo("\n" + env.document.summary_text())
    verdict = "SUCCESS" if traj.outcome.success else "FAILURE"
    click.secho(
        f"\n{verdict}: {traj.outcome.reason}  ({traj.outcome.steps} steps, "
        f"{traj.outcome.invalid_actions} invalid)",
        fg="green" if traj.outcome.success else "red",
        bold=True,
    )
    if save:
        env.save(save)
        click.echo(f"saved {save}")
    if policy == "scripted" and not traj.outcome.success:
        sys.exit(1)
