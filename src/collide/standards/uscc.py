"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

18 characters: the registration authority (1), the entity type (1), the registration region
code (6 digits, GB/T 2260), the organisation code (9) and a check character (MOD 31), all from
an alphabet without I, O, S, V and Z. The vectorised checks in `collide.ingest.semantic` are
built from these constants.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE: dict[str, int] = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_C = "[0-9A-HJ-NPQRTUWXY]"
# authority and entity type from the alphabet, region code digits only, then organisation code
# and check character
SHAPE = rf"^{_C}{{2}}[0-9]{{6}}{_C}{{10}}$"
# written between groups of a printed code: 64372198-RUPANQLHX-U, 9111 0000 6000 3734 1L
SEPARATORS = r"[\s\-‐‑–—]"
# the identifiers it replaced, still found in older files
LEGACY_REGISTRATION = r"^[0-9]{15}$"  # 15-digit business registration number
LEGACY_ORGANISATION = r"^[0-9A-Z]{8}-?[0-9X]$"  # 9-character organisation code
