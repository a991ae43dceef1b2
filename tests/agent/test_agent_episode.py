"""``run_episode`` and the policies against the real ``WordEnv`` (no fakes of our own components)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

for _module in ("lam_kedro.env.word_env", "lam_kedro.env.templates", "lam_kedro.env.tasks"):
    pytest.importorskip(_module, reason=f"{_module} has not landed yet")

from lam_kedro.agent.episode import run_episode  # noqa: E402
from lam_kedro.agent.jsonl import read_jsonl, write_jsonl  # noqa: E402
from lam_kedro.agent.policies import Policy, RandomPolicy, ScriptedPolicy, StepsPolicy, TextPolicy  # noqa: E402
from lam_kedro.agent.prompt import step_examples  # noqa: E402
from lam_kedro.agent.schema import InstantiatedTask, Trajectory  # noqa: E402
from lam_kedro.agent.ufo import export_execution_record  # noqa: E402
from lam_kedro.env import WordEnv, builtin_templates, families, sample_task  # noqa: E402
from lam_kedro.env.types import Task, UIStep  # noqa: E402

CLICK = {"button": "left", "double": False}


def _task(family: str, seed: int = 0) -> Task:
    """A task of ``family`` on the first built-in template that suits it."""
    errors = []
    for template in builtin_templates():
        try:
            task = sample_task(family, template=template, seed=seed)
        except ValueError as err:  # the template offers nothing to act on for this family
            errors.append(str(err))
            continue
        if task is not None:
            return task
    raise AssertionError(f"no built-in template suits {family!r}: {errors[:3]}")


@pytest.fixture(scope="module")
def family() -> str:
    return sorted(families())[0]


@pytest.fixture
def env() -> WordEnv:
    return WordEnv(max_steps=30)


def test_policies_satisfy_the_protocol() -> None:
    for policy in (StepsPolicy(), ScriptedPolicy(), RandomPolicy(0)):
        assert isinstance(policy, Policy)


@pytest.mark.parametrize("name", sorted(families()))
def test_scripted_policy_solves_every_family(env: WordEnv, name: str) -> None:
    task = _task(name)
    traj = run_episode(env, ScriptedPolicy(), task, seed=0)
    assert traj.outcome.success, (name, traj.outcome.reason, [s.error for s in traj.steps])
    assert traj.outcome.terminated and not traj.outcome.truncated
    assert traj.steps[-1].status == "FINISH"
    assert all(s.error is None for s in traj.steps)
    assert traj.outcome.invalid_actions == 0 and traj.actor == "scripted"


def test_steps_record_the_observation_before_the_action(env: WordEnv, family: str) -> None:
    task = _task(family)
    first_obs, _ = WordEnv(max_steps=30).reset(task, seed=0)
    seen = []
    traj = run_episode(env, ScriptedPolicy(), task, seed=0, on_step=lambda s, o, i: seen.append((s, o)))
    assert traj.steps[0].observation == first_obs.to_dict()
    assert [s.index for s in traj.steps] == list(range(len(traj.steps)))
    assert len(seen) == len(traj.steps)
    for (_, next_obs), later in zip(seen, traj.steps[1:], strict=False):
        assert later.observation == next_obs.to_dict()  # step i+1 saw what step i produced
    assert traj.steps[0].latency_s is not None and traj.outcome.duration_s > 0


def test_trajectory_round_trips_and_exports(tmp_path: Path, env: WordEnv, family: str) -> None:
    inst = InstantiatedTask.from_env_task(_task(family), plan=["do it"])
    traj = run_episode(env, ScriptedPolicy(), inst, seed=3)
    path = tmp_path / "t.jsonl"
    write_jsonl(path, [traj])
    assert read_jsonl(path, Trajectory) == [traj]
    assert traj.task == inst and traj.seed == 3
    shared = Path(__file__).resolve().parents[3] / "shared" / "interop" / "ufo" / "execution_schema.json"
    if shared.is_file():
        import jsonschema

        jsonschema.validate(export_execution_record(traj), json.loads(shared.read_text()))


def test_wrong_solution_is_not_a_success(env: WordEnv, family: str) -> None:
    task = _task(family)
    wrong = families()[family].wrong_solution(task.params)
    traj = run_episode(env, StepsPolicy(wrong), task)
    assert traj.outcome.terminated and not traj.outcome.success


def test_missing_control_fails_naming_it(env: WordEnv, family: str) -> None:
    traj = run_episode(env, StepsPolicy([UIStep("No Such Button", "click_input", CLICK)]), _task(family))
    step = traj.steps[-1]
    assert step.status == "FAIL" and "No Such Button" in step.thought and "No Such Button" in step.error
    assert traj.outcome.terminated and not traj.outcome.success


def test_invalid_action_is_recorded_as_the_steps_error(env: WordEnv, family: str) -> None:
    bad = UIStep("Document", "select_text", {"text": "zz-not-in-any-document-zz"}, control_type="Document")
    traj = run_episode(env, StepsPolicy([bad], finish_last=False), _task(family))
    assert traj.steps[0].error  # the environment said what was wrong
    assert traj.steps[-1].function == "" and traj.steps[-1].status == "FINISH"
    assert traj.outcome.invalid_actions >= 1 and not traj.outcome.success


def test_max_steps_truncates(env: WordEnv, family: str) -> None:
    home = UIStep("Home", "click_input", CLICK, control_type="TabItem")
    traj = run_episode(env, StepsPolicy([home] * 10, finish_last=False), _task(family), max_steps=3)
    assert traj.outcome.truncated and not traj.outcome.terminated and not traj.outcome.success
    assert traj.outcome.steps == len(traj.steps) == 3
    assert "max_steps=3" in traj.outcome.reason


def test_random_policy_is_reproducible_and_bounded(family: str) -> None:
    task = _task(family)

    def actions(seed: int) -> list[tuple]:
        traj = run_episode(WordEnv(max_steps=20), RandomPolicy(seed), task, seed=0)
        assert traj.outcome.steps <= 20 and (traj.outcome.terminated or traj.outcome.truncated)
        return [(s.control_label, s.function, json.dumps(s.args), s.status) for s in traj.steps]

    assert actions(1) == actions(1)
    assert actions(1) != actions(2)


def test_random_policy_actions_are_mostly_valid(family: str) -> None:
    """Random args are drawn per control type from the env's own table, so few are rejected."""
    env, task = WordEnv(max_steps=50), _task(family)
    steps = errors = 0
    for seed in range(10):
        traj = run_episode(env, RandomPolicy(seed, finish_prob=0.0), task, seed=seed)
        steps += len(traj.steps)
        errors += sum(s.error is not None for s in traj.steps)
    assert errors < steps / 2, f"{errors} of {steps} random actions were invalid"


def test_served_prompts_equal_training_prompts(env: WordEnv, family: str) -> None:
    """A TextPolicy replaying the expert's targets sees exactly the prompts training built."""
    task = InstantiatedTask.from_env_task(_task(family), plan=["Do the task"])
    expert = run_episode(env, ScriptedPolicy(), task, seed=0)
    examples = step_examples(expert)
    served: list[list[dict[str, str]]] = []

    def generate(messages: list[dict[str, str]]) -> str:
        served.append(messages)
        return examples[len(served) - 1]["target"]

    replay = run_episode(env, TextPolicy(generate, name="replay", plan_for=lambda t: task.plan), task, seed=0)
    assert served == [e["messages"] for e in examples]
    assert replay.outcome.success and [s.function for s in replay.steps] == [s.function for s in expert.steps]
