"""UFO as a client of ``lam serve``, in both dialects, written from UFO's own code (not a test module).

Requests are built from UFO's AppAgent templates in ``../shared/interop/ufo/<version>/app_agent.yaml``
(``system`` / ``system_nonvisual`` and ``user``, filled as ``AppAgentPrompter`` fills them) and
answers are checked against UFO's response contracts, kept here:

- UFO 1.x (v1.2.1): ``json_parser`` -> ``response_to_dict`` -> the AppAgent reads nine CamelCase
  keys (``UFO1_SCHEMA``, a JSON Schema of what ``AppAgentProcessor`` indexes);
- UFO 3.x (v3.0.5): ``AppAgentResponse.model_validate`` (``ufo/agents/processors/schemas/
  response_schema.py``, ``actions.py``, ``target.py``; the pydantic models below are those
  classes, with ``aip.messages.Result`` reduced to its fields).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from pydantic import BaseModel, Field

from lam_kedro.env import Action, Observation

SHARED_UFO = Path(__file__).resolve().parents[2].parent / "shared" / "interop" / "ufo"

# -- UFO 1.x: the keys AppAgentProcessor reads from response_to_dict(json_parser(text)) -----------
UFO1_KEYS = ["Observation", "Thought", "ControlLabel", "ControlText", "Function", "Args", "Status", "Plan",
             "Comment"]
UFO1_STATUSES = ["CONTINUE", "FINISH", "FAIL", "CONFIRM", "PENDING"]
UFO1_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": UFO1_KEYS,
    "additionalProperties": False,
    "properties": {
        "Observation": {"type": "string"},
        "Thought": {"type": "string"},
        "ControlLabel": {"type": "string"},
        "ControlText": {"type": "string"},
        "Function": {"type": "string"},
        "Args": {"type": "object"},
        "Status": {"enum": UFO1_STATUSES},
        "Plan": {"type": "array", "items": {"type": "string"}},
        "Comment": {"type": "string"},
    },
}


def ufo1_json_parser(text: str) -> dict[str, Any]:
    """``ufo.utils.json_parser``: strip a markdown fence, then ``json.loads``."""
    if "```json" in text:
        text = text.split("```json")[1].split("```")[0]
    return json.loads(text.strip())


def check_ufo1(content: str) -> dict[str, Any]:
    answer = ufo1_json_parser(content)
    jsonschema.validate(answer, UFO1_SCHEMA)
    if answer["Function"]:  # UFO looks the control up by label and checks the text matches
        assert answer["ControlLabel"] and answer["ControlText"], answer
    return answer


# -- UFO 3.x: its pydantic response models (v3.0.5), as written there -----------------------------
class Result(BaseModel):  # aip.messages.Result, the fields the response uses
    status: str
    error: str | None = None
    result: Any = None


class TargetInfo(BaseModel):
    kind: str
    name: str
    id: str | None = None
    type: str | None = None
    rect: list[int] | None = None


class ActionCommandInfo(BaseModel):
    function: str = ""
    status: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)
    target: TargetInfo | None = None
    result: Result = Field(default_factory=lambda: Result(status="none"))
    action_string: str = ""
    action_representation: str = ""


class AppAgentResponse(BaseModel):
    observation: str
    thought: str
    plan: list[str] | None = None
    comment: str | None = None
    action: list[ActionCommandInfo] | ActionCommandInfo | None = None
    save_screenshot: dict[str, Any] | None = {}
    result: Any | None = None


UFO3_KEYS = ["observation", "thought", "action", "plan", "comment", "save_screenshot", "result"]
UFO3_STATUSES = ["CONTINUE", "FINISH", "FAIL", "CONFIRM"]


def check_ufo3(content: str) -> AppAgentResponse:
    data = json.loads(content)
    assert list(data) == UFO3_KEYS, list(data)  # every field of the model, nothing else
    response = AppAgentResponse.model_validate(data)
    action = response.action
    assert isinstance(action, ActionCommandInfo) and action.status in UFO3_STATUSES, data
    if action.function:  # the control is named by UFO3's id and name
        assert action.arguments.get("id") and "name" in action.arguments, data
    return response


# -- requests, from UFO's templates -----------------------------------------------------------------
def template(version: str) -> dict[str, str]:
    return yaml.safe_load((SHARED_UFO / version / "app_agent.yaml").read_text(encoding="utf-8"))


_APIS = ("- click_input: click a control item (button, double)\n- set_edit_text: set text (text)\n"
         "- keyboard_input: keys (keys)\n- select_text: select text (text)\n")


def ufo_messages(version: str, request: str, obs: Observation, history: list[dict], plan: list[str],
                 subtask: str | None = None, visual: bool = False, screenshots: int = 0,
                 screenshot_bytes: int = 0) -> list[dict]:
    """What UFO's AppAgent sends: the system prompt, the blackboard, then the ``user`` template.

    UFO 1.x lists controls as ``{label, control_text, control_type}``; UFO3 as ``{id, name, type}``.
    ``screenshots`` image parts of ``screenshot_bytes`` base64 characters each are added (visual mode).
    """
    t = template(version)
    system = (t["system"] if visual else t["system_nonvisual"]).format(apis=_APIS, examples="")
    if version.startswith("v3"):
        controls = [{"id": c.label, "name": c.control_text, "type": c.control_type} for c in obs.controls]
    else:
        controls = [c.to_dict() for c in obs.controls]
    user = t["user"].format(
        retrieved_docs="", control_item=json.dumps(controls), user_request=request, prev_subtask="[]",
        subtask=subtask or request, last_success_actions="[]", current_application=obs.title,
        host_message="[]", prev_plan=json.dumps(plan))
    parts: list[dict[str, Any]] = []
    for _ in range(screenshots):
        parts.append({"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * screenshot_bytes}})
    if history:
        parts += [{"type": "text", "text": "[Blackboard:]"},
                  {"type": "text", "text": f"[Step Trajectories Completed Previously:]\n {json.dumps(history)}"}]
    parts.append({"type": "text", "text": user})
    return [{"role": "system", "content": system}, {"role": "user", "content": parts}]


def to_action(version: str, content: str) -> tuple[Action, dict[str, Any], list[str]]:
    """The answer as the environment's ``Action``, the history entry UFO records, and the next plan."""
    if version.startswith("v3"):
        r = check_ufo3(content)
        a = r.action
        assert isinstance(a, ActionCommandInfo)
        args = {k: v for k, v in a.arguments.items() if k not in ("id", "name")}
        label = str(a.arguments.get("id", ""))
        status = "FINISH" if a.status == "FINISH" else ("FAIL" if a.status == "FAIL" else "CONTINUE")
        entry = {"function": a.function, "arguments": a.arguments, "status": a.status,
                 "result": {"status": "success"}}
        return Action(label, a.function, args, status), entry, list(r.plan or [])
    d = check_ufo1(content)
    status = d["Status"] if d["Status"] in ("FINISH", "FAIL") else "CONTINUE"
    entry = {"Function": d["Function"], "Args": d["Args"], "ControlLabel": d["ControlLabel"],
             "ControlText": d["ControlText"], "Status": d["Status"]}
    return Action(d["ControlLabel"], d["Function"], d["Args"], status), entry, list(d["Plan"])


def status_of(version: str, content: str) -> str:
    if version.startswith("v3"):
        action = check_ufo3(content).action
        assert isinstance(action, ActionCommandInfo)
        return action.status
    return check_ufo1(content)["Status"]


def comment_of(version: str, content: str) -> str:
    data = json.loads(content)
    return str(data.get("comment" if version.startswith("v3") else "Comment") or "")


_WS = re.compile(r"\s+")
