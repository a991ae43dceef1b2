"""Paper-shaped tables, DVC metrics and plots, and MLflow metric dicts from the evaluation results.

Results arrive as ``{actor: {"status": "evaluated" | "skipped", "reason", "kind", "metrics", ...}}``
per section (offline, planning, online). A skipped generation stays in every table as a column
of "skipped" cells with its reason in a note, so a missing model is visible, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "PAPER",
    "champion",
    "champion_lines",
    "comparison_table",
    "dvc_metrics",
    "family_frame",
    "family_plot",
    "generation_metrics",
    "markdown_report",
    "mlflow_metrics",
    "phase_frame",
    "phase_plot",
]

#: Figures arXiv 2412.10047 reports (percent, steps, seconds), quoted only where we are sure of them.
PAPER: dict[tuple[str, str], str] = {
    ("offline", "object_acc"): "LAM4 87.8",
    ("offline", "operation_acc"): "LAM4 97.7",
    ("offline", "status_acc"): "LAM4 99.0",
    ("offline", "step_success_rate"): "LAM4 86.2",
    ("offline", "task_success_rate"): "LAM4 81.2; GPT-4o 67.2",
    ("online", "task_success_rate"): "LAM 71.0; GPT-4o (text) 63.0",
    ("online", "avg_steps"): "LAM 5.62",
    ("online", "completion_time_s"): "LAM 30.42",
    ("online", "step_latency_mean"): "LAM 5.41; GPT-4o (text) 12.84",
}

#: (section, metric, label, kind): kind ``rate`` is shown in percent, as the paper does.
ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("offline", "object_acc", "Object Acc (%)", "rate"),
    ("offline", "operation_acc", "Operation Acc (%)", "rate"),
    ("offline", "status_acc", "Status Acc (%)", "rate"),
    ("offline", "step_success_rate", "Step Success Rate (%)", "rate"),
    ("offline", "task_success_rate", "Task Success Rate (%)", "rate"),
    ("offline", "parse_error_rate", "Unparseable outputs (%)", "rate"),
    ("planning", "task_success_rate", "Task Success Rate (%)", "rate"),
    ("planning", "step_precision", "Step Precision (%)", "rate"),
    ("planning", "step_recall", "Step Recall (%)", "rate"),
    ("online", "task_success_rate", "Task Success Rate (%)", "rate"),
    ("online", "avg_steps", "Avg steps per task", "num"),
    ("online", "avg_steps_success", "Avg steps per solved task", "num"),
    ("online", "completion_time_s", "Completion time per task (s)", "num"),
    ("online", "step_latency_mean", "Step latency mean (s)", "num"),
    ("online", "step_latency_p50", "Step latency p50 (s)", "num"),
    ("online", "step_latency_p95", "Step latency p95 (s)", "num"),
    ("online", "invalid_action_rate", "Invalid actions (%)", "rate"),
)

SECTIONS = {"offline": "Offline, teacher-forced", "planning": "Planning (task -> plan)",
            "online": "Online, in the environment"}


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return ""
    if kind == "rate":
        return f"{100 * value:.1f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.4f}"


def comparison_table(results: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> pd.DataFrame:
    """One row per (section, metric), one column per actor, and the paper's figure in ``paper``.

    Cells are formatted as the paper prints them (percent with one decimal); an actor skipped in
    a section reads ``skipped``; a metric a section does not measure for an actor is empty.
    """
    actors: list[str] = []
    for section in results.values():
        actors += [a for a in section if a not in actors]
    rows = []
    for section, metric, label, kind in ROWS:
        sec = results.get(section, {})
        if not sec:
            continue
        row: dict[str, Any] = {"section": section, "metric": metric, "label": label}
        for actor in actors:
            r = sec.get(actor)
            if r is None:
                row[actor] = ""
            elif r.get("status") != "evaluated":
                row[actor] = "skipped"
            else:
                row[actor] = _fmt(r.get("metrics", {}).get(metric), kind)
        row["paper"] = PAPER.get((section, metric), "")
        rows.append(row)
    return pd.DataFrame(rows, columns=["section", "metric", "label", *actors, "paper"])


def _markdown(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def markdown_report(table: pd.DataFrame, results: Mapping[str, Mapping[str, Mapping[str, Any]]],
                    families: pd.DataFrame, best: Mapping[str, Any]) -> str:
    """The tables of ``comparison_table`` per section, the skipped actors with reasons, per-family
    success and the champion, as one markdown page (``data/08_reporting/evaluation.md``)."""
    out = ["# Evaluation", "",
           "The evaluation of arXiv 2412.10047 (Large Action Models), shaped like its Tables 2-4. Rates are "
           "percent; the `paper` column quotes the paper's figures (measured in real Word through UFO, not in "
           "this environment), for orientation.", ""]
    skipped = [(sec, a, r.get("reason", "")) for sec, res in results.items() for a, r in res.items()
               if r.get("status") != "evaluated"]
    if skipped:
        out += ["Skipped:", ""] + [f"- {sec} / {a}: {reason}" for sec, a, reason in skipped] + [""]
    for section, title in SECTIONS.items():
        part = table[table["section"] == section]
        if part.empty:
            continue
        counts = {a: r.get("metrics", {}) for a, r in results.get(section, {}).items() if r.get("status") == "evaluated"}
        size = next(iter(counts.values()), {})
        what = ", ".join(f"{int(v)} {k}" for k, v in size.items() if k in ("tasks", "steps"))
        keep = [c for c in part.columns if c not in ("section", "metric") and (part[c] != "").any()]
        out += [f"## {title}" + (f" ({what})" if what else ""), ""]
        if section == "online":
            out += _coverage_lines(results.get("online", {}))
        out += [_markdown(part[keep]), ""]
    out += _family_tables(families, results.get("online", {}))
    out += champion_lines(best, results.get("online", {}))
    return "\n".join(out)


def _coverage_lines(online: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One sentence on which held-out tasks the online section ran (``online.task_coverage``)."""
    cov = next((r["coverage"] for r in online.values() if r.get("status") == "evaluated" and r.get("coverage")), None)
    if not cov:
        return []
    how = {"all": "all of them", "stratified": "stratified: every family first, then a seeded fill",
           "first": "the first ones in the manifest"}.get(cov["selection"], cov["selection"])
    line = (f"Tasks: {cov['tasks']} of {cov['held_out_tasks']} held-out tasks ({how}), covering "
            f"{cov['families']} of the {cov['held_out_families']} families with held-out tasks")
    missing = cov.get("missing_families") or []
    return [line + (f"; left out: {', '.join(missing)}." if missing else "."), ""]


