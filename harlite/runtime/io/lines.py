"""Numbered text lines from a byte stream, read block by block with bounded memory.

:func:`read_line_blocks` hands out each block's complete lines as one :class:`LineBlock`
(bytes, not yet split), so that a parser can take a whole block at once;
:func:`read_lines` splits and decodes them line by line. Both number lines the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from harlite.runtime.rows import NOT_UTF8, TOO_LONG

MAX_LINE_BYTES = 4096


class LineProblem:
    """Stands in for a line's text when the line could not be read as text."""

    __slots__ = ("detail", "reason")

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail


NumberedLines = list[tuple[int, "str | LineProblem"]]


@dataclass(frozen=True)
class LineBlock:
    """Complete lines of a stream, undecoded: ``data`` holds ``count`` lines, each ending in
    ``\\n`` except perhaps the last line of the stream; the first is line ``first``."""

    first: int
    data: bytes
    count: int
    max_line: int = MAX_LINE_BYTES

    def starting_at(self, number: int) -> LineBlock | NumberedLines:
        """The block's lines from line ``number`` on (none if it lies past the block)."""
        if number >= self.first + self.count:
            return []
        offset = self._offset(number - self.first)
        rest = self.count - (number - self.first)
        return LineBlock(number, self.data[offset:], rest, self.max_line)

    def head(self, count: int) -> NumberedLines:
        """The block's first ``count`` lines (all of them if it has fewer)."""
        if count >= self.count:
            return self.lines()
        return LineBlock(self.first, self.data[: self._offset(count)], count, self.max_line).lines()

    def _offset(self, lines: int) -> int:
        """Where the block's line ``first + lines`` starts in ``data``."""
        offset = 0
        for _ in range(lines):
            offset = self.data.index(b"\n", offset) + 1
        return offset

    def lines(self) -> NumberedLines:
        """The lines one by one: text without the line end, or a :class:`LineProblem`."""
        parts = self.data.split(b"\n")
        if self.data.endswith(b"\n"):
            parts.pop()
        return [(self.first + i, decode_line(raw, self.max_line)) for i, raw in enumerate(parts)]


def read_line_blocks(
    read: Callable[[int], bytes], block_size: int = 1 << 20, max_line: int = MAX_LINE_BYTES
) -> Iterator[LineBlock | NumberedLines]:
    """Split a byte stream into blocks of complete lines.

    Yields a :class:`LineBlock` per block read, or a one-line list holding a
    :class:`LineProblem` for a line longer than ``max_line`` bytes that spans blocks (the
    rest of that line is skipped). A UTF-8 byte-order mark at the start is dropped. Returns
    as soon as ``read`` returns what it has, so a live pipe is not held back.
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
        data = pending + block
        cut = data.rfind(b"\n") + 1
        complete, pending = data[:cut], data[cut:]
        if skipping and complete:
            complete = complete[complete.index(b"\n") + 1 :]  # the long line's end
            skipping = False
        if complete:
            count = complete.count(b"\n")
            yield LineBlock(number + 1, complete, count, max_line)
            number += count
        if len(pending) > max_line:
            if not skipping:
                number += 1
                yield [(number, LineProblem(TOO_LONG, f"over {max_line} bytes"))]
                skipping = True
            pending = b""
    if pending and not skipping:
        yield LineBlock(number + 1, pending, 1, max_line)


def read_lines(
    read: Callable[[int], bytes], block_size: int = 1 << 20, max_line: int = MAX_LINE_BYTES
) -> Iterator[NumberedLines]:
    """Split a byte stream into numbered text lines, one list per block read.

    Lines end with LF or CRLF; a UTF-8 byte-order mark at the start is dropped. A line that
    is not UTF-8 or longer than ``max_line`` bytes comes as a :class:`LineProblem`, so that it
    is counted, and reading goes on with the next line.
    """
    for item in read_line_blocks(read, block_size, max_line):
        yield item.lines() if isinstance(item, LineBlock) else item


def decode_line(raw: bytes, max_line: int) -> str | LineProblem:
    if len(raw) > max_line:
        return LineProblem(TOO_LONG, f"{len(raw)} bytes")
    try:
        return raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return LineProblem(NOT_UTF8)
