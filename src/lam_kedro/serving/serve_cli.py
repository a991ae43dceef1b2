"""`lam serve`: the LAM behind an OpenAI-compatible endpoint that UFO (or any OpenAI client) can call.

The model decodes with ``training.policy.lam_generate`` from the decode config the evaluation
measured (``evaluation.generate`` of the project's ``conf/base/parameters_evaluation.yml``, else
the defaults); ``--constrained`` and ``--max-new-tokens`` override single keys.
"""

from __future__ import annotations

import logging
import sys

import click

from lam_kedro.serving.models import DEFAULT_MODEL_URI
from lam_kedro.serving.server import DEFAULT_MAX_BODY_BYTES

__all__ = ["serve_command", "ufo_config_lines"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def ufo_config_lines(base_url: str, model_name: str, auth: bool) -> list[str]:
    """The ``APP_AGENT`` block of UFO's config.yaml that points UFO at this server."""
    key = '"<your LAM_API_KEY>"' if auth else '"EMPTY"  # the server runs with --no-auth'
    return [
        "APP_AGENT:",
        "  VISUAL_MODE: False  # the LAM reads the control list, not screenshots",
        '  API_TYPE: "openai"',
        f'  API_BASE: "{base_url}"',
        f"  API_KEY: {key}",
        f'  API_MODEL: "{model_name}"',
    ]


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
              help="decode actions under the action grammar (training.decoding) or plainly "
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
def serve_command(model_uri: str, host: str, port: int, api_key: str | None, no_auth: bool,
                  constrained: bool | None, max_body_bytes: int, max_new_tokens: int | None, tracking_uri: str | None, model_name: str,
                  log_level: str) -> None:
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

    from lam_kedro.serving.agent_cli import evaluation_settings
    from lam_kedro.training.policy import decode_config

    updates = {k: v for k, v in {"constrained": constrained, "max_new_tokens": max_new_tokens}.items()
               if v is not None}
    try:
        decode = decode_config({**evaluation_settings().decode.model_dump(), **updates}, "lam serve")
    except ValueError as err:
        raise click.ClickException(str(err)) from err

    import uvicorn

    from lam_kedro.serving.models import ModelNotFoundError, lam_generate, load_lam
    from lam_kedro.serving.server import bundle_token_counter, create_app

    click.echo(f"loading {model_uri} ...", err=True)
    try:
        bundle = load_lam(model_uri, tracking_uri)
    except ModelNotFoundError as err:
        raise click.ClickException(str(err)) from err
    try:
        generate = lam_generate(bundle, decode)
    except ImportError as err:
        raise click.ClickException(
            f"constrained decoding is not available ({err}); start with --no-constrained"
        ) from err
    app = create_app(generate, api_key=api_key or None, model_name=model_name, max_body_bytes=max_body_bytes,
                     token_counter=bundle_token_counter(bundle), no_auth=no_auth)

    shown = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown}:{port}/v1"
    click.echo(f"serving {bundle.generation} ({model_uri}) as model {model_name!r} at {base_url}")
    click.echo(f"  POST {base_url}/chat/completions   GET {base_url}/models   GET http://{shown}:{port}/health")
    click.echo("UFO config (ufo/config/config.yaml):")
    for line in ufo_config_lines(base_url, model_name, auth=not no_auth):
        click.echo("  " + line)
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, workers=1, access_log=False, log_level=log_level)
