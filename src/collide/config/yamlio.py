"""YAML that remembers the line of every key and refuses duplicate keys.

Also turns pydantic validation errors into `file:line: problem. fix` problems, so that every
user-written spec reports mistakes at the line where they are.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collide.errors import CollideError, Problem, did_you_mean

Loc = tuple[Any, ...]


@dataclass
class LocatedYaml:
    """Plain Python data plus the 1-based line of each key path."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """The line of `loc`, or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


def _plain(node: Any, loc: Loc, lines: dict[Loc, int]) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            try:
                lines[loc + (key,)] = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):
                pass
            out[key if isinstance(key, (str, int, float, bool)) or key is None else str(key)] = (
                _plain(value, loc + (key,), lines)
            )
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            try:
                lines[loc + (i,)] = node.lc.item(i)[0] + 1
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_plain(value, loc + (i,), lines))
        return items
    if hasattr(node, "isoformat") or isinstance(node, (bool, int, float)) or node is None:
        return node
    return str(node)


def load_yaml(path: Path, display: str | None = None) -> LocatedYaml:
    """Parse `path`; a syntax error or a duplicate key becomes a CollideError at its line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CollideError(Problem(shown, None, "file is not UTF-8", "Save it as UTF-8")) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        key = _dup_key(exc)
        raise CollideError(
            Problem(shown, line, f'duplicate key "{key}"', "Keep one of the two entries")
        ) from None
    except ValueError as exc:  # a date-shaped scalar that is not a date (2027-02-30)
        line, bad = _bad_date(text)
        raise CollideError(
            Problem(
                shown,
                line,
                f'"{bad}" is not a date' if bad else f"YAML value error: {exc}",
                "Write a real date as YYYY-MM-DD, or quote the text",
            )
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = (exc.problem or exc.context or "invalid YAML").strip()
        raise CollideError(
            Problem(
                shown,
                line,
                f"YAML syntax error: {what}",
                "Check indentation and quoting; strings with ':' or '{' need quotes",
            )
        ) from None
    lines: dict[Loc, int] = {(): 1}
    return LocatedYaml(path=path, data=_plain(node, (), lines), lines=lines)


def _bad_date(text: str) -> tuple[int | None, str | None]:
    """The line and text of the first unquoted YYYY-MM-DD that is not a real date."""
    import datetime as dt
    import re

    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        for m in re.finditer(r"(?<![\w'\"-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w'\"])", code):
            try:
                dt.date(*(int(g) for g in m.groups()))
            except ValueError:
                return n, m.group(0)
    return None, None


def _dup_key(exc: Exception) -> str:
    text = str(getattr(exc, "problem", "")) or str(exc)
    if '"' in text:
        parts = text.split('"')
        if len(parts) >= 2:
            return parts[1]
    return text


def pydantic_problems(
    exc: Any, doc: LocatedYaml, display: str, model_cls: Any = None
) -> Iterator[Problem]:
    """One Problem per pydantic error, located at the offending key's line."""
    errors = exc.errors()
    # A typo'd key shows up twice: as an unknown key and as a missing one. Report it once.
    typos = {
        (tuple(e["loc"][:-1]), str(e["loc"][-1])) for e in errors if e["type"] == "extra_forbidden"
    }
    for err in errors:
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        if err["type"] == "missing" and any(
            parent == loc[:-1] and difflib.get_close_matches(str(loc[-1]), [key], 1, 0.6)
            for parent, key in typos
        ):
            continue
        line = doc.line_of(loc)
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model_cls, loc[:-1]) if model_cls else []
            hint = did_you_mean(str(loc[-1]), allowed) if allowed else ""
            if not hint.startswith("Did"):
                hint = "Remove it" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
            yield Problem(display, line, f'unknown key "{dotted}"', hint)
        elif kind == "missing":
            yield Problem(display, line, f'missing required key "{dotted}"', "Add it")
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            yield Problem(display, line, f"{dotted}: {msg}", "")


def _allowed_keys(model_cls: Any, loc: Loc) -> list[str]:
    """Field names of the pydantic model reached by following `loc` from `model_cls`."""
    import typing

    cls = model_cls
    for part in loc:
        if isinstance(part, int) or cls is None:
            continue
        fields = getattr(cls, "model_fields", {})
        if part not in fields:
            # dict values: stay on the value model
            continue
        cls = _inner_model(fields[part].annotation)
    if cls is None or not hasattr(cls, "model_fields"):
        return []
    names = []
    for name, f in cls.model_fields.items():
        names.append(f.alias or name)
    del typing
    return names


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
