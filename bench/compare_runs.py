"""Compare two run folders of the same project: the hit lists (CSV, and the cells, links and
dropdowns of clues.xlsx), the evidence pages and JSON lines and the report must be identical
apart from run ids, dates of the run and timings.

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
    out += sorted(run.glob("evidence/*.jsonl"))
    out += sorted(run.glob("evidence/*.html"))
    out += [run / "clues.xlsx"]
    out += [run / "report.md"]
    return sorted(p.relative_to(run) for p in out if p.exists())


def xlsx_text(path: Path) -> str:
    """A workbook as text: every cell's value and type, links, dropdowns and frozen panes (how
    the XML stores them, shared or inline strings, does not matter to a reader)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    out = []
    for ws in wb.worksheets:
        out.append(
            f"sheet {ws.title} {ws.sheet_state} freeze={ws.freeze_panes} "
            f"filter={ws.auto_filter.ref}"
        )
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None or c.hyperlink is not None:
                    link = c.hyperlink.target if c.hyperlink is not None else ""
                    out.append(
                        f"{c.coordinate}\t{type(c.value).__name__}\t{c.value!r}\t{link}"
                        f"\t{c.number_format}"
                    )
        for dv in ws.data_validations.dataValidation:
            out.append(f"dv {dv.sqref} {dv.type} {dv.formula1} {dv.error}")
    return "\n".join(out)


def read(path: Path) -> str:
    if path.suffix == ".xlsx":
        return xlsx_text(path)
    return path.read_text(encoding="utf-8-sig")


def main(a: str, b: str) -> int:
    ra, rb = Path(a), Path(b)
    fa, fb = files(ra), files(rb)
    bad = 0
    for rel in sorted(set(fa) | set(fb)):
        if rel not in fa or rel not in fb:
            print(f"only in {'after' if rel not in fa else 'before'}: {rel}")
            bad += 1
            continue
        ta = normalise(read(ra / rel))
        tb = normalise(read(rb / rel))
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
