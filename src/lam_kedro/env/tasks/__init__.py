"""Task families of the simulated Word: what a user asks, how to check it, how a person does it.

``families()`` maps names to ``TaskFamily`` objects (>= 30, in eight categories: formatting,
paragraph, styles_lists, insert, layout, design, editing, composite, and the generic
``sequence`` that evolved data composes); ``sample_task`` makes one
concrete to a template with a seed; ``sample_tasks`` draws many.
"""

from __future__ import annotations

from lam_kedro.env.tasks.base import TaskFamily, merge_steps, numbered
from lam_kedro.env.tasks.registry import (
    CATEGORIES,
    families,
    get_family,
    make_task,
    sample_task,
    sample_tasks,
    task_id,
)
from lam_kedro.env.types import CheckResult, Task, UIStep

__all__ = [
    "CATEGORIES",
    "CheckResult",
    "Task",
    "TaskFamily",
    "UIStep",
    "families",
    "get_family",
    "make_task",
    "merge_steps",
    "numbered",
    "sample_task",
    "sample_tasks",
    "task_id",
]
