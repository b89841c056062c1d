"""Compare two run folders of the same project: the hit lists, the evidence JSON and the report
must be identical apart from run ids, dates of the run and timings.

    python bench/compare_runs.py runs/<before> runs/<after>

Used to show that a change which should not change behaviour did not (exit 1 and a diff if it did).
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

# run ids (20261201-222354-14435), ISO timestamps, and durations in seconds
_VOLATILE = [
    (re.compile(r"\d{8}-\d{6}-\d{3}[0-9a-f]{2}"), "<run>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?"), "<time>"),
    (re.compile(r"耗时 [\d.]+ 秒"), "耗时 <s> 秒"),
    (re.compile(r'"(seconds|ingest_seconds)": [\d.]+'), r'"\1": <s>'),
    # the seconds column of the models table in report.md (models by their titles)
    (re.compile(r"^(\| [^|]+ \| [^|\d][^|]* \| \d+ \| )[\d.]+( \|)", re.M), r"\1<s>\2"),
]


def normalise(text: str) -> str:
    for pat, rep in _VOLATILE:
        text = pat.sub(rep, text)
    return text


def files(run: Path) -> list[Path]:
    out = [p for p in run.glob("clues*.csv")]
    out += sorted(run.glob("evidence/*.json"))
    out += [run / "report.md"]
    return sorted(p.relative_to(run) for p in out if p.exists())


def main(a: str, b: str) -> int:
    ra, rb = Path(a), Path(b)
    fa, fb = files(ra), files(rb)
    bad = 0
    for rel in sorted(set(fa) | set(fb)):
        if rel not in fa or rel not in fb:
            print(f"only in {'after' if rel not in fa else 'before'}: {rel}")
            bad += 1
            continue
        ta = normalise((ra / rel).read_text(encoding="utf-8-sig"))
        tb = normalise((rb / rel).read_text(encoding="utf-8-sig"))
        if ta != tb:
            bad += 1
            diff = difflib.unified_diff(
                ta.splitlines(), tb.splitlines(), str(ra / rel), str(rb / rel), lineterm="", n=1
            )
            print("\n".join(list(diff)[:40]))
    print(f"{len(set(fa) | set(fb))} files compared, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
