"""Wiring of the templates pipeline."""

from kedro.pipeline import Pipeline, node

from lam_kedro.pipelines.templates.nodes import build_templates


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                build_templates,
                inputs=["user_templates", "params:templates"],
                outputs=["templates", "template_index", "templates_quarantine"],
                name="build_templates",
            )
        ]
    )
