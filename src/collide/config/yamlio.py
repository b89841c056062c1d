"""YAML that remembers the line of every key and refuses duplicate keys.

Also turns pydantic validation errors into `file:line: problem. fix` problems, so that every
user-written spec reports mistakes at the line where they are.
"""

from __future__ import annotations

import difflib
import re
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
        line, message, fix = _syntax_in_words(exc, text)
        raise CollideError(Problem(shown, line, message, fix)) from None
    lines: dict[Loc, int] = {(): 1}
    return LocatedYaml(path=path, data=_plain(node, (), lines), lines=lines)


def _quote_fix(key: str = "") -> str:
    return f'Put the value in quotes: {key or "key"}: "…"'


def _syntax_in_words(exc: Any, text: str) -> tuple[int | None, str, str]:
    """A YAML parser error told in words a clerk knows, at the line to change.

    The parser's own wording ("expected <block end>, but found …") describes its state, not the
    mistake; each of the usual mistakes is recognised from that state and the text around it."""
    problem = str(exc.problem or "")
    context = str(exc.context or "")
    pmark, cmark = exc.problem_mark, exc.context_mark
    lines = text.splitlines()
    pline = pmark.line + 1 if pmark else None
    cline = cmark.line + 1 if cmark else None

    def source(n: int | None) -> str:
        return lines[n - 1] if n and 0 < n <= len(lines) else ""

    def above(n: int | None) -> str:
        for k in range((n or 1) - 2, -1, -1):
            code = lines[k].split("#", 1)[0] if k < len(lines) else ""
            if code.strip():
                return lines[k]
        return ""

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def key_of(line: str) -> str:
        return line.strip().lstrip("- ").split(":", 1)[0].strip()

    char = re.search(r"found character '(.+?)' that cannot start any token", problem)
    if char and char.group(1) in ("\\t", "\t"):
        return (
            pline,
            "this line has a tab character; YAML indents with spaces only",
            "Replace the tab with spaces",
        )
    if char:
        return (
            pline,
            f'a value starts with "{char.group(1)}", which YAML keeps for itself',
            _quote_fix(key_of(source(pline))),
        )
    if "tab" in problem.lower() or "\t" in source(pline)[: indent(source(pline)) + 1]:
        return (
            pline,
            "this line has a tab character; YAML indents with spaces only",
            "Replace the tab with spaces",
        )
    if problem.startswith("mapping values are not allowed"):
        here, prev = source(pline), above(pline)
        if prev and indent(here) > indent(prev):
            return (
                pline,
                "this line is indented deeper than the one above, so YAML reads it as part of "
                f'the value of "{key_of(prev)}"',
                "Line it up with the line above; or, if it belongs under it, end the line above "
                "with the colon (nothing after it)",
            )
        return (
            pline,
            f'the value of "{key_of(here)}" contains ": ", which YAML reads as a second key',
            _quote_fix(key_of(here)),
        )
    if "could not find expected ':'" in problem:
        n = cline or pline
        return (
            n,
            f'"{source(n).strip()}" has no colon, so YAML cannot tell the key from the value',
            "Write it as key: value (a colon and a space after the key)",
        )
    if "quoted scalar" in context:
        quote = source(cline)[cmark.column] if cmark and cmark.column < len(source(cline)) else '"'
        return (
            cline,
            f"the quote {quote} opened on this line is never closed",
            f"Add the closing {quote} at the end of the value",
        )
    flow = re.search(r"expected ',' or '([\]}])'", problem)
    if flow:
        opener = "[" if flow.group(1) == "]" else "{"
        return (
            cline,
            f'the "{opener}" opened on this line is never closed',
            f'Close it with "{flow.group(1)}" on the same line, or put the value in quotes',
        )
    if "flow" in context and "<stream end>" in problem:  # a [ or { still open at the file's end
        for n in range(len(lines), 0, -1):
            code = lines[n - 1].split("#", 1)[0]
            for opener, closer in (("[", "]"), ("{", "}")):
                if code.count(opener) > code.count(closer):
                    return (
                        n,
                        f'the "{opener}" opened on this line is never closed',
                        f'Close it with "{closer}" on the same line, or put the value in quotes',
                    )
    found = re.search(r"expected <block end>, but found '(.+?)'", problem)
    if found:
        what = found.group(1)
        here = source(pline)
        if what in ("-", "<block sequence start>"):
            return (
                pline,
                'this list item ("- …") stands where a key is expected',
                "Indent it like the other items of its list, under the key it belongs to",
            )
        if what == "?":
            return (
                pline,
                f'"{here.strip()}" is a key inside a list of "- " items',
                'Start it with "- " if it is a new item, or indent it under the item it belongs to',
            )
        if what == "<block mapping start>":
            return (
                pline,
                "this line is indented less than the one above but deeper than the key it "
                "belongs to, so YAML cannot tell where it belongs",
                "Line it up with the other keys at its level",
            )
        if what == "<scalar>":
            value = here.split(":", 1)[1].strip() if ":" in here else here.strip()
            if value[:1] in "{[":
                return (
                    pline,
                    f'the value of "{key_of(here)}" starts with "{value[0]}", which YAML reads '
                    "as the start of a list or group, and there is text after its end",
                    _quote_fix(key_of(here)),
                )
            return (
                pline,
                "this line has text after a value where YAML expects the next line",
                _quote_fix(key_of(here)),
            )
    alias = re.search(r"found undefined alias '(.+?)'", problem)
    if alias:
        return (
            pline,
            f'a value starts with "*", which YAML reads as a reference to "&{alias.group(1)}"',
            _quote_fix(key_of(source(pline))),
        )
    return (
        pline or cline,
        "YAML cannot read this line",
        "Indent with spaces, keys at one level lined up, and put values holding ': ', '{', '[', "
        "'#' or a leading '*', '&', '@' in quotes",
    )


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
