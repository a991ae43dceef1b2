"""The world ``lam agent`` acts in: the simulated Word, or real LibreOffice Writer (``--backend writer``).

Both are ``EpisodeEnv`` backends with the same observation and actions, so the policy, the safety
layer and ``run_episode`` do not change; what differs is how the task's document gets there.
The simulated Word takes the resolved templates as documents; Writer opens a .docx file, so a
task whose document was resolved by name (a built-in, the templates pipeline's folder) has it
written out first, and the task points at that file. Writer's office is stopped when the
command ends, whatever happens; an office that cannot start or dies at ``reset`` is reported as
such (a mid-episode crash is already the episode's environment error).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from lam_kedro.agent.schema import InstantiatedTask

__all__ = ["BACKENDS", "episode_env", "require_solution"]

#: ``--backend`` -> whose user interface the scripted expert's solutions are written for.
BACKENDS: dict[str, str] = {"word": "word", "writer": "writer"}


def require_solution(backend: str, family: str | None) -> None:
    """A usage error when the scripted expert has no solution for ``family`` in ``backend``'s interface."""
    if backend == "writer" and family is not None:
        from lam_kedro.env.worlds import runs_in
        from lam_kedro.env.writer.recipes import RECIPES

        if runs_in({"backend": backend}, family) is not None:
            raise click.UsageError(f"--policy scripted --backend writer: task family {family!r} has no Writer "
                                   f"recipe; families that run in Writer: {', '.join(sorted(RECIPES))}")


@contextmanager
def episode_env(backend: str, max_steps: int, task: InstantiatedTask,
                templates: Mapping[str, Any]) -> Iterator[tuple[Any, InstantiatedTask]]:
    """``(env, task)`` for one ``lam agent`` episode; Writer's office is closed on exit."""
    if backend == "word":
        from lam_kedro.env import WordEnv

        yield WordEnv(max_steps=max_steps, templates=dict(templates)), task
        return
    from lam_kedro.env.docx_io import save_docx
    from lam_kedro.env.writer import OfficeDied, WriterEnv, WriterUnavailable, writer_available

    reason = writer_available()
    if reason is not None:
        raise click.UsageError(f"--backend writer: {reason}")
    env = WriterEnv(max_steps=max_steps)
    try:
        start = task
        if task.template in templates and not Path(task.template).is_file():
            path = env.work_dir / "start.docx"
            save_docx(templates[task.template], path)
            start = task.model_copy(update={"template": str(path)})
        yield env, start
    except (OfficeDied, WriterUnavailable) as err:  # the office failed, not lam agent: a message, exit 2
        raise click.ClickException(f"LibreOffice Writer failed: {err}") from err
    finally:
        env.close()
