"""Wiring of the task_plans pipeline: source -> evolve -> filter -> split -> report."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.task_plans.nodes import (
    evolve_task_plans,
    filter_task_plans,
    report_task_plans,
    source_task_plans,
    split_task_plans,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                source_task_plans,
                ["templates", "task_files", "params:task_plans.generation"],
                ["task_plan_pairs_sourced", "task_plans_import_rejects", "task_plans_source_stats"],
                name="source_task_plans",
            ),
            node(
                evolve_task_plans,
                ["task_plan_pairs_sourced", "templates", "params:task_plans.evolution"],
                ["task_plan_pairs_evolved", "task_plans_evolve_rejects", "task_plans_evolve_stats"],
                name="evolve_task_plans",
            ),
            node(
                filter_task_plans,
                ["task_plan_pairs_sourced", "task_plan_pairs_evolved", "task_plans_import_rejects",
                 "task_plans_evolve_rejects", "params:task_plans.filters"],
                ["task_plans", "task_plans_quarantine", "task_plans_filter_stats"],
                name="filter_task_plans",
            ),
            node(
                split_task_plans,
                ["task_plans", "params:task_plans.split"],
                ["task_plans_train", "task_plans_test", "task_plans_split_index"],
                name="split_task_plans",
            ),
            node(
                report_task_plans,
                ["task_plans_source_stats", "task_plans_evolve_stats", "task_plans_filter_stats",
                 "task_plans_quarantine", "task_plans_train", "task_plans_test"],
                ["task_plans_stats", "task_plans_metrics"],
                name="report_task_plans",
            ),
        ]
    )
