"""Chinese characters for matching: traditional and variant forms folded to simplified, and the
toneless pinyin readings of each character (every reading of a polyphonic one).

One person is written 陳偉 in a Hong Kong or Taiwan resident's document or an old paper record
typed in, and 陈伟 in a mainland register; a clerk typing by ear with a pinyin input method writes
王玮 for 王伟. The matching keys (`name_norm`, `org_key`, `addr_key`) fold the first; the
homophone similarity (`name_pinyin_sim`) scores the second.

The tables are data of two maintained projects, shipped with collide so that nothing is needed
(or downloaded) at run time, and regenerated from them by `generate_tables()`:

- `hanzi_fold.txt`: OpenCC's `t2s` (traditional → simplified) and `hk2s` (Hong Kong variants)
  conversions applied to every CJK ideograph one character at a time, kept where the result is
  one other character, chains resolved (薴 → 苧 → 苎). Character by character, not OpenCC's
  phrase conversion: a name is not a phrase (乾 in a name is folded to 干 like every other 乾).
  Taiwan-only variants (`tw2s`: 么 → 幺, 著 → 着) are left out — they fold ordinary simplified
  characters. OpenCC (Apache-2.0): https://github.com/BYVoid/OpenCC
- `hanzi_pinyin.txt`: pypinyin's character dictionary (from the Unihan database) without tones,
  ü written v: a character's commonest reading, and its other readings where some word of
  pypinyin's phrase dictionary uses them (曾 ceng/zeng, 重 zhong/chong, 长 chang/zhang, 单
  dan/shan/chan). Unihan also lists archaic readings no one types (王 yu, 明 meng, 平 bing):
  those are left out — kept, they made half of all names polyphonic and 王伟 a homophone of
  余伟. Surname-only readings that no listed word uses go with them (区 ou, 覃 qin). pypinyin (MIT):
  https://github.com/mozillazg/python-pinyin

What folding merges on purpose: surnames that traditional writing keeps apart and simplified
writing does not (於 and 于, 後 and 后, 乾 and 干 …) score as one — in a register written in
simplified characters they are one already.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

__all__ = [
    "fold",
    "fold_table",
    "generate_tables",
    "pinyin_keys",
    "readings",
]

_FOLD_FILE = "hanzi_fold.txt"
_PINYIN_FILE = "hanzi_pinyin.txt"

# CJK ideographs: the unified blocks (extension A, the basic block, extensions B–H) and the
# compatibility ideographs
_RANGES = [
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2EBEF),
    (0x2F800, 0x2FA1F),
    (0x30000, 0x323AF),
]


def _data(name: str) -> list[str]:
    text = resources.files("collide.standards").joinpath(name).read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


@cache
def fold_table() -> dict[str, str]:
    """Traditional or variant character → its simplified form (only characters that change)."""
    out = {}
    for line in _data(_FOLD_FILE):
        src, dst = line.split("\t")
        out[src] = dst
    return out


@cache
def _translation() -> dict[int, str]:
    return {ord(k): v for k, v in fold_table().items()}


def fold(text: str) -> str:
    """`text` with every traditional or variant character replaced by its simplified form."""
    return text.translate(_translation())


@cache
def _reading_table() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for line in _data(_PINYIN_FILE):
        syllable, chars = line.split("\t")
        for c in chars:
            out.setdefault(c, []).append(syllable)
    return {c: tuple(v) for c, v in out.items()}


def readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of one character, its commonest first (folded first: 陳 → chen);
    empty for a character that is not Han."""
    table = _reading_table()
    return table.get(fold(char)) or table.get(char, ())


@cache
def _syllable_codes() -> dict[str, str]:
    # each syllable as one private-use character (plane 15), so that a reading sequence is a
    # string and rapidfuzz compares syllables as it compares characters
    syllables = sorted({s for v in _reading_table().values() for s in v})
    return {s: chr(0xF0000 + i) for i, s in enumerate(syllables)}


def pinyin_keys(name: str, limit: int = 16) -> list[str] | None:
    """The name as syllable strings, one per way of reading its polyphonic characters (at most
    `limit`; None when there are more). A character without a reading stands for itself."""
    codes = _syllable_codes()
    keys = [""]
    for c in name:
        options = [codes[s] for s in readings(c)] or [c]
        if len(keys) * len(options) > limit:
            return None
        keys = [k + o for k in keys for o in options]
    return keys