def _family_tables(families: pd.DataFrame, online: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Per family: tasks, then every actor's success (a skipped generation reads ``skipped``), and
    the invalid-action rate of each evaluated LAM generation."""
    if families.empty:
        return []
    out: list[str] = []
    tasks = families.groupby("family")["tasks"].max()
    wide = families.pivot_table(index="family", columns="actor", values="success_rate").mul(100).round(1)
    frame = pd.DataFrame({"family": tasks.index, "tasks": tasks.to_numpy()})
    for actor, r in online.items():
        if r.get("status") != "evaluated":
            frame[actor] = "skipped"
        elif actor in wide.columns:
            frame[actor] = [wide.at[f, actor] if pd.notna(wide.at[f, actor]) else "" for f in frame["family"]]
    out += ["## Online success per task family (%)", "", _markdown(frame), ""]
    lams = [a for a, r in online.items() if r.get("status") == "evaluated" and r.get("kind") == "lam"]
    if lams and "invalid_action_rate" in families.columns:
        bad = families[families["actor"].isin(lams)].pivot_table(
            index="family", columns="actor", values="invalid_action_rate").mul(100).round(1)
        bad = bad[[a for a in lams if a in bad.columns]]
        out += ["## Invalid actions per task family (%, LAM generations)", "",
                _markdown(bad.fillna("").reset_index()), ""]
    return out


def champion_lines(best: Mapping[str, Any], online: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The champion, or why the alias did not move, and each generation's online solves."""
    solved = [f"{g} {_solved(r)}" for g, r in online.items()
              if r.get("kind") == "lam" and r.get("status") == "evaluated"]
    out = ["## Champion", ""]
    if best.get("generation"):
        out += [f"Champion: **{best['generation']}** (online task success rate "
                f"{100 * float(best['value']):.1f} %); the registry alias `champion` points to it.", ""]
    else:
        out += [f"Champion: none ({best.get('reason', 'no generation was evaluated online')}); the registry alias "
                "`champion` is not moved and stays where it was.", ""]
    if solved:
        out += [f"Held-out tasks solved online: {'; '.join(solved)}. Only a generation that solves at least one "
                "can become champion.", ""]
    return out


def _solved(result: Mapping[str, Any]) -> str:
    m = result.get("metrics", {})
    n = int(m.get("tasks", 0))
    return f"{round(float(m.get('task_success_rate', 0.0)) * n)} of {n}"


def dvc_metrics(results: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """``{section: {actor: {metric: value}}}`` of evaluated actors only: numbers for ``dvc metrics show``."""
    return {section: {a: {k: float(v) for k, v in r.get("metrics", {}).items()}
                      for a, r in res.items() if r.get("status") == "evaluated"}
            for section, res in results.items()}


def phase_frame(results: Mapping[str, Mapping[str, Mapping[str, Any]]], generations: Sequence[str]) -> pd.DataFrame:
    """One row per evaluated generation, ``<section>_<metric>`` columns (rates as fractions): the DVC plot."""
    rows = []
    for g in generations:
        row: dict[str, Any] = {"generation": g}
        for section, res in results.items():
            r = res.get(g)
            if r and r.get("status") == "evaluated":
                row.update({f"{section}_{k}": v for k, v in r.get("metrics", {}).items()
                            if k not in ("tasks", "steps")})
        if len(row) > 1:
            rows.append(row)
    return pd.DataFrame(rows, columns=["generation"] if not rows else None)


def family_frame(results: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per-family online success of every evaluated actor (long form: family, actor, tasks, ...)."""
    rows = [row for r in results.values() if r.get("status") == "evaluated" for row in r.get("families", [])]
    return pd.DataFrame(rows, columns=["family", "actor", "tasks", "successes", "success_rate", "steps",
                                      "invalid_action_rate"])


PLOT_METRICS = (("offline", "object_acc"), ("offline", "operation_acc"), ("offline", "status_acc"),
                ("offline", "step_success_rate"), ("offline", "task_success_rate"),
                ("planning", "step_recall"), ("online", "task_success_rate"))


def phase_plot(results: Mapping[str, Mapping[str, Mapping[str, Any]]], actors: Sequence[str]) -> Any:
    """Grouped bars: each metric of ``PLOT_METRICS`` per actor (generations, then baselines online)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.5))
    ax = fig.subplots()
    labels = [f"{s}\n{m.replace('_', ' ')}" for s, m in PLOT_METRICS]
    width = 0.8 / max(1, len(actors))
    for i, actor in enumerate(actors):
        values = []
        for s, m in PLOT_METRICS:
            r = results.get(s, {}).get(actor)
            values.append(float(r["metrics"].get(m, 0.0)) if r and r.get("status") == "evaluated" else 0.0)
        ax.bar([x + i * width for x in range(len(labels))], values, width, label=actor)
    ax.set_xticks([x + width * (len(actors) - 1) / 2 for x in range(len(labels))], labels, fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction")
    ax.set_title("Evaluation metrics per LAM generation and baseline")
    if actors:
        ax.legend(fontsize=7, ncols=min(len(actors), 4))
    else:
        ax.text(0.5, 0.5, "no actor was evaluated", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def family_plot(families: pd.DataFrame) -> Any:
    """Heat map of online success per task family (rows) and actor (columns)."""
    from matplotlib.figure import Figure

    wide = families.pivot_table(index="family", columns="actor", values="success_rate") if len(families) else None
    fig = Figure(figsize=(2 + 0.9 * (0 if wide is None else len(wide.columns)),
                          2 + 0.22 * (0 if wide is None else len(wide))))
    ax = fig.subplots()
    if wide is None or wide.empty:
        ax.text(0.5, 0.5, "no online results", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    image = ax.imshow(wide.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(wide.columns)), list(wide.columns), rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(wide)), list(wide.index), fontsize=6)
    ax.set_title("Online success per task family")
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    return fig


def mlflow_metrics(results: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, dict[str, float]]:
    """``{"<actor>.<section>.<metric>": {"value", "step"}}`` for kedro-mlflow's history dataset (prefix
    ``evaluation``): one `kedro run` is one MLflow run, so the actor is part of the name."""
    return {f"{a}.{section}.{k}": {"value": float(v), "step": 0}
            for section, res in results.items() for a, r in res.items() if r.get("status") == "evaluated"
            for k, v in r.get("metrics", {}).items()}


def generation_metrics(results: Mapping[str, Mapping[str, Mapping[str, Any]]], generations: Sequence[str]
                       ) -> dict[str, dict[str, float]]:
    """``{generation: {"<section>.<metric>": value}}``: the same names in every generation's own run."""
    out: dict[str, dict[str, float]] = {}
    for g in generations:
        for section, res in results.items():
            r = res.get(g)
            if r and r.get("status") == "evaluated":
                out.setdefault(g, {}).update({f"{section}.{k}": float(v) for k, v in r.get("metrics", {}).items()})
    return out


def champion(online: Mapping[str, Mapping[str, Any]], offline: Mapping[str, Mapping[str, Any]],
             generations: Sequence[str], metric: str = "task_success_rate") -> dict[str, Any]:
    """The generation with the best online ``metric`` among those that solved at least one held-out
    task (online task success rate > 0); ties go to the better offline step success rate, then to
    the later generation (it had more training). ``generation`` is ``None``, with the ``reason``,
    when no generation ran or none solved anything: the alias then stays where it is."""
    scored, unsolved = [], []
    for order, g in enumerate(generations):
        r = online.get(g)
        if r and r.get("status") == "evaluated":
            if float(r["metrics"].get("task_success_rate", 0.0)) <= 0:
                unsolved.append(f"{g} {_solved(r)}")
                continue
            off = offline.get(g) or {}
            ssr = float(off.get("metrics", {}).get("step_success_rate", 0.0)) if off.get("status") == "evaluated" else 0.0
            scored.append((float(r["metrics"][metric]), ssr, order, g))
    if not scored:
        reason = (f"no generation solved a held-out task online ({', '.join(unsolved)} solved)" if unsolved
                  else "no LAM generation was evaluated online")
        return {"generation": None, "metric": f"online.{metric}", "value": None, "reason": reason}
    value, _, _, best = max(scored)
    return {"generation": best, "metric": f"online.{metric}", "value": value}
