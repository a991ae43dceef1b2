"""Action coercion, argument validation and pywinauto key parsing."""

from __future__ import annotations

import pytest

from lam_kedro.env.action_table import FUNCTIONS, SIGNATURES
from lam_kedro.env.actions import (
    ActionError,
    Key,
    check_function,
    coerce_action,
    parse_keys,
    validate_args,
)
from lam_kedro.env.controls import Spec
from lam_kedro.env.types import Action


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("hello world", (Key("", "", "hello world"),)),
        ("^b", (Key("^", "b"),)),
        ("^B", (Key("^", "b"),)),
        ("{ENTER}", (Key("", "ENTER"),)),
        ("~", (Key("", "ENTER"),)),
        ("^{ENTER}", (Key("^", "ENTER"),)),
        ("{BACKSPACE 3}", (Key("", "BACKSPACE"),) * 3),
        ("{BS}{DEL}{ESCAPE}", (Key("", "BACKSPACE"), Key("", "DELETE"), Key("", "ESC"))),
        ("+{END}", (Key("+", "END"),)),
        ("+a", (Key("", "", "A"),)),
        ("+(ab)c", (Key("", "", "ABc"),)),
        ("{{}x{}}", (Key("", "", "{x}"),)),
        ("{+}{^}{%}{~}", (Key("", "", "+^%~"),)),
        ("a{SPACE}b", (Key("", "", "a b"),)),
        ("{HOME}Title: ", (Key("", "HOME"), Key("", "", "Title: "))),
        ("^a^z", (Key("^", "a"), Key("^", "z"))),
        ("", ()),
    ],
)
def test_parse_keys(keys: str, expected: tuple[Key, ...]) -> None:
    assert parse_keys(keys) == expected


@pytest.mark.parametrize("keys", ["{NO_SUCH_KEY}", "{ENTER", "^", "^(ab", "{ENTER x}"])
def test_parse_keys_rejects_bad_tokens_by_name(keys: str) -> None:
    with pytest.raises(ActionError, match="keys"):
        parse_keys(keys)


def test_parse_keys_is_cached() -> None:
    assert parse_keys("^b{ENTER}") is parse_keys("^b{ENTER}")


def test_validate_args_fills_defaults_and_checks_types() -> None:
    assert validate_args("click_input", {}) == {"button": "left", "double": False}
    assert validate_args("insert_table", {"rows": 2, "columns": 3}) == {"rows": 2, "columns": 3}
    with pytest.raises(ActionError, match="'text'"):
        validate_args("select_text", {})
    with pytest.raises(ActionError, match="'number' must be int"):
        validate_args("select_table", {"number": "1"})
    with pytest.raises(ActionError, match="'number' must be int"):
        validate_args("select_table", {"number": True})
    with pytest.raises(ActionError, match="unexpected arg 'foo'"):
        validate_args("texts", {"foo": 1})
    with pytest.raises(ActionError, match="'button'"):
        validate_args("click_input", {"button": "middle"})


def test_every_function_has_a_signature() -> None:
    assert set(SIGNATURES) == set(FUNCTIONS)


def test_check_function_names_the_control_and_type() -> None:
    spec = Spec("Bold", "Button", "toggle", "bold")
    check_function("click_input", "12", spec)
    with pytest.raises(ActionError, match=r"set_edit_text is not supported by control 12 \('Bold', Button\)"):
        check_function("set_edit_text", "12", spec)
    with pytest.raises(ActionError, match="unknown function 'fly'"):
        check_function("fly", "12", spec)


def test_coerce_action_accepts_dicts_and_rejects_malformed_ones() -> None:
    a = coerce_action({"control_label": "3", "function": "texts"})
    assert a == Action("3", "texts")
    for bad, match in [
        ({"control_label": "3"}, "needs"),
        ({"control_label": "3", "function": "texts", "colour": 1}, "unknown action key"),
        ({"control_label": "3", "function": "texts", "args": []}, "args must be a dict"),
        ({"control_label": "3", "function": "texts", "status": "DONE"}, "unknown status"),
        ("click 3", "Action or a dict"),
    ]:
        with pytest.raises(ActionError, match=match):
            coerce_action(bad)
