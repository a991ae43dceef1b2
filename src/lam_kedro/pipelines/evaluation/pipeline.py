"""Wiring of the evaluation pipeline: offline, planning and online evaluation, then report and registry."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.evaluation.nodes import (
    evaluate_offline,
    evaluate_online,
    evaluate_planning,
    log_evaluation,
    report_evaluation,
)

RESULTS = ["evaluation_offline_results", "evaluation_planning_results", "evaluation_online_results"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(evaluate_offline, ["evaluation_models", "test_trajectories", "params:evaluation"],
                 ["evaluation_offline_steps", "evaluation_offline_results"], name="evaluate_offline"),
            node(evaluate_planning, ["evaluation_models", "task_plans_test", "params:evaluation"],
                 ["evaluation_planning_plans", "evaluation_planning_results"], name="evaluate_planning"),
            node(evaluate_online,
                 ["evaluation_models", "instantiated_tasks", "trajectory_splits", "templates", "params:evaluation",
                  "params:world"],
                 ["evaluation_online_trajectories", "evaluation_online_results"], name="evaluate_online"),
            node(report_evaluation, [*RESULTS, "params:evaluation"],
                 ["evaluation_table", "evaluation_report", "evaluation_metrics", "evaluation_phases",
                  "evaluation_families", "evaluation_phase_plot", "evaluation_family_plot"],
                 name="report_evaluation"),
            node(log_evaluation, [*RESULTS, "params:evaluation"],
                 ["evaluation_mlflow_metrics", "evaluation_generation_metrics", "evaluation_champion"],
                 name="log_evaluation"),
        ]
    )
