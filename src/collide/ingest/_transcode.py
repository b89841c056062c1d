"""Transcoding one byte range of a text file to UTF-8 (standard library only).

Used in process by `sources.csv.transcode`, and also run as a script (`python -I -S _transcode.py
SRC START END DST PRIMARY FALLBACK` prints `[odd_lines, bad offset or null]` as JSON), so a
large file is decoded by several processes at once: `bytes.decode` holds the GIL (threads would
take turns).
Ranges start and end just after a b"\\n", which GBK/GB18030 and UTF-8 never use inside a character,
and every line decodes the same whatever chunk it falls in, so the parts joined in order are
byte-identical to a serial transcode.
"""

from __future__ import annotations

import codecs
import sys

CHUNK = 8 << 20


def transcode_range(
    src: str, start: int, end: int, dst: str, primary: str, fallback: str, progress=None
) -> tuple[int, int | None]:
    """Decode bytes [start, end) of `src` (`primary`, lines that fail: `fallback`) into UTF-8
    `dst`. Returns (lines read with the fallback, byte offset of the first undecodable line or
    None): an offset, never the line, so no message quotes a file's content."""
    odd_lines = 0
    bad: int | None = None
    dec = codecs.getincrementaldecoder(primary)()
    utf16 = primary.startswith(("utf-16", "utf-32"))
    with open(src, "rb") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        fin.seek(start)
        pos = start
        carry = b""
        while True:
            at = pos - len(carry)  # file offset of `data` below
            chunk = fin.read(min(CHUNK, end - pos)) if pos < end else b""
            pos += len(chunk)
            final = not chunk
            data = carry + chunk
            if not final and not utf16:
                # (a bare CR ends a line too: old Mac files have no b"\n" at all)
                cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
                if cut == 0:
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            try:
                fout.write(dec.decode(data, final=final))
            except UnicodeDecodeError as exc:
                if utf16:
                    bad = at + exc.start if bad is None else bad
                    break
                dec = codecs.getincrementaldecoder(primary)()
                for line in data.splitlines(keepends=True):
                    try:
                        fout.write(line.decode(primary))
                    except UnicodeDecodeError:
                        try:
                            fout.write(line.decode(fallback))
                            odd_lines += 1
                        except UnicodeDecodeError:
                            if bad is None:
                                bad = at
                            fout.write(line.decode(primary, errors="replace"))
                    at += len(line)
            if progress is not None:
                progress(len(chunk))
            if final:
                break
    return odd_lines, bad


if __name__ == "__main__":
    import json

    a = sys.argv[1:]
    sys.stdout.write(json.dumps(transcode_range(a[0], int(a[1]), int(a[2]), a[3], a[4], a[5])))
