"""One way to act: exploration, evaluation and serving build the LAM with ``model.policy`` from one
``DecodeConfig``, so greedy exploration and evaluation choose the same action on the same state, and
exploration samples within the action grammar, reproducibly per seed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lam_kedro.agent.policies import TextPolicy
from lam_kedro.agent.prompt import parse_action_output
from lam_kedro.env import WordEnv
from lam_kedro.env.action_table import VALID_ON
from lam_kedro.evaluation.online import ActorSpec, build_policy, rollout_actor
from lam_kedro.evaluation.params import parse_params
from lam_kedro.model.decoder import ActionDecoder
from lam_kedro.model.policy import DecodeConfig, decode_config, lam_generate, lam_policy
from lam_kedro.pipelines.phase3.nodes import Phase3Exploration
from lam_kedro.pipelines.reward_model.nodes import RolloutParams
from lam_kedro.training.exploration import ExplorationParams, attempt_seed, explore, model_policy_factory
from tests.evaluation.conftest import make_tasks, tiny_bundle

REPO = Path(__file__).resolve().parents[2]
MAX_NEW_TOKENS = 48


@pytest.fixture(scope="module")
def bundle():
    return tiny_bundle()


@pytest.fixture(scope="module")
def tasks():
    return make_tasks(3)


@pytest.fixture(scope="module")
def documents(tasks):
    from lam_kedro.env import builtin_templates

    return {t.name: t.build() for t in builtin_templates() if t.name in {x.template for x in tasks}}


def _no_timing(trajs):
    return [[(s.raw_output, s.control_label, s.function, s.args, s.status) for s in t.steps] for t in trajs]


# ---------------------------------------------------------------------------- the config


def test_decode_config_rejects_unknown_keys_naming_them():
    with pytest.raises(ValueError, match=r"phase3\.exploration\.decode\.temprature: unknown key"):
        decode_config({"do_sample": True, "temprature": 0.8}, "phase3.exploration.decode")
    with pytest.raises(ValueError, match=r"decode\.functions: .*unknown function"):
        decode_config({"functions": ["click_input", "rm_rf"]})
    with pytest.raises(ValueError, match=r"decode\.max_new_tokens"):
        decode_config({"max_new_tokens": 0})
    assert decode_config(None) == DecodeConfig() and DecodeConfig().constrained and not DecodeConfig().do_sample


def test_evaluation_actors_and_the_registered_pyfunc_validate_their_decode_block():
    from lam_kedro.datasets.mlflow_registry import MlflowRegisteredModelDataset

    with pytest.raises(ValueError, match=r"actor lam2: decode\.max_tokens: unknown key"):
        ActorSpec(kind="lam", name="lam2", load_bundle=tiny_bundle, decode={"max_tokens": 8})
    with pytest.raises(ValueError, match=r"MlflowRegisteredModelDataset\(lam\)\.generate\.sample: unknown key"):
        MlflowRegisteredModelDataset("lam", alias="lam1", generate={"sample": True})
    with pytest.raises(ValueError, match=r"generate\.temprature"):
        parse_params({"generate": {"temprature": 0.5}})


def test_exploration_blocks_reject_unknown_keys_and_sample_by_default():
    with pytest.raises(ValueError, match=r"phase3\.exploration\.do_sample: unknown key: move it into the `decode`"):
        Phase3Exploration.parse({"do_sample": True}, "phase3.exploration")
    with pytest.raises(ValueError, match=r"reward_model\.rollouts\.decode\.top_q: unknown key"):
        RolloutParams.parse({"decode": {"top_q": 0.9}}, "reward_model.rollouts")
    with pytest.raises(ValueError, match=r"phase3\.exploration\.bogus: unknown key"):
        Phase3Exploration.parse({"bogus": 1}, "phase3.exploration")
    assert ExplorationParams().decode.do_sample and ExplorationParams().decode.constrained
    p = Phase3Exploration.parse({"decode": {"temperature": 0.5}}, "phase3.exploration")
    assert p.decode.do_sample and p.decode.temperature == 0.5  # a block without do_sample still samples
    assert not Phase3Exploration.parse({"decode": {"do_sample": False}}, "x").decode.do_sample


@pytest.mark.parametrize("env", ["base", "test"])
def test_every_conf_decode_block_is_a_decode_config(env):
    """phase3.exploration.decode, reward_model.rollouts.decode and evaluation.generate: one model, all valid."""
    conf = REPO / "conf" / env

    def block(name: str) -> dict:
        return yaml.safe_load((conf / f"parameters_{name}.yml").read_text(encoding="utf-8"))

    exploration = Phase3Exploration.parse(block("phase3")["phase3"]["exploration"], "phase3.exploration")
    rollouts = RolloutParams.parse(block("reward_model")["reward_model"]["rollouts"], "reward_model.rollouts")
    evaluation = parse_params(block("evaluation")["evaluation"])
    for d in (exploration.decode, rollouts.decode, evaluation.generate):
        assert isinstance(d, DecodeConfig) and d.constrained
    assert exploration.decode.do_sample and rollouts.decode.do_sample and not evaluation.generate.do_sample


# ---------------------------------------------------------------------------- one builder


def test_lam_policy_is_a_text_policy_over_the_configured_decoder(bundle):
    policy = lam_policy(bundle, {"max_new_tokens": 8, "do_sample": True, "seed": 1}, name="lam9", seed=5)
    assert isinstance(policy, TextPolicy) and policy.name == "lam9"
    assert isinstance(policy.generate, ActionDecoder) and policy.generate.do_sample
    assert lam_policy(bundle).name == bundle.generation
    plain = lam_generate(bundle, DecodeConfig(constrained=False, max_new_tokens=8))
    assert not isinstance(plain, ActionDecoder)
    # the constrained decoder reads the observation's document from the slots; no model reads it
    assert not policy.include_document and policy.generate.read_document
    assert not lam_policy(bundle, {"constrained": False}).include_document


def test_lam_policy_hands_the_decoder_the_observation_as_data(bundle, tasks):
    """The decoder gets the observation's controls and document and the plan as data; the model's
    prompt has no <Document:> slot."""
    seen = []
    policy = lam_policy(bundle, {"max_new_tokens": 8}, plan_for=lambda task: ["Click Bold."])
    decoder = policy.generate
    policy.generate = lambda messages: seen.append(messages) or decoder(messages)
    task = tasks[0]
    obs, _ = WordEnv(max_steps=3).reset(task.to_env_task(), seed=0)
    policy.reset(task.to_env_task())
    policy.act(obs)
    slots = seen[0].slots
    assert slots.controls == tuple(c.to_dict() for c in obs.controls)
    assert slots.document == obs.document and slots.plan == ("1. Click Bold.",)
    assert slots.request == task.to_env_task().request.strip()
    assert all("<Document:>" not in m["content"] for m in seen[0])


def test_greedy_exploration_and_evaluation_choose_the_same_action_on_the_same_state(bundle, tasks):
    """The exploration policy (Phase 3 / reward-model rollouts) with sampling off and the online
    evaluation's policy for the same generation agree, state by state."""
    greedy = DecodeConfig(max_new_tokens=MAX_NEW_TOKENS)  # evaluation.generate's default, shortened
    plans = {t.task_id: list(t.plan) for t in tasks}
    explore_policy = model_policy_factory(bundle, tasks, greedy.model_copy(update={"do_sample": False}), name="lam2")
    eval_policy = build_policy(ActorSpec(kind="lam", name="lam2", load_bundle=lambda: bundle,
                                         decode=greedy.model_dump()), plans)
    env = WordEnv(max_steps=10)
    compared = 0
    for task in tasks:
        # exploration builds a fresh policy per attempt, seeded with the attempt's seed: greedy ignores it
        explorer = explore_policy(attempt_seed(0, task.task_id, 1))
        env_task = task.to_env_task()
        obs, _ = env.reset(env_task, seed=0)
        explorer.reset(env_task)
        eval_policy.reset(env_task)
        for _ in range(3):
            a, b = explorer.act(obs), eval_policy.act(obs)
            assert a.action == b.action and a.raw_output == b.raw_output
            assert parse_action_output(a.raw_output, obs.controls).ok  # the grammar holds
            compared += 1
            obs, _, terminated, truncated, _ = env.step(a.action)
            if terminated or truncated:
                break
    assert compared >= len(tasks)


