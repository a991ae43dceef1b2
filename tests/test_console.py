"""`lam`: a subcommand's module is imported when it runs, so `lam --help` and `lam env ...` skip the model stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from lam_kedro.console import COMMANDS, main

#: What `lam agent` and `lam serve` need and the rest of `lam` does not.
MODEL_STACK = {"torch", "transformers", "trl", "peft", "mlflow", "kedro", "fastapi", "uvicorn"}


def _modules_after(args: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after ``lam <args>``."""
    code = (
        "import json, sys\n"
        "from lam_kedro.console import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return set(json.loads(proc.stdout.splitlines()[-1]))


def test_lam_help_imports_no_subcommand():
    loaded = _modules_after(["--help"])
    assert not {m.split(".")[0] for m in loaded} & MODEL_STACK
    assert not [m for m in loaded if m.startswith(("lam_kedro.serving", "lam_kedro.env", "lam_kedro.agent"))]


@pytest.mark.parametrize("args", [["env", "--help"], ["env", "families"], ["env", "templates"],
                                  ["env", "demo", "--family", "bold_text"]])
def test_lam_env_leaves_the_model_stack_alone(args: list[str]):
    loaded = {m.split(".")[0] for m in _modules_after(args)}
    assert not loaded & MODEL_STACK, sorted(loaded & MODEL_STACK)


def test_lam_help_lists_each_command_with_its_docstring_line():
    shown = CliRunner().invoke(main, ["--help"], terminal_width=200).output
    for name, (_, line) in COMMANDS.items():
        command = main.get_command(None, name)
        assert command.name == name
        assert command.help.splitlines()[0] == line, f"COMMANDS['{name}'] differs from its docstring"
        assert f"{name} {line}" in " ".join(shown.split()), shown


def test_an_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(main, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output
