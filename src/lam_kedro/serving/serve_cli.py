"""`lam serve`: the LAM behind an OpenAI-compatible endpoint that UFO (or any OpenAI client) can call.

The model decodes with ``model.policy.lam_generate`` from the decode config the evaluation
measured (``evaluation.generate`` of the project's conf, read with Kedro's config loader in the
environment ``$KEDRO_ENV`` names, else ``local``: ``serving.project_conf``; the defaults outside a
project); ``--constrained`` and ``--max-new-tokens`` override single keys.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from lam_kedro.env.action_table import FUNCTIONS
from lam_kedro.env.uia.tree import DEFAULT_CONTROL_TYPES
from lam_kedro.serving.models import DEFAULT_MODEL_URI
from lam_kedro.serving.server import DEFAULT_MAX_BODY_BYTES

__all__ = ["CONTROL_LIST", "serve_command", "serving_replicas", "ufo_config_lines"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


#: UI Automation control types the LAM was trained on, for UFO's CONTROL_LIST (``env.uia.tree``):
#: UFO's default list leaves out SplitButton and CheckBox, which Word uses for Header, Footer,
#: Watermark, Margins, Orientation, Size and Columns.
CONTROL_LIST: tuple[str, ...] = DEFAULT_CONTROL_TYPES


def ufo_config_lines(base_url: str, model_name: str, auth: bool, version: str = "v1") -> list[str]:
    """The lines of UFO's config that point its AppAgent at this server.

    ``v1`` (UFO 1.x / 2.x): ``ufo/config/config.yaml`` (``APP_AGENT``) and
    ``ufo/config/config_dev.yaml`` (``CONTROL_LIST``); ``v3``: ``config/ufo/agents.yaml`` and
    ``config/ufo/system.yaml``. ``API_BASE`` is the base URL UFO's OpenAI client appends
    ``/chat/completions`` to (the server also answers the full-endpoint form UFO's docs show).
    """
    key = '"<your LAM_API_KEY>"' if auth else '"EMPTY"  # the server runs with --no-auth'
    control_list = "[" + ", ".join(f'"{c}"' for c in CONTROL_LIST) + "]"
    agents, system = (("config/ufo/agents.yaml", "config/ufo/system.yaml") if version == "v3"
                      else ("ufo/config/config.yaml", "ufo/config/config_dev.yaml"))
    return [
        f"# {agents}",
        "APP_AGENT:",
        "  VISUAL_MODE: False  # the LAM reads the control list, not screenshots",
        '  API_TYPE: "openai"',
        f'  API_BASE: "{base_url}"',
        f"  API_KEY: {key}",
        f'  API_MODEL: "{model_name}"',
        f"# {system}",
        f"CONTROL_LIST: {control_list}",
    ]


def serving_replicas(bundle: Any, decode: Any, workers: int, batch: int, pool: Any = None) -> list[Any]:
    """The decoders ``lam serve`` runs: ``workers`` x ``batch`` constrained decoders, each worker's ``batch``
    sharing one ``model.batching.ForwardBatcher`` (one model thread batching their passes), all sharing the
    prompt-cache ``pool``; ``workers`` plain replicas when ``batch`` is 1, decoding is unconstrained or the
    model cannot be batched (``batching_unsupported``, logged). Interleaved so requests spread over workers."""
    from lam_kedro.model.batching import ForwardBatcher, PackedLlama, batching_unsupported
    from lam_kedro.model.policy import lam_generate

    reason = None if batch > 1 and decode.constrained else "batch 1" if batch <= 1 else "unconstrained decoding"
    reason = reason or batching_unsupported(bundle.model)
    if reason:
        if batch > 1:
            logging.getLogger(__name__).warning("not batching (%s): %d worker(s), one request each", reason, workers)
        return [lam_generate(bundle, decode, prefix_caches=pool) for _ in range(workers)]
    engine = PackedLlama(bundle.model)  # one copy of the packed weights for all workers
    batchers = [ForwardBatcher(bundle.model, engine=engine) for _ in range(workers)]
    return [lam_generate(bundle, decode, prefix_caches=pool, batcher=b) for _ in range(batch) for b in batchers]


@click.command("serve")
@click.option("--model", "model_uri", default=DEFAULT_MODEL_URI, show_default=True,
              help="registry URI (models:/lam@champion, models:/lam/3) or a Hugging Face model folder")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--api-key", envvar="LAM_API_KEY", default=None,
              help="the key clients must send as 'Authorization: Bearer <key>' [env: LAM_API_KEY]")
@click.option("--no-auth", is_flag=True, default=False,
              help="serve without an API key (only on a trusted host: anyone who reaches the port can use it)")
@click.option("--constrained/--no-constrained", default=None,
              help="decode actions under the action grammar (model.decoder) or plainly "
                   "[default: evaluation.generate.constrained, true]")
@click.option("--max-body-bytes", default=DEFAULT_MAX_BODY_BYTES, show_default=True, type=click.IntRange(min=1),
              help="larger request bodies are refused with 413")
@click.option("--max-new-tokens", default=None, type=click.IntRange(min=1),
              help="tokens the model may generate per answer [default: evaluation.generate.max_new_tokens, 256]")
@click.option("--tracking-uri", default=None,
              help="MLflow tracking URI for models:/ URIs (default: $MLFLOW_TRACKING_URI, else conf/base/mlflow.yml)")
@click.option("--model-name", default="lam", show_default=True,
              help="the name clients put in 'model' (UFO's API_MODEL)")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--ufo-dialect", default="auto", show_default=True, type=click.Choice(["auto", "ufo", "ufo3"]),
              help="answer UFO 1.x/2.x (CamelCase) or UFO3 (snake_case, an 'action' object); auto: read each request")
@click.option("--safety-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML/JSON of serving.safety.SafetyConfig, as lam agent reads it (rules, mode, allowlist)")
@click.option("--allow", multiple=True, type=click.Choice(FUNCTIONS),
              help="allow only these functions (repeat) [default: the config's, all nine]")
@click.option("--repeat-ttl", default=600.0, show_default=True, type=click.FloatRange(min=0),
              help="seconds a step prompt is remembered: the same prompt again within it, after an action, is "
                   "answered FAIL (no progress); 0 switches it off")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="model threads over the one loaded model, each decoding --batch requests at once (with --batch "
                   "1: that many requests generate at once, side by side)")
@click.option("--threads", default=None, type=click.IntRange(1, 256),
              help="torch threads [default: torch's (the cores) divided by --workers, at least 1]")
@click.option("--batch", default=8, show_default=True, type=click.IntRange(1, 256),
              help="requests each worker decodes together: their forward passes run as one batch (model.batching; "
                   "Llama models on the CPU, else one at a time); 1: one request at a time")
@click.option("--prefix-caches", default=32, show_default=True, type=click.IntRange(0, 4096),
              help="KV caches of earlier prompts kept, shared by the workers: each client's next step reuses its "
                   "previous one's prefix instead of another client's (about one per concurrent client); 0: each "
                   "worker keeps only its own previous prompt")
@click.option("--request-timeout", default=300.0, show_default=True, type=click.FloatRange(min=0),
              help="seconds a request may wait and generate before it is answered 504; 0: no limit")
def serve_command(model_uri: str, host: str, port: int, api_key: str | None, no_auth: bool,
                  constrained: bool | None, max_body_bytes: int, max_new_tokens: int | None, tracking_uri: str | None, model_name: str,
                  log_level: str, ufo_dialect: str, safety_config: Path | None, allow: tuple[str, ...],
                  repeat_ttl: float, workers: int, threads: int | None, batch: int, prefix_caches: int,
                  request_timeout: float) -> None:
    """Serve a LAM as an OpenAI-compatible chat-completions endpoint (UFO's AppAgent model).

    Requires an API key (--api-key or LAM_API_KEY) unless --no-auth is given. See docs/serving.md.
    """
    if api_key and no_auth:
        raise click.UsageError("--api-key (or LAM_API_KEY) and --no-auth contradict each other; pass one")
    if not api_key and not no_auth:
        raise click.UsageError(
            "no API key: pass --api-key KEY or set LAM_API_KEY, or --no-auth to serve without "
            "authentication (only on a trusted host)"
        )
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if no_auth and host not in _LOOPBACK:
        click.secho(f"warning: serving without authentication on {host}: anyone who can reach it can use it",
                    fg="yellow", err=True)

    from lam_kedro.model.policy import decode_config
    from lam_kedro.model.prefix_caches import PrefixCaches
    from lam_kedro.serving.project_conf import agent_settings
    from lam_kedro.serving.safety import SafetyConfig

    try:
        safety = SafetyConfig.from_file(safety_config) if safety_config else SafetyConfig()
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--safety-config") from err
    if allow:
        safety = safety.model_copy(update={"allowed_functions": list(dict.fromkeys(allow))})
    updates: dict[str, Any] = {k: v for k, v in {"constrained": constrained, "max_new_tokens": max_new_tokens}.items()
                               if v is not None}
    updates["functions"] = tuple(safety.allowed_functions)
    updates["prefix_cache_pool"] = prefix_caches
    try:
        decode = decode_config({**agent_settings().decode.model_dump(), **updates}, "lam serve")
    except ValueError as err:
        raise click.ClickException(str(err)) from err

    import torch
    import uvicorn

    from lam_kedro.serving.guard import StepGuard
    from lam_kedro.serving.models import ModelNotFoundError, load_lam
    from lam_kedro.serving.server import bundle_token_counter, create_app, decode_reserve

    torch.set_num_threads(threads or max(1, torch.get_num_threads() // workers))
    click.echo(f"loading {model_uri} ...", err=True)
    try:
        bundle = load_lam(model_uri, tracking_uri)
    except ModelNotFoundError as err:
        raise click.ClickException(str(err)) from err
    try:
        pool = PrefixCaches(decode.prefix_cache_pool) if decode.prefix_cache_pool else None
        replicas = serving_replicas(bundle, decode, workers, batch, pool)
    except ImportError as err:
        raise click.ClickException(
            f"constrained decoding is not available ({err}); start with --no-constrained"
        ) from err
    app = create_app(replicas, api_key=api_key or None, request_timeout_s=request_timeout or None, model_name=model_name, max_body_bytes=max_body_bytes,
                     token_counter=bundle_token_counter(bundle, decode_reserve(decode)), no_auth=no_auth,
                     guard=StepGuard(safety, repeat_ttl_s=repeat_ttl), ufo_dialect=ufo_dialect)  # type: ignore[arg-type]

    shown = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown}:{port}/v1"
    click.echo(f"serving {bundle.generation} ({model_uri}) as model {model_name!r} at {base_url}")
    batched = any(getattr(r, "batcher", None) is not None for r in replicas)
    click.echo(f"  {len(replicas)} request(s) at once" + (f", forward passes batched ({workers} worker(s) x {batch})"
                                                          if batched else "") + f", {torch.get_num_threads()} torch thread(s)")
    click.echo(f"  POST {base_url}/chat/completions   GET {base_url}/models   GET http://{shown}:{port}/health")
    rules = ", ".join(r.name for r in safety.rules) or "built-in only"
    click.echo(f"safety: sensitive actions -> {safety.mode} (rules: {rules}); allowed: "
               f"{', '.join(safety.allowed_functions)}")
    for version, title in (("v1", "UFO 1.x / 2.x"), ("v3", "UFO 3.x")):
        click.echo(f"{title} config:")
        for line in ufo_config_lines(base_url, model_name, auth=not no_auth, version=version):
            click.echo("  " + line)
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, workers=1, access_log=False, log_level=log_level)
