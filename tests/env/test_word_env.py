"""WordEnv: the reset/step contract, invalid actions, typing and the keyboard, termination and
reward, and robustness under a random policy."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from lam_kedro.env import episode, word_env
from lam_kedro.env.document import Document, Paragraph, Table
from lam_kedro.env.types import Action, Observation, Task, UIStep
from lam_kedro.env.ui import UNDO_DEPTH

TASK = Task("env-test", "bold_text", "Bold the word fox.", {"text": "fox"}, "env-test-doc")
CLICK = {"button": "left", "double": False}


def make_doc() -> Document:
    return Document(
        blocks=[
            Paragraph.of("The quick brown fox."),
            Table([["a", "b"], ["c", "d"]]),
            Paragraph.of("Second line here."),
        ],
        title="notes.docx",
    )


def _fox_bold(doc: Document) -> bool:
    span = doc.find("fox")
    return span is not None and doc.format_at(span).bold


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> word_env.WordEnv:
    monkeypatch.setattr(word_env, "_load_template", lambda name: make_doc())
    monkeypatch.setattr(episode, "check_task", lambda task, before, after: (_fox_bold(after), "fox bold?"))
    e = word_env.WordEnv(max_steps=30)
    e.reset(TASK, seed=0)
    return e


def label(env: word_env.WordEnv, text: str, ctype: str | None = None) -> str:
    c = env.observation().find(text, ctype)
    assert c is not None, text
    return c.label


def step(env: word_env.WordEnv, text: str, function: str = "click_input", args: dict[str, Any] | None = None,
         ctype: str | None = None, status: str = "CONTINUE") -> tuple[Observation, float, bool, bool, dict[str, Any]]:
    a = args if args is not None else (CLICK if function == "click_input" else {})
    return env.step(Action(label(env, text, ctype), function, a, status))


def keys(env: word_env.WordEnv, k: str) -> Observation:
    obs = step(env, "Document", "keyboard_input", {"keys": k})[0]
    assert obs.error is None, obs.error
    return obs


# ---------------------------------------------------------------- contract

def test_reset_returns_observation_and_info(env: word_env.WordEnv) -> None:
    obs, info = env.reset(TASK, seed=3)
    assert isinstance(obs, Observation) and obs.error is None
    assert obs.title == "notes.docx - Word"
    assert obs.document == "The quick brown fox.\n| a | b |\n| c | d |\nSecond line here."
    assert info == {"task_id": "env-test", "step": 0, "invalid_actions": 0, "result": None, "seed": 3}
    assert env.initial_document is not env.document
    assert env.initial_document.to_dict() == env.document.to_dict()


def test_templates_mapping_supplies_documents() -> None:
    env = word_env.WordEnv(templates={"mine": Document.from_paragraphs(["Only this."], title="mine.docx")})
    obs, _ = env.reset(Task("t", "bold_text", "r", {}, "mine"))
    assert obs.document == "Only this." and obs.title == "mine.docx - Word"
    env.step(Action(label(env, "Document"), "keyboard_input", {"keys": "x"}))
    assert env.reset(Task("t", "bold_text", "r", {}, "mine"))[0].document == "Only this."


def test_step_returns_five_tuple_and_counts_steps(env: word_env.WordEnv) -> None:
    obs, reward, terminated, truncated, info = step(env, "Insert", ctype="TabItem")
    assert obs.find("Page Break") is not None
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info == {"task_id": "env-test", "step": 1, "invalid_actions": 0, "result": None}


def test_plain_dict_actions_are_accepted(env: word_env.WordEnv) -> None:
    obs = env.step({"control_label": label(env, "Document"), "function": "select_text", "args": {"text": "fox"}})[0]
    assert obs.error is None and obs.selection == "fox"


def test_texts_returns_the_control_text_in_info(env: word_env.WordEnv) -> None:
    assert step(env, "Document", "texts")[4]["result"] == env.document.text()
    assert step(env, "Bold", "texts")[4]["result"] == "Bold"
    assert step(env, "Font Size", "texts")[4]["result"] == "11"


def test_status_only_action_and_summary_change_nothing(env: word_env.WordEnv) -> None:
    before = env.observation()
    obs = env.step(Action("", ""))[0]
    obs2 = step(env, "Document", "summary", {"text": "looked around"})[0]
    assert obs == before == obs2


# ---------------------------------------------------------------- invalid actions

INVALID: list[tuple[str, Any, str]] = [
    ("unknown label", Action("999", "click_input", CLICK), "no control labelled '999'"),
    ("unknown function", Action("1", "drag", {}), "unknown function 'drag'"),
    ("unsupported function", Action("1", "set_edit_text", {"text": "x"}), "set_edit_text is not supported by control 1"),
    ("missing arg", "Document:select_text:{}", "needs the arg 'text'"),
    ("mistyped arg", "Document:select_table:{'number': '1'}", "'number' must be int"),
    ("unexpected arg", "Document:texts:{'x': 1}", "unexpected arg 'x'"),
    ("text not found", "Document:select_text:{'text': 'zebra'}", "'zebra' is not in the document"),
    ("table out of range", "Document:select_table:{'number': 5}", "no table 5"),
    ("unknown key", "Document:keyboard_input:{'keys': '{FLY}'}", "unknown key token {FLY}"),
    ("unsupported shortcut", "Document:keyboard_input:{'keys': '^q'}", "shortcut ^q"),
    ("bad table size", "Document:insert_table:{'rows': 0, 'columns': 2}", "rows and columns"),
    ("bad field value", "Font Size:set_edit_text:{'text': 'big'}", "Font Size expects a number"),
    ("empty clipboard", "Paste:click_input:{}", "clipboard is empty"),
    ("nothing to undo", "Undo:click_input:{}", "nothing to undo"),
    ("malformed dict", {"control_label": "1"}, "needs 'control_label' and 'function'"),
    ("dict with bad key", {"control_label": "1", "function": "texts", "foo": 1}, "unknown action key"),
    ("bad status", Action("1", "texts", {}, status="DONE"), "unknown status 'DONE'"),
    ("not an action", 42, "must be an Action or a dict"),
]


@pytest.mark.parametrize(("name", "action", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_actions_are_errors_not_exceptions(env: word_env.WordEnv, name: str, action: Any, message: str) -> None:
    if isinstance(action, str):
        text, function, args = action.split(":", 2)
        action = Action(label(env, text), function, eval(args))  # noqa: S307 - literal test data
    before = env.observation()
    doc_before = env.document.to_dict()
    obs, reward, terminated, truncated, info = env.step(action)
    assert obs.error is not None and message in obs.error, obs.error
    assert info["invalid_actions"] == 1
    assert (obs.controls, obs.document, obs.selection) == (before.controls, before.document, before.selection)
    assert env.document.to_dict() == doc_before
    assert env.observation().error is None  # the error belongs to that one step


def test_closed_document_rejects_actions(env: word_env.WordEnv) -> None:
    step(env, "File", ctype="TabItem")
    step(env, "Close")
    obs, *_, info = step(env, "Home", ctype="TabItem")
    assert obs.error is not None and "the document is closed" in obs.error
    assert info["invalid_actions"] == 1
    assert step(env, "Document", "texts")[0].error is None


def test_invalid_dialog_value_keeps_dialog_open(env: word_env.WordEnv) -> None:
    step(env, "Paragraph Settings")
    obs = step(env, "Before", "set_edit_text", {"text": "-5"})[0]
    assert obs.error is not None and "'Before' must be between 0 and 1584" in obs.error
    step(env, "Alignment", "keyboard_input", {"keys": "x"})
    obs = step(env, "OK")[0]
    assert obs.error is not None and "Alignment" in obs.error
    assert env.ui.dialog == "Paragraph"


def test_failed_edit_rolls_back(env: word_env.WordEnv) -> None:
    step(env, "Insert", ctype="TabItem")
    step(env, "New Comment")  # nothing selected: Post must fail and change nothing
    step(env, "Comment Text", "set_edit_text", {"text": "hi"})
    obs = step(env, "Post")[0]
    assert obs.error is not None and "select the text" in obs.error
    assert env.document.comments == [] and not env.ui.undo_stack


# ---------------------------------------------------------------- typing and the keyboard

def test_typing_replaces_selection_or_inserts_at_caret(env: word_env.WordEnv) -> None:
    step(env, "Document", "select_text", {"text": "quick"})
    step(env, "Document", "set_edit_text", {"text": "slow"})
    assert env.document.paragraphs()[0].text == "The slow brown fox."
    keys(env, "{END} Yes")
    assert env.document.paragraphs()[0].text == "The slow brown fox. Yes"
    keys(env, "{HOME}>")
    assert env.document.paragraphs()[0].text == ">The slow brown fox. Yes"


def test_enter_backspace_delete_and_page_break(env: word_env.WordEnv) -> None:
    step(env, "Document", "select_text", {"text": "brown"})
    keys(env, "{LEFT}{ENTER}")
    assert [p.text for p in env.document.paragraphs()][:2] == ["The quick ", "brown fox."]
    keys(env, "{BACKSPACE}")
    assert env.document.paragraphs()[0].text == "The quick brown fox."
    keys(env, "{DELETE}")
    assert env.document.paragraphs()[0].text == "The quick rown fox."
    keys(env, "^{ENTER}")
    assert env.document.page_breaks() == 1


def test_empty_selection_shortcut_sets_caret_format_for_typing(env: word_env.WordEnv) -> None:
    keys(env, "{END} ^bloud^b quiet")
    doc = env.document
    assert doc.format_at(doc.find("loud")).bold
    assert not doc.format_at(doc.find("quiet")).bold
    assert not doc.format_at(doc.find("fox")).bold


@pytest.mark.parametrize(("shortcut", "attr", "value"), [
    ("^b", "bold", True), ("^i", "italic", True), ("^u", "underline", True),
])
def test_format_shortcuts(env: word_env.WordEnv, shortcut: str, attr: str, value: Any) -> None:
    step(env, "Document", "select_text", {"text": "fox"})
    keys(env, shortcut)
    assert getattr(env.document.format_at(env.document.find("fox")), attr) == value


@pytest.mark.parametrize(("shortcut", "alignment"), [("^e", "center"), ("^l", "left"), ("^r", "right"), ("^j", "justify")])
def test_alignment_shortcuts(env: word_env.WordEnv, shortcut: str, alignment: str) -> None:
    step(env, "Document", "select_text", {"text": "line"})
    keys(env, shortcut)
    assert env.document.paragraphs()[1].fmt.alignment == alignment
    assert env.document.paragraphs()[0].fmt.alignment is None


def test_select_all_undo_find_and_save_shortcuts(env: word_env.WordEnv) -> None:
    assert keys(env, "^a").selection == env.document.text()
    keys(env, "x")
    assert env.document.text() == "x" and not env.ui.saved
    keys(env, "^z")
    assert env.document.text() == make_doc().text()
    keys(env, "x^s")
    assert env.ui.saved
    keys(env, "^h")
    assert env.ui.dialog == "Find and Replace"


def test_undo_stack_is_bounded(env: word_env.WordEnv) -> None:
    env.max_steps = 100
    for _ in range(UNDO_DEPTH + 5):
        keys(env, "y")
    for _ in range(UNDO_DEPTH):
        keys(env, "^z")
    assert env.document.paragraphs()[0].text == "y" * 5 + "The quick brown fox."
    assert "nothing to undo" in (step(env, "Undo")[0].error or "")


def test_select_table_insert_table_and_scroll(env: word_env.WordEnv) -> None:
    obs = step(env, "Document", "select_table", {"number": 1})[0]
    assert obs.selection == "| a | b |\n| c | d |"
    step(env, "Document", "select_text", {"text": "Second"})
    step(env, "Document", "insert_table", {"rows": 2, "columns": 3})
    tables = env.document.tables()
    assert len(tables) == 2 and (tables[1].n_rows, tables[1].n_cols) == (2, 3)
    assert env.document.summary_text().endswith("Second line here.\n|  |  |  |\n|  |  |  |\n")
    before = env.document.version
    step(env, "Document", "wheel_mouse_input", {"wheel_dist": -5})
    assert env.ui.scroll_offset == 5 and env.document.version == before
    assert "not supported" in (step(env, "Bold", "wheel_mouse_input", {"wheel_dist": 1})[0].error or "")


def test_save_writes_docx_outside_step(env: word_env.WordEnv, tmp_path: Path) -> None:
    pytest.importorskip("docx")
    from lam_kedro.env.docx_io import load_docx

    step(env, "Document", "select_text", {"text": "fox"})
    step(env, "Bold")
    env.save(tmp_path / "out.docx")
    doc = load_docx(tmp_path / "out.docx")
    assert doc.format_at(doc.find("fox")).bold


# ---------------------------------------------------------------- termination and reward

def test_finish_scores_with_the_checker(env: word_env.WordEnv) -> None:
    step(env, "Document", "select_text", {"text": "fox"})
    step(env, "Bold")
    obs, reward, terminated, truncated, info = step(env, "Document", "summary", {"text": "done"}, status="FINISH")
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["success"] is True and info["check_reason"] == "fox bold?"
    obs, *_, info = env.step(Action("1", "texts"))
    assert "episode has ended" in (obs.error or "")


def test_fail_status_terminates_without_reward(env: word_env.WordEnv) -> None:
    _, reward, terminated, _, info = env.step(Action("", "", {}, status="FAIL"))
    assert (reward, terminated, info["success"]) == (0.0, True, False)


def test_truncation_at_max_steps(env: word_env.WordEnv) -> None:
    env.max_steps = 3
    results = [env.step(Action("", "")) for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True]
    assert not any(r[2] for r in results) and "success" in results[-1][4]


def test_random_policy_never_raises(env: word_env.WordEnv) -> None:
    rng = random.Random(1)
    env.max_steps = 40
    texts = ["Hello ", "{ENTER}", "{BACKSPACE}", "^b", "^z", "{HOME}", "+{END}", "^{ENTER}", "12", "^a", "{ESC}", "{BAD}"]
    for _ in range(2000):
        obs = env.observation()
        c = rng.choice(obs.controls)
        fn = rng.choice(["click_input"] * 6 + ["set_edit_text", "keyboard_input", "select_text", "select_table",
                                                "insert_table", "texts"])
        args: dict[str, Any] = {
            "click_input": CLICK, "set_edit_text": {"text": rng.choice(["12", "Arial", "x", "1.5", ""])},
            "keyboard_input": {"keys": rng.choice(texts)}, "select_text": {"text": rng.choice(["fox", "line", "zz"])},
            "select_table": {"number": rng.randint(0, 3)}, "insert_table": {"rows": 2, "columns": 2}, "texts": {},
        }[fn]
        status = "FINISH" if rng.random() < 0.01 else "CONTINUE"
        _, reward, terminated, truncated, _ = env.step(Action(c.label, fn, args, status))
        assert reward in (0.0, 1.0)
        if terminated or truncated:
            env.reset(TASK, seed=0)


# ---------------------------------------------------------------- real tasks (once tasks/ and templates land)

def _resolve(obs: Observation, s: UIStep) -> Action:
    c = obs.find(s.control_text, s.control_type)
    assert c is not None, f"{s.control_text!r} ({s.control_type}) not visible: {[x.control_text for x in obs.controls]}"
    return Action(c.label, s.function, dict(s.args), s.status)


def test_every_family_scripted_solution_succeeds() -> None:
    templates = pytest.importorskip("lam_kedro.env.templates")
    tasks = pytest.importorskip("lam_kedro.env.tasks")
    env = word_env.WordEnv(max_steps=60)
    names = [t.name for t in templates.builtin_templates()]
    failures = []
    for name, fam in tasks.families().items():
        task = next((t for t in (tasks.sample_task(name, tpl, seed=0) for tpl in names) if t is not None), None)
        if task is None:
            continue
        obs, _ = env.reset(task, seed=0)
        info: dict[str, Any] = {}
        for s in fam.solution(task.params):
            obs, _, terminated, _, info = env.step(_resolve(obs, s))
            assert obs.error is None, f"{name}: {s} -> {obs.error}"
        if "success" not in info:
            obs, _, _, _, info = env.step(Action("", "", {}, "FINISH"))
        if not info["success"]:
            failures.append(f"{name}: {info['check_reason']}")
    assert not failures, failures