def reading_sets(name: str) -> list[frozenset[str]]:
    """Per character, the set of its readings (a non-Han character: itself)."""
    return [frozenset(readings(c)) or frozenset(c) for c in name]


# ------------------------------------------------------------------ generating the tables


def _toneless(syllable: str) -> str:
    # ǚ is ü with a tone mark: decompose, write ü (u + diaeresis) as v, drop the tone marks
    s = unicodedata.normalize("NFD", syllable.lower()).replace("u\u0308", "v")
    return "".join(c for c in s if not unicodedata.combining(c))


def _attested_readings() -> dict[str, set[str]]:
    """The toneless readings each character has in some word of pypinyin's phrase dictionary."""
    from pypinyin.phrases_dict import phrases_dict  # noqa: PLC0415

    out: dict[str, set[str]] = {}
    for word, readings in phrases_dict.items():
        if len(word) == len(readings):
            for c, r in zip(word, readings):
                out.setdefault(c, set()).add(_toneless(r[0]))
    return out


def build_tables() -> tuple[str, str]:
    """The two data files' texts, from OpenCC and pypinyin (installed with the dev extras)."""
    import opencc  # noqa: PLC0415 - dev dependency, only to regenerate
    from pypinyin.pinyin_dict import pinyin_dict  # noqa: PLC0415

    converters = [opencc.OpenCC(name) for name in ("t2s", "hk2s")]
    fold_map: dict[str, str] = {}
    for lo, hi in _RANGES:
        for cp in range(lo, hi + 1):
            c = chr(cp)
            for conv in converters:
                out = conv.convert(c)
                if out != c:
                    if len(out) == 1:
                        fold_map[c] = out
                    break
    for c in list(fold_map):  # chains: 薴 → 苧 → 苎
        seen = {c}
        while fold_map[c] in fold_map and fold_map[c] not in seen:
            seen.add(fold_map[c])
            fold_map[c] = fold_map[fold_map[c]]
    fold_lines = [
        "# Traditional and variant characters → simplified, one character at a time, from OpenCC",
        "# (t2s, hk2s). Generated by collide.standards.hanzi.generate_tables; do not edit.",
        *(f"{k}\t{v}" for k, v in sorted(fold_map.items())),
    ]
    attested = _attested_readings()
    by_syllable: dict[str, list[tuple[int, str]]] = {}
    for cp, text in sorted(pinyin_dict.items()):
        c = chr(cp)
        if not (c == "〇" or any(lo <= cp <= hi for lo, hi in _RANGES)):
            continue
        seen: list[str] = []
        for k, reading in enumerate(text.split(",")):
            s = _toneless(reading.strip())
            if s and s not in seen and (k == 0 or s in attested.get(c, ())):
                seen.append(s)
        for rank, s in enumerate(seen):
            by_syllable.setdefault(s, []).append((rank, c))
    pinyin_lines = [
        "# Toneless pinyin readings of each character, from pypinyin's character dictionary:",
        "# the commonest, and the others that a word of its phrase dictionary uses; a line per",
        "# syllable and rank (rank 0, a character's commonest reading, first). Generated by",
        "# collide.standards.hanzi.generate_tables; do not edit.",
    ]
    # order readings by rank so that a character's first reading read back is its commonest
    entries = sorted(
        ((rank, s, c) for s, items in by_syllable.items() for rank, c in items),
    )
    grouped: dict[tuple[int, str], list[str]] = {}
    for rank, s, c in entries:
        grouped.setdefault((rank, s), []).append(c)
    pinyin_lines += [f"{s}\t{''.join(chars)}" for (rank, s), chars in sorted(grouped.items())]
    return "\n".join(fold_lines) + "\n", "\n".join(pinyin_lines) + "\n"


def generate_tables(folder: Path | None = None) -> None:
    """Write the two data files (default: beside this module)."""
    folder = folder or Path(__file__).parent
    fold_text, pinyin_text = build_tables()
    (folder / _FOLD_FILE).write_text(fold_text, encoding="utf-8")
    (folder / _PINYIN_FILE).write_text(pinyin_text, encoding="utf-8")
