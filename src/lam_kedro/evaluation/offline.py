"""Offline (teacher-forced) step metrics, as the paper defines them (Sec. 5, Table 2).

For every step of a held-out expert trajectory the model sees the prompt the expert's own
history produces (``step_examples``) and its greedy output is compared with the expert's step:

- **Object accuracy**: the control chosen is an *acceptable* one (``acceptable_control``): the
  expert's label, or any control visible in that step whose ``(control_text, control_type)``
  equals the expert control's (labels are unique per screen, so this only widens the match to a
  twin control, e.g. the same command offered twice). A status-only expert step (no function)
  accepts only a status-only prediction.
- **Operation accuracy**: the same function with the same args once the function's defaults are
  filled in (``click_input()`` equals ``click_input(button="left", double=False)``); values must be
  equal exactly, since the text typed or the table number is the operation.
- **Status accuracy**: the same ``CONTINUE`` / ``FINISH``.
- **Step success rate**: all three right. **Task success rate**: every step of the task right.

Output that does not parse is a failed step on all three counts, with the parse error recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from time import perf_counter
from typing import Any

from tqdm.auto import tqdm

from lam_kedro.agent.prompt import parse_action_output, step_examples
from lam_kedro.agent.schema import Step, Trajectory
from lam_kedro.env.action_table import ACTIONS
from lam_kedro.env.actions import ActionError, validate_args

__all__ = [
    "OFFLINE_METRICS",
    "acceptable_control",
    "normalize_args",
    "offline_metrics",
    "predict_offline",
    "score_step",
]

#: Metric names, the same for every generation (MLflow compares them column by column).
OFFLINE_METRICS: tuple[str, ...] = (
    "object_acc",
    "operation_acc",
    "status_acc",
    "step_success_rate",
    "task_success_rate",
)

Generate = Callable[[list[dict[str, str]]], str]


def _control(observation: Mapping[str, Any], label: str) -> Mapping[str, Any] | None:
    for c in observation.get("controls", ()):
        if str(c.get("label")) == label:
            return c
    return None


def acceptable_control(expert: Step, function: str, label: str) -> bool:
    """Whether the predicted control is one the expert's step accepts (see the module docstring)."""
    if not expert.function:
        return not function
    if not function or not label:
        return False
    if label == expert.control_label:
        return True
    want, got = _control(expert.observation, expert.control_label), _control(expert.observation, label)
    if got is None:
        return False
    if want is None:  # the expert's label is not on screen (should not happen): compare by name
        return bool(expert.control_name) and got.get("control_text") == expert.control_name
    return (got.get("control_text"), got.get("control_type")) == (want.get("control_text"), want.get("control_type"))


def normalize_args(function: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The args with the function's defaults filled in; args the function rejects are kept as given,
    so a wrong arg still compares unequal instead of raising."""
    if function not in ACTIONS:
        return dict(args)
    try:
        return validate_args(function, dict(args))
    except ActionError:  # a missing or mistyped arg is simply a wrong operation
        return dict(args)


def score_step(expert: Step, raw_output: str) -> dict[str, Any]:
    """Compare one model output with the expert's step; never raises on bad output."""
    parsed = parse_action_output(raw_output, expert.observation.get("controls", ()))
    if not parsed.ok:
        return {"object_ok": False, "operation_ok": False, "status_ok": False, "step_ok": False,
                "parse_error": parsed.error, "predicted": None}
    obj = acceptable_control(expert, parsed.function, parsed.control_label)
    if expert.function:
        op = parsed.function == expert.function and (
            normalize_args(parsed.function, parsed.args) == normalize_args(expert.function, expert.args))
    else:
        op = not parsed.function
    status = parsed.status == expert.status
    return {"object_ok": obj, "operation_ok": op, "status_ok": status, "step_ok": obj and op and status,
            "parse_error": None, "predicted": parsed.to_dict()}


def predict_offline(
    trajectories: Sequence[Trajectory], generate: Generate, generation: str, progress: bool = True
) -> list[dict[str, Any]]:
    """One scored row per step of every trajectory: the model's output against the expert's step.

    The row keeps the raw output, the parse error and the expected action, so failures can be
    read back (the notebook does) without running the model again.
    """
    rows: list[dict[str, Any]] = []
    total = sum(len(t.steps) for t in trajectories)
    with tqdm(total=total, desc=f"offline {generation}", unit="step", disable=not progress) as bar:
        for traj in trajectories:
            for step, example in zip(traj.steps, step_examples(traj), strict=True):
                t0 = perf_counter()
                raw = generate(example["messages"])
                latency = perf_counter() - t0
                score = score_step(step, raw)
                rows.append({
                    "generation": generation,
                    "trajectory_id": traj.trajectory_id,
                    "task_id": traj.task.task_id,
                    "family": traj.task.family or "",
                    "step": step.index,
                    "expected": example["target"],
                    "raw_output": raw,
                    "latency_s": round(latency, 6),
                    **score,
                })
                bar.update(1)
    return rows


def _rate(hits: int, n: int) -> float:
    return round(hits / n, 6) if n else 0.0


def offline_metrics(rows: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """The five paper metrics (fractions in [0, 1]) plus counts, from ``predict_offline`` rows.

    Task success needs every step of the task right, so one wrong last step fails the task
    while barely moving the step success rate.
    """
    rows = list(rows)
    n = len(rows)
    tasks: dict[str, bool] = {}
    for r in rows:
        tasks[r["trajectory_id"]] = tasks.get(r["trajectory_id"], True) and bool(r["step_ok"])
    return {
        "object_acc": _rate(sum(bool(r["object_ok"]) for r in rows), n),
        "operation_acc": _rate(sum(bool(r["operation_ok"]) for r in rows), n),
        "status_acc": _rate(sum(bool(r["status_ok"]) for r in rows), n),
        "step_success_rate": _rate(sum(bool(r["step_ok"]) for r in rows), n),
        "task_success_rate": _rate(sum(tasks.values()), len(tasks)),
        "parse_error_rate": _rate(sum(r["parse_error"] is not None for r in rows), n),
        "steps": float(n),
        "tasks": float(len(tasks)),
    }
