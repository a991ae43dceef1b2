"""Report: paper-shaped table with skipped generations, DVC metrics, MLflow names, champion choice."""

from __future__ import annotations

from lam_kedro.evaluation import report


def _ev(**metrics) -> dict:
    return {"status": "evaluated", "reason": None, "kind": "lam", "metrics": metrics}


SKIP = {"status": "skipped", "reason": "no trained model for lam1 (its phase has not run)", "kind": "lam", "metrics": {}}
RESULTS = {
    "offline": {"lam1": SKIP, "lam2": _ev(object_acc=0.5, operation_acc=0.75, status_acc=1.0, step_success_rate=0.5,
                                          task_success_rate=0.25, parse_error_rate=0.0, steps=8.0, tasks=4.0)},
    "planning": {"lam1": SKIP},
    "online": {"lam1": SKIP, "lam2": {**_ev(task_success_rate=0.5, avg_steps=3.0), "families": [
        {"family": "bold_text", "actor": "lam2", "tasks": 2, "successes": 1, "success_rate": 0.5}]},
        "expert": {**_ev(task_success_rate=0.75, avg_steps=4.0), "kind": "expert", "families": [
            {"family": "bold_text", "actor": "expert", "tasks": 2, "successes": 2, "success_rate": 1.0}]}},
}


def test_table_is_paper_shaped_with_skips_and_reference_column():
    t = report.comparison_table(RESULTS)
    assert list(t.columns) == ["section", "metric", "label", "lam1", "lam2", "expert", "paper"]
    row = t[(t.section == "offline") & (t.metric == "object_acc")].iloc[0]
    assert (row.lam1, row.lam2, row.expert, row.paper) == ("skipped", "50.0", "", "LAM4 87.8")
    tsr = t[(t.section == "online") & (t.metric == "task_success_rate")].iloc[0]
    assert (tsr.lam2, tsr.expert) == ("50.0", "75.0") and "71.0" in tsr.paper
    md = report.markdown_report(t, RESULTS, report.family_frame(RESULTS["online"]),
                                report.champion(RESULTS["online"], RESULTS["offline"], ["lam1", "lam2"]))
    assert "offline / lam1: no trained model" in md and "Champion: **lam2**" in md
    assert "| bold_text |" in md


def test_dvc_and_mlflow_metrics_cover_evaluated_actors_only():
    dvc = report.dvc_metrics(RESULTS)
    assert "lam1" not in dvc["offline"] and dvc["offline"]["lam2"]["object_acc"] == 0.5
    assert dvc["planning"] == {}
    ml = report.mlflow_metrics(RESULTS)
    assert ml["lam2.offline.object_acc"] == {"value": 0.5, "step": 0} and "expert.online.task_success_rate" in ml
    gen = report.generation_metrics(RESULTS, ["lam1", "lam2"])
    assert set(gen) == {"lam2"} and gen["lam2"]["online.task_success_rate"] == 0.5
    assert "offline.step_success_rate" in gen["lam2"]
    phases = report.phase_frame(RESULTS, ["lam1", "lam2"])
    assert list(phases.generation) == ["lam2"] and phases.online_task_success_rate[0] == 0.5


def test_champion_ties_break_on_offline_ssr_then_later_generation():
    online = {"lam2": _ev(task_success_rate=0.5), "lam3": _ev(task_success_rate=0.5), "lam4": _ev(task_success_rate=0.4)}
    offline = {"lam2": _ev(step_success_rate=0.9), "lam3": _ev(step_success_rate=0.8)}
    assert report.champion(online, offline, ["lam1", "lam2", "lam3", "lam4"])["generation"] == "lam2"
    assert report.champion(online, {}, ["lam2", "lam3", "lam4"])["generation"] == "lam3"
    none = report.champion({"lam1": SKIP}, {}, ["lam1"])
    assert none["generation"] is None and none["reason"]


def test_champion_only_moves_to_a_generation_that_solves_something():
    online = {"lam2": _ev(task_success_rate=0.0, avg_steps=1.0, tasks=200.0),
              "lam3": _ev(task_success_rate=0.0, avg_steps=9.0, tasks=200.0)}
    best = report.champion(online, {}, ["lam2", "lam3"], metric="avg_steps")
    assert best["generation"] is None and best["reason"] == (
        "no generation solved a held-out task online (lam2 0 of 200, lam3 0 of 200 solved)")
    md = "\n".join(report.champion_lines(best, online))
    assert "Champion: none (no generation solved" in md and "stays where it was" in md
    assert "lam2 0 of 200; lam3 0 of 200" in md
    online["lam2"] = _ev(task_success_rate=0.005, avg_steps=1.0, tasks=200.0)
    best = report.champion(online, {}, ["lam2", "lam3"])
    assert best["generation"] == "lam2" and "lam2 1 of 200" in "\n".join(report.champion_lines(best, online))


def test_markdown_reports_coverage_families_per_generation_and_invalid_actions():
    fam = {"family": "bold_text", "tasks": 2, "steps": 4}
    online = {
        "lam1": SKIP,
        "lam2": {**_ev(task_success_rate=0.5, invalid_action_rate=0.25, tasks=2.0),
                 "coverage": {"tasks": 2, "held_out_tasks": 5, "families": 1, "held_out_families": 2,
                              "missing_families": ["font_size"], "selection": "stratified"},
                 "families": [{**fam, "actor": "lam2", "successes": 1, "success_rate": 0.5,
                               "invalid_action_rate": 0.25}]},
        "expert": {**_ev(task_success_rate=1.0, invalid_action_rate=0.0, tasks=2.0), "kind": "expert",
                   "families": [{**fam, "actor": "expert", "successes": 2, "success_rate": 1.0,
                                 "invalid_action_rate": 0.0}]},
    }
    results = {"online": online}
    table = report.comparison_table(results)
    invalid = table[table.metric == "invalid_action_rate"].iloc[0]
    assert (invalid.lam1, invalid.lam2, invalid.expert) == ("skipped", "25.0", "0.0")
    families = report.family_frame(online)
    assert list(families.columns) == ["family", "actor", "tasks", "successes", "success_rate", "steps",
                                      "invalid_action_rate"]
    md = report.markdown_report(table, results, families, report.champion(online, {}, ["lam1", "lam2"]))
    assert "Tasks: 2 of 5 held-out tasks (stratified: every family first, then a seeded fill), covering 1 of the " \
           "2 families with held-out tasks; left out: font_size." in md
    assert "| family | tasks | lam1 | lam2 | expert |" in md and "| bold_text | 2 | skipped | 50.0 | 100.0 |" in md
    assert "## Invalid actions per task family (%, LAM generations)" in md and "| bold_text | 25.0 |" in md
    assert "Champion: **lam2**" in md


def test_plots_render_with_and_without_results():
    assert report.phase_plot(RESULTS, ["lam2", "expert"]).axes
    assert report.phase_plot({}, []).axes
    assert report.family_plot(report.family_frame(RESULTS["online"])).axes
    assert report.family_plot(report.family_frame({})).axes