def test_greedy_exploration_replays_the_evaluation_rollout(bundle, tasks, documents):
    """Whole episodes: ``explore`` with greedy decoding and ``rollout_actor`` give the same steps."""
    greedy = DecodeConfig(max_new_tokens=MAX_NEW_TOKENS)
    explored = explore(tasks, documents, model_policy_factory(bundle, tasks, greedy, name="lam2"),
                       attempts=1, max_steps=4, seed=0)
    evaluated = rollout_actor(ActorSpec(kind="lam", name="lam2", load_bundle=lambda: bundle, decode=greedy),
                              tasks, documents, max_steps=4, progress=False)
    assert _no_timing(explored) == _no_timing(evaluated)


# ---------------------------------------------------------------------------- sampling in the grammar


def test_sampled_exploration_acts_within_the_grammar_and_is_reproducible_per_seed(bundle, tasks, documents):
    decode = Phase3Exploration.parse({"decode": {"temperature": 1.5, "max_new_tokens": MAX_NEW_TOKENS}}, "x").decode
    make = model_policy_factory(bundle, tasks, decode, name="lam2")
    runs = [explore(tasks, documents, make, attempts=2, max_steps=3, seed=7, stop_on_success=False)
            for _ in range(2)]
    assert _no_timing(runs[0]) == _no_timing(runs[1])  # same seeds, same attempts, same actions
    steps = [s for t in runs[0] for s in t.steps]
    assert len(runs[0]) == 2 * len(tasks) and steps
    for step in steps:  # every sampled answer is a valid action on a visible control
        controls = step.observation["controls"]
        parsed = parse_action_output(step.raw_output, controls)
        assert parsed.ok, (parsed.error, step.raw_output)
        if parsed.function:
            control = next(c for c in controls if c["label"] == parsed.control_label)
            allowed = VALID_ON[parsed.function]
            assert allowed is None or control["control_type"] in allowed
        assert not (step.error or "").startswith("unusable model output")
    # attempts are seeded apart: they do not all say the same thing
    assert len({t.steps[0].raw_output for t in runs[0]}) > 1
    other = explore(tasks, documents, make, attempts=2, max_steps=3, seed=8, stop_on_success=False)
    assert _no_timing(other) != _no_timing(runs[0])
