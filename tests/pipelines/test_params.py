"""One way to validate config: every ``params:`` block has a strict model, every conf env validates,
the models' defaults are ``conf/base``'s values, and a typo anywhere fails naming the file and key."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from pydantic import BaseModel

from lam_kedro.pipelines.params import PARAMETERS, ParamsHooks, model_of, validate_parameters
from tests.conftest import REPO


def parameters(env: str) -> dict[str, Any]:
    """``conf/base`` overlaid with ``conf/<env>``, as ``kedro run --env <env>`` reads them."""
    loader = OmegaConfigLoader(conf_source=str(REPO / "conf"), base_env="base", default_run_env=env)
    return dict(loader["parameters"])


@pytest.mark.parametrize("env", ["base", "test", "smollm2", "writer"])
def test_every_conf_env_validates(env: str) -> None:
    params = parameters(env)
    assert set(params) == set(PARAMETERS)  # a block without a model (or a model without a block) fails here
    validated = validate_parameters(params)
    assert set(validated) == set(PARAMETERS)


def _minimal(model: type[BaseModel], raw: dict[str, Any]) -> dict[str, Any]:
    """Only the keys ``model`` requires (``sft:``), recursively: everything else comes from defaults."""
    out = {}
    for name, field in model.model_fields.items():
        if field.is_required():
            ann = field.annotation
            nested = isinstance(ann, type) and issubclass(ann, BaseModel)
            out[name] = _minimal(ann, raw[name]) if nested else raw[name]
    return out


@pytest.mark.parametrize("key", sorted(PARAMETERS))
def test_model_defaults_are_conf_base(key: str) -> None:
    """Behaviour does not depend on whether a key is written out: the defaults are conf/base's numbers."""
    raw = parameters("base")[key]
    model = model_of(key)
    assert model.model_validate(_minimal(model, raw)).model_dump() == model.model_validate(raw).model_dump()
    assert _required(model) <= {"training.sft"}  # only TRL's own block has no default of ours


def _required(model: type[BaseModel], prefix: str = "") -> set[str]:
    """The dotted paths of the keys ``model`` cannot do without."""
    out = set()
    for name, field in model.model_fields.items():
        if field.is_required():
            ann = field.annotation
            nested = isinstance(ann, type) and issubclass(ann, BaseModel)
            out |= _required(ann, f"{prefix}{name}.") if nested and _required(ann) else {prefix + name}
    return out


TYPOS = [
    ("phase1", ("training", "eval_fractoin"), r"params:phase1\.training\.eval_fractoin: unknown key"),
    ("phase1", ("training", "lora"), r"params:phase1\.training\.lora: unknown key 'lora_alfa' \(not a field of "
                                     r"peft\.LoraConfig\)"),
    ("phase2", ("training", "sft", "max_seq_lenght"),
     r"params:phase2\.training\.sft: unknown key 'max_seq_lenght' \(not a field of trl\.SFTConfig\)"),
    ("phase3", ("exploration", "atempts"), r"params:phase3\.exploration\.atempts: unknown key"),
    ("phase3", ("exploration", "decode", "temprature"), r"params:phase3\.exploration\.decode\.temprature: unknown key"),
    ("phase3", ("training", "max_eval_row"), r"params:phase3\.training\.max_eval_row: unknown key"),
    ("phase4", ("ppo", "clip_epsilon"), r"params:phase4\.ppo\.clip_epsilon: unknown key"),
    ("phase4", ("kto", "bta"), r"params:phase4\.kto: unknown key 'bta' \(not a field of trl\.KTOConfig\)"),
    ("phase4", ("data", "max_trajectory"), r"params:phase4\.data\.max_trajectory: unknown key"),
    ("reward_model", ("rollouts", "train_task"), r"params:reward_model\.rollouts\.train_task: unknown key"),
    ("reward_model", ("data", "max_expert"), r"params:reward_model\.data\.max_expert: unknown key"),
    ("reward_model", ("training", "training", "learning_rat"),
     r"params:reward_model\.training\.training: unknown key 'learning_rat' \(not a field of "
     r"transformers\.TrainingArguments\)"),
    ("reward_model", ("training", "lora", "alpha"), r"params:reward_model\.training\.lora: unknown key 'alpha'"),
    ("base_model", ("tokenizer", "vocab"), r"params:base_model\.tokenizer\.vocab: unknown key"),
    ("env_check", ("max_step",), r"params:env_check\.max_step: unknown key"),
    ("templates", ("builtins",), r"params:templates\.builtins: unknown key"),
    ("task_plans", ("evolution", "n_pair"), r"params:task_plans\.evolution\.n_pair: unknown key"),
    ("trajectories", ("expert", "knd"), r"params:trajectories\.expert\.knd: unknown key"),
    ("trajectories", ("instantiation", "retreiver"), r"params:trajectories\.instantiation\.retreiver: unknown key"),
    ("evaluation", ("online", "wokers"), r"params:evaluation\.online\.wokers: unknown key"),
]


@pytest.mark.parametrize(("key", "path", "message"), TYPOS, ids=[".".join((k, *p)) for k, p, _ in TYPOS])
def test_a_typo_fails_naming_the_file_and_key(key: str, path: tuple[str, ...], message: str) -> None:
    params = copy.deepcopy(parameters("base"))
    block = params[key]
    for part in path[:-1]:
        block = block[part]
    if path == ("training", "lora"):
        block["lora"] = {"r": 8, "lora_alfa": 16}
    else:
        block[path[-1]] = 1
    with pytest.raises(ValueError, match=rf"conf/\*/parameters_{key}\.yml: invalid config: .*{message}"):
        validate_parameters(params, [key])


