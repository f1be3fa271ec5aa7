"""Numbered text lines from a byte stream, read block by block with bounded memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from harlite.runtime.sensorcsv import MAX_LINE_BYTES, NOT_UTF8, TOO_LONG, LineProblem


def read_lines(
    read: Callable[[int], bytes], block_size: int = 1 << 20, max_line: int = MAX_LINE_BYTES
) -> Iterator[list[tuple[int, str | LineProblem]]]:
    """Split a byte stream into numbered text lines, one list per block read.

    Lines end with LF or CRLF; a UTF-8 byte-order mark at the start is dropped. A line that
    is not UTF-8 or longer than ``max_line`` bytes comes as a :class:`LineProblem`, so that it
    is counted, and reading goes on with the next line. Returns as soon as ``read`` returns
    what it has, so a live pipe is not held back.
    """
    number = 0
    pending = b""
    skipping = False  # inside a line already reported as too long
    first = True
    while True:
        block = read(block_size)
        if not block:
            break
        if first:
            block = block.removeprefix(b"\xef\xbb\xbf")
            first = False
        parts = (pending + block).split(b"\n")
        pending = parts.pop()
        batch = []
        for raw in parts:
            if skipping:
                skipping = False
                continue
            number += 1
            batch.append((number, decode_line(raw, max_line)))
        if len(pending) > max_line:
            if not skipping:
                number += 1
                batch.append((number, LineProblem(TOO_LONG, f"over {max_line} bytes")))
                skipping = True
            pending = b""
        if batch:
            yield batch
    if pending and not skipping:
        yield [(number + 1, decode_line(pending, max_line))]


def decode_line(raw: bytes, max_line: int) -> str | LineProblem:
    if len(raw) > max_line:
        return LineProblem(TOO_LONG, f"{len(raw)} bytes")
    try:
        return raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return LineProblem(NOT_UTF8)
