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


def test_plots_render_with_and_without_results():
    assert report.phase_plot(RESULTS, ["lam2", "expert"]).axes
    assert report.phase_plot({}, []).axes
    assert report.family_plot(report.family_frame(RESULTS["online"])).axes
    assert report.family_plot(report.family_frame({})).axes