def test_an_unknown_block_is_named() -> None:
    with pytest.raises(ValueError, match=r"params:phase5: unknown parameters block"):
        model_of("phase5")


def _hook_run(params: dict[str, Any], inputs: list[str]) -> None:
    catalog = DataCatalog({"parameters": MemoryDataset(params)})
    pipeline = Pipeline([node(lambda *a: None, inputs, None, name="reader")])
    ParamsHooks().before_pipeline_run({}, pipeline, catalog)


def test_the_hook_checks_the_blocks_a_pipeline_reads_before_it_runs() -> None:
    params = copy.deepcopy(parameters("test"))
    params["phase4"]["ppo"]["clip_epsilon"] = 0.2
    _hook_run(params, ["params:phase1.training", "params:evaluation"])  # phase4 is not read: no error
    with pytest.raises(ValueError, match=r"parameters_phase4\.yml: .*params:phase4\.ppo\.clip_epsilon: unknown key"):
        _hook_run(params, ["params:phase4"])
    with pytest.raises(ValueError, match=r"params:phase4\.ppo\.clip_epsilon"):
        _hook_run(params, ["parameters"])


def catalog(env: str) -> dict[str, Any]:
    """The catalog config of ``env`` with its ``${globals:...}`` resolved, as ``kedro run`` reads it."""
    loader = OmegaConfigLoader(conf_source=str(REPO / "conf"), base_env="base", default_run_env=env)
    return dict(loader["catalog"])


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    return set().union(*(_keys(v) for v in value)) if isinstance(value, list) else set()


@pytest.mark.parametrize("env", ["base", "test", "smollm2"])
def test_paths_are_the_catalogs_not_the_parameters(env: str) -> None:
    assert "output_dir" not in _keys(parameters(env))  # the SFT checkpoint folders are catalog entries
    cat = catalog(env)
    folders = {g: cat[g]["dataset"]["path"] for g in ("lam1", "lam2", "lam3", "lam4")}
    assert folders == {g: f"data/06_models/{g}" for g in folders}
    assert cat["evaluation_models"]["generations"] == folders  # one place: globals.yml's `models`
    root = "data/06_models/checkpoints" + ("/smollm2" if env == "smollm2" else "")
    assert {cat[f"lam{n}_checkpoints"]["path"] for n in (1, 2, 3)} == {f"{root}/lam{n}" for n in (1, 2, 3)}


def _paths(entry: Any) -> list[str]:
    if isinstance(entry, dict):
        return [v for k, v in entry.items() if k in ("path", "filepath") and isinstance(v, str)] + \
            [p for v in entry.values() for p in _paths(v)]
    return []


def test_the_writer_env_writes_beside_the_default_run_never_over_it() -> None:
    """``--env writer`` builds other data and models: every dataset but the user's own raw files lives
    under data/writer, its generations are versions of other registered models, in another experiment."""
    base, writer = catalog("base"), catalog("writer")
    assert set(base) == set(writer)
    for name, entry in writer.items():
        for path in _paths(entry):
            assert path.startswith("data/writer/") or path.startswith("data/01_raw/"), (name, path)
        for key in ("registered_model_name", "registered_model"):
            if key in entry:
                assert entry[key].startswith("lam-writer") and entry[key] != base[name][key], name
    assert {p for e in base.values() for p in _paths(e)}.isdisjoint(
        {p for e in writer.values() for p in _paths(e) if not p.startswith("data/01_raw/")})
    loader = OmegaConfigLoader(conf_source=str(REPO / "conf"), base_env="base", default_run_env="writer",
                               config_patterns={"mlflow": ["mlflow*", "mlflow*/**"]})
    assert loader["mlflow"]["tracking"]["experiment"]["name"] == "lam-writer"
    assert parameters("writer")["world"]["backend"] == "writer"


def test_a_phase_block_may_not_name_its_checkpoint_folder() -> None:
    params = copy.deepcopy(parameters("base"))
    params["phase1"]["training"]["sft"]["output_dir"] = "data/06_models/checkpoints/elsewhere"
    with pytest.raises(ValueError, match=r"params:phase1\.training\.sft: key 'output_dir' is not set here: the "
                                         r"checkpoint folder is the catalog's <generation>_checkpoints entry"):
        validate_parameters(params, ["phase1"])


def test_models_are_registered_by_the_dataset_their_training_node_saves() -> None:
    """No identity nodes: each registering catalog entry wraps the model folder and is the output of
    the node that trains the model."""
    import importlib

    cat = catalog("base")
    registering = {k for k, v in cat.items() if v.get("type") == "lam_kedro.datasets.MlflowRegisteredModelDataset"}
    assert registering == {"lam1", "lam2", "lam3", "lam4", "reward_model"}
    assert all(cat[k]["dataset"]["type"] == "lam_kedro.datasets.HFModelDataset" for k in registering)
    assert not [k for k in cat if k.endswith("_registered")]
    for name in ("phase1", "phase2", "phase3", "phase4", "reward_model"):
        pipeline = importlib.import_module(f"lam_kedro.pipelines.{name}").create_pipeline()
        for n in pipeline.nodes:
            saved = registering & set(n.outputs)
            assert not saved or n.name.startswith("train_"), f"{n.name} writes {saved}"
            assert not (len(n.inputs) == 1 and set(n.inputs) & registering and set(n.outputs) <= registering), n.name
