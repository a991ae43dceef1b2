"""The agent runtime: one trajectory schema, prompt rendering, action parsing, policies, one loop.

Data collection, exploration, evaluation and serving all go through ``run_episode(env, policy)``
and the models in ``schema``, so what is served is exactly what was evaluated.
"""

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.jsonl import JsonlError, read_jsonl, read_jsonl_with_rejects, write_jsonl
from lam_kedro.agent.policies import Decision, Policy, RandomPolicy, ScriptedPolicy, StepsPolicy, TextPolicy
from lam_kedro.agent.prompt import (
    ParsedAction,
    history_slots,
    parse_action_output,
    parse_plan_output,
    render_action_target,
    render_plan_prompt,
    render_plan_target,
    render_step_prompt,
    step_examples,
    summarize_action,
)
from lam_kedro.agent.schema import InstantiatedTask, Outcome, Step, TaskPlan, Trajectory

__all__ = [
    "Decision",
    "InstantiatedTask",
    "JsonlError",
    "Outcome",
    "ParsedAction",
    "Policy",
    "RandomPolicy",
    "ScriptedPolicy",
    "Step",
    "StepsPolicy",
    "TaskPlan",
    "TextPolicy",
    "Trajectory",
    "history_slots",
    "parse_action_output",
    "parse_plan_output",
    "read_jsonl",
    "read_jsonl_with_rejects",
    "render_action_target",
    "render_plan_prompt",
    "render_plan_target",
    "render_step_prompt",
    "run_episode",
    "step_examples",
    "summarize_action",
    "write_jsonl",
]
