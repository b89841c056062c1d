"""User-facing errors: location first, then the problem, then the fix.

Every mistake a user can make (in YAML, SQL, agency files, CLI arguments) is raised as a
`CollideError` and printed as one line, never as a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem at one place: `path:line: message. fix`. A warning (`severity="warning"`)
    is reported but does not fail `collide check`."""

    path: str | None
    line: int | None
    message: str
    fix: str = ""
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = self.message.rstrip(".")
        if self.fix:
            text += ". " + self.fix.rstrip(".")
        return where + text + ("" if text.endswith(("?", "!")) else ".")


class CollideError(Exception):
    """A user's mistake or an environment problem, reported without a traceback."""

    def __init__(self, problems: Problem | str | Iterable[Problem], *, exit_code: int = 1):
        if isinstance(problems, (Problem, str)):
            problems = [
                problems if isinstance(problems, Problem) else Problem(None, None, problems)
            ]
        self.problems: list[Problem] = list(problems)
        self.exit_code = exit_code
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Problems:
    """Collects problems so that `collide check` can report all of them at once."""

    items: list[Problem] = field(default_factory=list)

    def add(self, path: str | Path | None, line: int | None, message: str, fix: str = "") -> None:
        self.items.append(Problem(str(path) if path is not None else None, line, message, fix))

    def extend(self, other: Iterable[Problem]) -> None:
        self.items.extend(other)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise CollideError(self.items)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`Did you mean "x"?` for the closest candidate, or a list of what exists."""
    cands = sorted(set(candidates))
    close = difflib.get_close_matches(name, cands, n=1, cutoff=0.6)
    if close:
        return f'Did you mean "{close[0]}"?'
    if not cands:
        return ""
    shown = ", ".join(cands[:12]) + (", …" if len(cands) > 12 else "")
    return f"Known: {shown}"
