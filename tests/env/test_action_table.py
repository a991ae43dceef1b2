"""The action table: every function has its handlers, every handler is named by the table, and the
views (signatures, valid control types, read-only) are the table's columns."""

from __future__ import annotations

import inspect

from lam_kedro.env.action_table import (
    ACTIONS,
    ARG_CHOICES,
    BACKENDS,
    FUNCTIONS,
    READ_ONLY,
    REQUIRED,
    SIGNATURES,
    VALID_ON,
)
from lam_kedro.env.ui import WordUI
from lam_kedro.env.uia.dispatch import HANDLERS
from lam_kedro.env.writer.dispatch import HANDLERS as WRITER_HANDLERS


def _word_handlers() -> dict[str, object]:
    return {name: m for name, m in vars(WordUI).items() if getattr(m, "action_handler", False)}


def test_the_functions_are_ufos_app_agent_functions_in_prompt_order() -> None:
    assert FUNCTIONS == (
        "click_input", "set_edit_text", "keyboard_input", "select_text", "select_table", "insert_table",
        "wheel_mouse_input", "texts", "summary",
    )
    assert all(name == spec.name for name, spec in ACTIONS.items())


def test_every_function_has_a_handler_for_each_backend_it_claims() -> None:
    word = _word_handlers()
    for name, spec in ACTIONS.items():
        assert set(spec.handlers) <= set(BACKENDS), name
        if "word" in spec.handlers:
            method = word.get(spec.handlers["word"])
            assert method is not None, f"{name}: WordUI.{spec.handlers['word']} is missing or not @action_handler"
            params = list(inspect.signature(method).parameters)
            assert params == ["self", "spec", *(a.name for a in spec.args)], name  # called as (spec, **args)
        if "uia" in spec.handlers:
            assert spec.handlers["uia"] in HANDLERS, name
        if "writer" in spec.handlers:
            assert spec.handlers["writer"] in WRITER_HANDLERS, name


def test_every_handler_is_named_by_the_table() -> None:
    assert set(_word_handlers()) == {s.handlers["word"] for s in ACTIONS.values() if "word" in s.handlers}
    assert set(HANDLERS) == {s.handlers["uia"] for s in ACTIONS.values() if "uia" in s.handlers}
    assert set(WRITER_HANDLERS) == {s.handlers["writer"] for s in ACTIONS.values() if "writer" in s.handlers}


def test_every_function_runs_in_every_backend() -> None:
    assert all(set(spec.handlers) == set(BACKENDS) for spec in ACTIONS.values())


def test_the_views_are_the_tables_columns() -> None:
    assert list(SIGNATURES) == list(VALID_ON) == list(ACTIONS)
    for name, spec in ACTIONS.items():
        assert list(SIGNATURES[name]) == [a.name for a in spec.args]
        assert VALID_ON[name] == spec.valid_on
        assert (name in READ_ONLY) == spec.read_only
    assert set(READ_ONLY) == {"texts", "summary"}
    assert "fly" not in READ_ONLY and 3 not in READ_ONLY
    assert dict(ARG_CHOICES) == {"button": ("left", "right")}
    assert SIGNATURES["click_input"]["double"].default is False
    assert SIGNATURES["insert_table"]["rows"].default is REQUIRED
    assert VALID_ON["click_input"] is None and VALID_ON["select_text"] == frozenset({"Document"})
