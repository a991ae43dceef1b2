"""Steps per second in real LibreOffice Writer next to the simulated Word, on the same tasks.

Run by hand (not a test: shared machines are noisy; the load average is recorded with the numbers):

    .venv/bin/python benchmarks/writer_speed.py     # writes benchmarks/results/writer_speed.json

Every family with a Writer recipe gets one task; each is played by its scripted solution in
Writer (``WriterEnv``, one office for the run) and in the simulated Word (``WordEnv``), through
``run_episode`` as data collection plays them. Reported: how long the office takes to start,
``reset`` (open the .docx, store and read it back as the checker's "before", read the window),
one step (an action and the next observation) and the final save and check, and steps per
second with resets counted in the time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import StepsPolicy
from lam_kedro.env import WordEnv, sample_task
from lam_kedro.env.tasks import get_family
from lam_kedro.env.types import Task
from lam_kedro.env.writer import Office, WriterEnv
from lam_kedro.env.writer.recipes import RECIPES, writer_solution

TEMPLATES = ("community_garden", "library_newsletter", "annual_report", "project_proposal", "style_guide")


def _tasks(names: list[str]) -> list[Task]:
    out = []
    for family in names:
        task = next((t for t in (sample_task(family, tpl, 0) for tpl in TEMPLATES) if t is not None), None)
        if task is None:
            raise SystemExit(f"no template in {TEMPLATES} suits {family}")
        out.append(task)
    return out


class _Timed:
    """Wraps an env to time its ``reset`` and each ``step`` (the step that ends the episode saves and checks)."""

    def __init__(self, env: Any) -> None:
        self.env, self.max_steps = env, env.max_steps
        self.resets: list[float] = []
        self.steps: list[float] = []
        self.final: list[float] = []

    def reset(self, task: Task, seed: int | None = None) -> Any:
        t0 = time.perf_counter()
        out = self.env.reset(task, seed=seed)
        self.resets.append(time.perf_counter() - t0)
        return out

    def step(self, action: Any) -> Any:
        t0 = time.perf_counter()
        out = self.env.step(action)
        (self.final if out[2] or out[3] else self.steps).append(time.perf_counter() - t0)
        return out


def _play(env: Any, tasks: list[Task], solution: Any) -> dict[str, Any]:
    timed = _Timed(env)
    start = time.perf_counter()
    solved = steps = 0
    for task in tasks:
        traj = run_episode(timed, StepsPolicy(solution(task)), task)
        solved += traj.outcome.success
        steps += traj.outcome.steps
    elapsed = time.perf_counter() - start
    ms = lambda xs: round(1000 * statistics.mean(xs), 2) if xs else None  # noqa: E731
    return {"episodes": len(tasks), "solved": solved, "steps": steps, "seconds": round(elapsed, 3),
            "steps_per_s": round(steps / elapsed, 2), "reset_ms": ms(timed.resets), "step_ms": ms(timed.steps),
            "step_ms_median": round(1000 * statistics.median(timed.steps), 2) if timed.steps else None,
            "final_step_ms": ms(timed.final)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="*", default=sorted(RECIPES), help="families to play (default: all)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results/writer_speed.json")
    args = parser.parse_args(argv)
    tasks = _tasks(args.families)
    load_before = os.getloadavg()[0]
    office = Office(virtual_display=True)
    with office:
        started = office.started_s
        with WriterEnv(office=office, max_steps=20) as env:
            writer = _play(env, tasks, lambda t: writer_solution(t.family, t.params))
    word = _play(WordEnv(max_steps=20), tasks, lambda t: get_family(t.family).solution(t.params))
    result = {
        "machine": {"python": platform.python_version(), "processor": platform.machine(), "cores": os.cpu_count(),
                    "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)]},
        "families": len(tasks),
        "office_start_s": round(started, 2),
        "writer": writer,
        "simulated_word": word,
        "writer_slower_by": round(word["steps_per_s"] / writer["steps_per_s"], 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
