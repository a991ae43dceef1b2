"""The LAMs built in LibreOffice Writer next to those built in the simulated Word.

After the default run (``make run``: ``data/08_reporting``) and ``kedro run --env writer``
(``data/writer/08_reporting``), this reads both runs' reports and writes one comparison:

    .venv/bin/python benchmarks/worlds_report.py    # benchmarks/results/worlds.md, worlds.png

Per world: the expert's data collection, Phase 3's exploration, the reward model on LAM3's
held-out rollouts, and the evaluation of every generation (offline on the expert's held-out
trajectories, online on held-out tasks, with the expert and random baselines); then the online
task success per family for the families both worlds ran. The numbers are the reports' own: a
report that is missing is named, not filled in.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

ACTORS = ("lam1", "lam2", "lam3", "lam4", "expert", "random")
ROWS = (  # (section, metric, label) of evaluation_table.csv
    ("online", "task_success_rate", "Online task success (%)"),
    ("online", "invalid_action_rate", "Online invalid actions (%)"),
    ("online", "avg_steps", "Online avg steps per task"),
    ("online", "step_latency_mean", "Online step latency mean (s)"),
    ("offline", "step_success_rate", "Offline step success (%)"),
    ("offline", "task_success_rate", "Offline task success (%)"),
    ("planning", "step_recall", "LAM1 plan step recall (%)"),
)


def _json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run that world's pipeline first (docs/writer.md)")
    return json.loads(path.read_text())


def _table(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    path = folder / "evaluation_table.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run that world's evaluation first")
    with path.open(newline="") as fh:
        return {(r["section"], r["metric"]): r for r in csv.DictReader(fh)}


def _families(folder: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """``(family, actor) -> (successes, tasks)`` of the online evaluation."""
    path = folder / "evaluation_families.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run that world's evaluation first")
    with path.open(newline="") as fh:
        return {(r["family"], r["actor"]): (int(r["successes"]), int(r["tasks"])) for r in csv.DictReader(fh)}


def world_summary(folder: Path) -> dict[str, Any]:
    """One world's numbers from its reporting folder."""
    traj = _json(folder / "trajectories_stats.json")
    p3 = _json(folder / "phase3.json")
    rm = _json(folder / "reward_model.json")
    table = _table(folder)
    return {
        "folder": str(folder),
        "expert": {"tasks": traj["tasks"], "successes": traj["successes"], "success_steps": traj["success_steps"],
                   "families": len(traj.get("families", {}))},
        "phase3": {"explored": p3["exploration_tasks"], "solved": p3["exploration_solved"]},
        "reward_model": {"heldout_auc": rm.get("lam3_heldout_auc", rm.get("heldout_auc")),
                         "heldout_accuracy": rm.get("lam3_heldout_accuracy", rm.get("heldout_accuracy"))},
        "evaluation": {f"{s}.{m}": {a: table.get((s, m), {}).get(a, "") for a in ACTORS} for s, m, _ in ROWS},
        "families": {f"{f}|{a}": v for (f, a), v in _families(folder).items()},
    }


def _number(cell: str) -> float:
    """A table cell as a number; an empty or ``skipped`` cell (a generation without a model) is 0."""
    try:
        return float(cell)
    except (TypeError, ValueError):
        return 0.0


def _pct(n: int, d: int) -> str:
    return f"{n} / {d} ({100 * n / d:.1f} %)" if d else "-"


def markdown(word: dict[str, Any], writer: dict[str, Any]) -> str:
    lines = ["# The LAMs built in Writer next to those built in the simulated Word", "",
             f"Simulated Word: `{word['folder']}`; LibreOffice Writer: `{writer['folder']}` "
             "(`benchmarks/worlds_report.py`).", "",
             "| | simulated Word | LibreOffice Writer |", "|---|---|---|"]
    e = (word["expert"], writer["expert"])
    lines.append(f"| expert trajectories solved | {_pct(e[0]['successes'], e[0]['tasks'])} "
                 f"| {_pct(e[1]['successes'], e[1]['tasks'])} |")
    lines.append(f"| expert steps Phase 2 can train on | {e[0]['success_steps']:,} | {e[1]['success_steps']:,} |")
    lines.append(f"| task families | {e[0]['families']} | {e[1]['families']} |")
    p = (word["phase3"], writer["phase3"])
    lines.append(f"| Phase 3: expert-failed tasks LAM2 solved | {_pct(p[0]['solved'], p[0]['explored'])} "
                 f"| {_pct(p[1]['solved'], p[1]['explored'])} |")
    r = (word["reward_model"], writer["reward_model"])
    lines.append("| reward model on LAM3's held-out rollouts: AUC | "
                 + " | ".join(f"{x['heldout_auc']:.3f}" if x["heldout_auc"] is not None else "-" for x in r) + " |")
    lines += ["", "| metric | world | " + " | ".join(ACTORS) + " |", "|---|---|" + "---|" * len(ACTORS)]
    for s, m, label in ROWS:
        for world, data in (("Word", word), ("Writer", writer)):
            cells = [data["evaluation"][f"{s}.{m}"][a] or "" for a in ACTORS]
            lines.append(f"| {label} | {world} | " + " | ".join(cells) + " |")
    shared = sorted({k.split("|")[0] for k in writer["families"]} & {k.split("|")[0] for k in word["families"]})
    lines += ["", "Online task success per family (successes / tasks), the families both worlds evaluated:", "",
              "| family | " + " | ".join(f"{a} Word | {a} Writer" for a in ("lam4", "expert")) + " |",
              "|---|" + "---|" * 4]
    for fam in shared:
        cells = []
        for a in ("lam4", "expert"):
            for data in (word, writer):
                got = data["families"].get(f"{fam}|{a}")
                cells.append(f"{got[0]}/{got[1]}" if got else "-")
        lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(word: dict[str, Any], writer: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.38
    for i, (name, data) in enumerate((("simulated Word", word), ("LibreOffice Writer", writer))):
        vals = [_number(data["evaluation"]["online.task_success_rate"][a]) for a in ACTORS]
        xs = [j + (i - 0.5) * width for j in range(len(ACTORS))]
        bars = ax.bar(xs, vals, width, label=name)
        ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.set_xticks(range(len(ACTORS)), ACTORS)
    ax.set_ylabel("online task success (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Each generation on held-out tasks, in each world")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--word", type=Path, default=Path("data/08_reporting"))
    parser.add_argument("--writer", type=Path, default=Path("data/writer/08_reporting"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/worlds"))
    parser.add_argument("--word-label", default=None, help="how the report names the Word run (default: its folder)")
    parser.add_argument("--writer-label", default=None, help="how the report names the Writer run (default: its folder)")
    args = parser.parse_args(argv)
    word, writer = world_summary(args.word), world_summary(args.writer)
    word["folder"] = args.word_label or word["folder"]
    writer["folder"] = args.writer_label or writer["folder"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"word": word, "writer": writer}, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(word, writer))
    plot(word, writer, args.out.with_suffix(".png"))
    print(f"wrote {args.out.with_suffix('.md')}, .json and .png")


if __name__ == "__main__":
    main()
