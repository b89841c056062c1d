"""Python values as JSON values: the one conversion behind clue hashes, evidence and quality.json.

Clue ids and evidence hashes are computed from this output, so it must never change for a value
it already handles: a Decimal stays exact as text ("1234.50", never 1234.5), a date is ISO text,
bytes are hex. Anything JSON cannot hold otherwise (a set, a UUID, a key that is not text) becomes
text, so a quality report with an odd value still serialises.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

__all__ = ["jsonable"]

_PLAIN_KEYS = (str, int, float, bool)


def jsonable(value: Any) -> Any:
    """`value` with every part JSON can hold as itself, the rest as text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value  # NaN included: hashes made from json.dumps' "NaN" must stay the same
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {
            (k if k is None or isinstance(k, _PLAIN_KEYS) else str(k)): jsonable(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=repr)
    return str(value)
