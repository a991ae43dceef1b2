"""The `lam` console script (not `cli.py`: Kedro reserves that name for overriding `kedro run`).

Each subcommand's module is imported only when that subcommand runs, so `lam --help` and
`lam env ...` answer without loading the model stack that `lam agent` and `lam serve` need.
"""

from __future__ import annotations

from importlib import import_module

import click

#: name -> (``module:attribute`` of the click command, the one line ``lam --help`` shows for it:
#: the first line of the command's docstring, checked by tests/test_console.py).
COMMANDS: dict[str, tuple[str, str]] = {
    "agent": ("lam_kedro.serving.agent_cli:agent_command",
              "Run a LAM on one task in the simulated Word or LibreOffice Writer: every step is printed, the result saved."),
    "env": ("lam_kedro.serving.cli:env_group", "The simulated Word environment."),
    "serve": ("lam_kedro.serving.serve_cli:serve_command",
              "Serve a LAM as an OpenAI-compatible chat-completions endpoint (UFO's AppAgent model)."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[cmd_name][0].partition(":")
        return getattr(import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands with their lines from ``COMMANDS``, as click lays them out, none imported."""
        limit = formatter.width - 6 - max(map(len, COMMANDS))
        rows = [(name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
                for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lam-kedro")
def main() -> None:
    """lam-kedro: build, inspect and serve Large Action Models."""


if __name__ == "__main__":
    main()
