"""The LAM prompts' slots: their headers, written once, and the data a prompt is rendered from.

``agent.prompt`` fills its templates with these headers and returns the messages with their
``slots`` (``Messages``), so a decoder reads the request, the controls, the plan and the document
as data and never parses a prompt we rendered; ``serving.ufo_prompt`` reads a client's prompt by
the same headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ACTIONS_SLOT", "CONTROLS_SLOT", "DOCUMENT_SLOT", "HEADERS", "PLAN_ANSWER_SLOT", "PLAN_SLOT", "REQUEST_SLOT",
    "Messages", "PromptSlots",
]

#: The slot headers of the LAM prompts (paper App. C), each written here only: the templates under
#: ``agent/prompts/`` are filled with them (``agent.prompt.load_prompt``), and ``serving.ufo_prompt``
#: reads a client's prompt by them. The decoder never looks for them in a prompt we rendered (it
#: gets ``Messages.slots``); only ``model.formatting.compact_controls`` rewrites the control slot's
#: text, for a model trained on the compact view.
CONTROLS_SLOT = "<Available Control Item:>"
REQUEST_SLOT = "<User Request:>"
ACTIONS_SLOT = "<Previous Actions:>"
PLAN_SLOT = "<Previous Plans:>"
DOCUMENT_SLOT = "<Document:>"
PLAN_ANSWER_SLOT = "<Plan:>"
HEADERS = {"controls_slot": CONTROLS_SLOT, "request_slot": REQUEST_SLOT, "actions_slot": ACTIONS_SLOT,
           "plan_slot": PLAN_SLOT, "plan_answer_slot": PLAN_ANSWER_SLOT}



@dataclass(frozen=True)
class PromptSlots:
    """What a LAM prompt was rendered from, as data: a decoder reads these instead of the prompt's text.

    ``controls`` is ``None`` for a plan prompt (``plan_messages``); ``plan`` holds the
    ``<Previous Plans:>`` items as the prompt lists them (``"1. Click Bold."``); ``document`` is the
    document the observation shows, whether or not the prompt shows it.
    """

    request: str
    controls: tuple[dict[str, str], ...] | None = None
    plan: tuple[str, ...] = ()
    document: str | None = None


class Messages(list):
    """Chat messages (what a model reads) with ``slots``, the data they were rendered from.

    A list to everything else (chat templates, JSON, an LLM endpoint); ``list(messages)`` drops the slots.
    """

    def __init__(self, messages: Iterable[dict[str, str]], slots: PromptSlots) -> None:
        super().__init__(messages)
        self.slots = slots
