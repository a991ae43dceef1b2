"""Real, small Phase 1/2 data for the training tests: scripted-expert trajectories in the simulated Word.

Not a test module: the test files of models, tokenizer, SFT, generation and the registry import
it, so they train on the same kind of records the pipelines produce (no fakes).
"""

from __future__ import annotations

from functools import cache

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.agent.schema import InstantiatedTask, TaskPlan, Trajectory
from lam_kedro.env import WordEnv, builtin_templates
from lam_kedro.env.tasks import get_family, sample_tasks

TINY_CONFIG = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
               "num_key_value_heads": 2, "max_position_embeddings": 2048, "tie_word_embeddings": True}


@cache
def expert_data(n_tasks: int = 24, seed: int = 0) -> tuple[tuple[TaskPlan, ...], tuple[Trajectory, ...]]:
    """``(task plans, successful expert trajectories)`` for ``n_tasks`` sampled tasks (seconds)."""
    tasks = sample_tasks([t.name for t in builtin_templates()], n_tasks, seed=seed)
    env, policy = WordEnv(max_steps=30), ScriptedPolicy(name="expert")
    plans, trajs = [], []
    for t in tasks:
        plan = get_family(t.family).plan(t.params)
        plans.append(TaskPlan(task_id=t.task_id, task=t.request, plan=plan, family=t.family, template=t.template,
                              params=dict(t.params)))
        traj = run_episode(env, policy, InstantiatedTask.from_env_task(t, plan=plan), seed=seed)
        if traj.outcome.success:
            trajs.append(traj)
    return tuple(plans), tuple(trajs)


def base_params(**overrides) -> dict:
    """``params:base_model`` for the test-sized tiny model."""
    return {"name": "tiny", "kind": "tiny", "system_prompt": False, "compact_controls": False, "config": dict(TINY_CONFIG),
            "tokenizer": {"vocab_size": 1024}, **overrides}


def sft_params(output_dir: str | None, max_steps: int = 12, **sft) -> dict:
    """``train_sft``'s block at test sizes: a constant LR so a few steps visibly lower the loss.
    ``output_dir`` None: a phase node's block (its checkpoint folder is an input of the node)."""
    where = {} if output_dir is None else {"output_dir": output_dir}
    return {"sft": {**where, "max_steps": max_steps, "per_device_train_batch_size": 8,
                    "per_device_eval_batch_size": 8, "learning_rate": 3e-3, "lr_scheduler_type": "constant",
                    "logging_steps": 2, "save_steps": 4, "max_length": 2048, "seed": 0, "disable_tqdm": True,
                    **sft}}
