"""The `lam` console script (not `cli.py`: Kedro reserves that name for overriding `kedro run`)."""

from __future__ import annotations

import click

from lam_kedro.serving.agent_cli import agent_command
from lam_kedro.serving.cli import env_group
from lam_kedro.serving.serve_cli import serve_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lam-kedro")
def main() -> None:
    """lam-kedro: build, inspect and serve Large Action Models."""


main.add_command(env_group)
main.add_command(agent_command)
main.add_command(serve_command)

if __name__ == "__main__":
    main()
