"""The optional LLM evolver: a served model rewords an evolved request the way a person would.

The paper lets GPT-4o evolve tasks freely; here the operators decide *what* the task is (so it
stays executable and checkable) and the model only decides *how it is said*. A rewrite is kept
only if it keeps every quoted value and number and stays within the extra-word bound; otherwise
the operator's own wording stays (and the stats count it). An unreachable endpoint is an error
naming its URL, never a silent fallback.
"""

from __future__ import annotations

from collections import Counter

from lam_kedro.agent.llm_client import ChatClient
from lam_kedro.agent.schema import TaskPlan
from lam_kedro.pipelines.task_plans.text import extra_words, numbers, quoted

SYSTEM = (
    "You rewrite requests that a user gives to Microsoft Word. Keep the meaning exactly: every "
    "quoted text, number, color, font and setting must stay as it is. Make it sound like a real "
    "user wrote it. Answer with the rewritten request only, on one line."
)
USER = "Original request: {parent}\nHarder version: {child}\nRewrite the harder version in at most {limit} words."


class LLMRewriter:
    """Rewords ``child.task`` through ``client``; ``stats`` counts kept and refused rewrites."""

    def __init__(self, client: ChatClient, max_extra_words: int = 20) -> None:
        self.client = client
        self.max_extra = max_extra_words
        self.stats: Counter[str] = Counter()

    def accept(self, parent: str, child: str, rewrite: str) -> str | None:
        """Why ``rewrite`` is refused, or ``None`` when it keeps the child's values and length."""
        if not rewrite or "\n" in rewrite:
            return "empty or multi-line"
        missing = [q for q in quoted(child) if q not in rewrite] + [n for n in numbers(child) if n not in rewrite]
        if missing:
            return f"lost values {missing}"
        if extra_words(parent, rewrite) > self.max_extra:
            return f"more than {self.max_extra} extra words"
        return None

    def rewrite(self, parent: TaskPlan, child: TaskPlan) -> TaskPlan:
        limit = len(parent.task.split()) + self.max_extra
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": USER.format(parent=parent.task, child=child.task, limit=limit)}]
        text = self.client.complete(messages).strip().strip('`').strip()
        refusal = self.accept(parent.task, child.task, text)
        if refusal is not None:
            self.stats[f"refused: {refusal.split(' [')[0]}"] += 1
            return child
        self.stats["kept"] += 1
        return child.model_copy(update={"task": text, "operator": f"{child.operator}+llm"})
