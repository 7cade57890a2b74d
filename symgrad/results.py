"""Verdicts and the behaviour every result shares.

One vocabulary for every check (``Status``) and one small mixin (``Result``) that gives each
frozen result dataclass ``raise_if_failed()``, JSON, text and Markdown renderings and Jupyter
display.  A concrete result implements two methods: ``to_dict()`` (plain JSON-ready data with
the keys of DESIGN.md) and ``to_text()``; Markdown defaults to the text in a code block.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Self

from symgrad.errors import CheckFailed

__all__ = ["Result", "Status", "combine"]


class Status(StrEnum):
    """The verdict of a check.

    ``pass``: the check agrees within its tolerance or the expected order is observed.
    ``fail``: a mismatch or a wrong order.
    ``inconclusive``: the data cannot decide (round-off floor reached too early, too few levels).
    ``exact``: errors sit at the precision floor (e.g. a quadratic under a second-order scheme).
    """

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    EXACT = "exact"

    @property
    def ok(self) -> bool:
        """True for ``pass`` and ``exact``: what exit code 0 means."""
        return self in (Status.PASS, Status.EXACT)


def combine(statuses: Iterable[Status]) -> Status:
    """Overall verdict: any fail fails, else any inconclusive, else exact only if all exact."""
    seen = set(statuses)
    if not seen:
        return Status.INCONCLUSIVE
    for worst in (Status.FAIL, Status.INCONCLUSIVE, Status.PASS):
        if worst in seen:
            return worst
    return Status.EXACT


class Result:
    """Mixin for result dataclasses that carry ``status`` and ``reason``."""

    status: Status
    reason: str

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - every result overrides it
        """Plain, JSON-ready data."""
        raise NotImplementedError

    def to_text(self) -> str:
        """A plain-text rendering for people."""
        return f"{self.status}: {self.reason}"

    def to_markdown(self) -> str:
        """A Markdown rendering (by default the text rendering in a code block)."""
        return f"**{self.status}**: {self.reason}\n\n```text\n{self.to_text()}\n```\n"

    def to_json(self, indent: int | None = 2) -> str:
        """The ``to_dict()`` data as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent)

    @property
    def ok(self) -> bool:
        """True when the verdict is ``pass`` or ``exact``."""
        return self.status.ok

    def raise_if_failed(self) -> Self:
        """Return ``self`` when the verdict is pass or exact, else raise ``CheckFailed``."""
        if not self.status.ok:
            msg = f"{self.status}: {self.reason}\n{self.to_text()}"
            raise CheckFailed(msg)
        return self

    def __str__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(
        self,
        include: object = None,  # noqa: ARG002 - IPython's protocol passes these by name
        exclude: object = None,  # noqa: ARG002
    ) -> dict[str, str]:
        """Jupyter display: plain text and Markdown."""
        return {"text/plain": self.to_text(), "text/markdown": self.to_markdown()}
