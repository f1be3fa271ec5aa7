"""Where samples come from: CSV files (plain or gzip), stdin, a UDP socket, Sensor Logger
exports, and real-time replay of any of them.

Every source yields :class:`~harlite.runtime.io.sensorcsv.ParsedRows` batches in the runtime's
units (seconds, g, rad/s), with the line each row came from and the lines it could not parse.
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import socket
import struct
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harlite.errors import DataError, HarliteError
from harlite.runtime.io.app_exports import (
    PHYPHOX,
    SENSOR_LOGGER,
    PhyphoxSource,
    SensorLoggerSource,
    export_kind,
)
from harlite.runtime.io.input_options import EXPORT_FORMATS, InputOptions
from harlite.runtime.io.lines import MAX_LINE_BYTES, LineBlock, decode_line, read_line_blocks
from harlite.runtime.io.sensorcsv import (
    SIGNALS,
    ColumnLayout,
    LineProblem,
    ParsedRows,
    RowParser,
    Units,
    is_data_line,
    is_quoted,
    layout_from_header,
    positional_layout,
    sniff_delimiter,
    unquote,
)
from harlite.runtime.rows import NOT_A_ROW, TOO_LONG

#: Lines of a file's first block searched for its header or first data line before the
#: whole block is (a file that opens with more blank or comment lines than this).
HEADER_SEARCH_LINES = 64


@dataclass(frozen=True)
class ParserStart:
    """How an input's data lines are read, found from its first line: the layout, the
    parser, and the lines after the header (or from the first data line)."""

    layout: ColumnLayout
    parser: RowParser
    rest: list[tuple[int, str | LineProblem]]
    data_line: int  #: the number of the line after the header (of the first data line)


def start_parser(
    lines: list[tuple[int, str | LineProblem]],
    name: str,
    options: InputOptions,
    units: Units,
    *,
    file: bool,
) -> ParserStart | None:
    """The parser the first usable line implies (None while no such line has come).

    A line of numbers is data in the canonical order (or ``--columns`` order), so is the
    canonical order with a label last; anything else is a header. Fields may all be in double
    quotes. Blank and ``#`` lines are skipped. A first line that is not text is an error: in
    a file (``file=True``) it means the file is not a CSV; on a socket the caller counts it
    as a bad row and goes on.
    """
    for position, (number, text) in enumerate(lines):
        if isinstance(text, LineProblem):
            if text.reason == TOO_LONG:
                raise DataError(
                    f"the first line is longer than {MAX_LINE_BYTES} bytes (not a sensor CSV?)",
                    name,
                    number,
                )
            raise DataError(
                "not a text CSV (binary data or another encoding than UTF-8?)", name, number
            )
        if not text.strip() or text.startswith("#"):
            continue
        if file and any(ord(c) < 32 and c != "\t" for c in text):
            raise DataError("not a text CSV (control characters in the first line)", name, number)
        delimiter = options.delimiter or sniff_delimiter(text)
        fields = text.split(delimiter)
        quoted = is_quoted(fields)
        if quoted:
            fields = unquote(fields)
        is_header = not is_data_line(fields)
        try:
            if is_header:
                layout = layout_from_header(fields, options.columns)
            else:
                layout = positional_layout(len(fields), options.columns)
            parser = RowParser(layout, units, delimiter, options.rate_hz, quoted=quoted)
        except ValueError as error:
            raise DataError(str(error), name, number) from None
        return ParserStart(layout, parser, lines[position + is_header :], number + is_header)
    return None


class CsvSource:
    """Rows of a sensor CSV: a file (``.csv`` or ``.csv.gz``), or ``-`` for stdin.

    The first line is the header (mapped to the canonical columns) unless it is all
    numbers, in which case the file has the canonical column order (or ``--columns``).
    """

    def __init__(self, path: str | Path, options: InputOptions | None = None) -> None:
        self.options = options or InputOptions()
        self.name = "stdin" if str(path) == "-" else str(path)
        self.path = None if str(path) == "-" else Path(path)
        self.format = "canonical" if self.options.format == "auto" else self.options.format
        if self.format != "canonical":
            raise HarliteError(f"{self.name}: format {self.format!r} is not a single CSV file")
        self.units = self.options.units("canonical")
        self.layout: ColumnLayout | None = None
        self.rows_read = 0
        #: Why the input ended early (a damaged gzip, a read error), or None: what came
        #: before was read and classified.
        self.truncated: str | None = None

    def __iter__(self) -> Iterator[ParsedRows]:
        handle, read, block = self._open()
        try:
            parser = None
            for batch in self._guard(read_line_blocks(read, block)):
                if parser is None:
                    start = self._start(batch)
                    if start is None:
                        continue
                    self.layout, parser = start.layout, start.parser
                    if isinstance(batch, LineBlock):  # the rest of the block, still whole
                        batch = batch.starting_at(start.data_line)
                    else:
                        batch = start.rest
                if isinstance(batch, LineBlock):
                    yield parser.parse_block(batch)
                else:
                    yield parser.parse(batch)
            if parser is None:
                raise DataError("empty input: no header and no data", self.name)
        finally:
            if handle is not None:
                handle.close()

    def _start(self, batch: LineBlock | list) -> ParserStart | None:
        """The parser the first lines imply; a block's header is looked for in its first
        lines before all of them are split."""
        if isinstance(batch, LineBlock):
            head = batch.head(HEADER_SEARCH_LINES)
            start = start_parser(head, self.name, self.options, self.units, file=True)
            if start is not None or batch.count <= HEADER_SEARCH_LINES:
                return start
            batch = batch.lines()
        return start_parser(batch, self.name, self.options, self.units, file=True)

    def _open(self):
        if self.path is None:
            try:
                fd = sys.stdin.fileno()
            except (AttributeError, io.UnsupportedOperation):  # a stand-in stdin (tests)
                stream = sys.stdin.buffer
                return None, getattr(stream, "read1", stream.read), 1 << 16
            # os.read returns what a live pipe has now instead of waiting for a full block.
            return None, lambda n: os.read(fd, n), 1 << 16
        try:
            opener = gzip.open if self.path.suffix == ".gz" else open
            handle = opener(self.path, "rb")  # closed by __iter__
        except OSError as error:
            raise DataError(f"cannot open: {error.strerror or error}", self.path) from None
        # read1 returns what one decompression step gives, so that a damaged gzip yields
        # everything before the damage.
        return handle, getattr(handle, "read1", handle.read), 1 << 20

    def _guard(self, lines: Iterator) -> Iterator:
        """End the input at a decompression or read error, noting why in ``truncated``: the
        lines before it are kept (a file with no readable line at all is an error)."""
        try:
            yield from lines
        except (OSError, EOFError, zlib.error) as error:
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            if self.layout is None:
                raise DataError(f"cannot read: {reason}", self.name) from None
            self.truncated = f"the input ends early ({reason})"


#: Linux's socket option that counts datagrams dropped for a full receive buffer.
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
#: The receive buffer asked for (the kernel may cap it at net.core.rmem_max).
UDP_RECEIVE_BUFFER = 4 << 20


class UdpSource:
    """Rows from UDP datagrams, each holding one or more CSV lines (no header needed).

    Listens on ``host:port`` (127.0.0.1 unless told otherwise). Datagrams take the canonical
    column order unless ``--columns`` says otherwise or the first line received is a header.
    Stops after ``idle_timeout`` seconds without data (None: never) or on Ctrl-C.
    """

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        options: InputOptions | None = None,
        idle_timeout: float | None = None,
        receive_buffer: int = UDP_RECEIVE_BUFFER,
    ) -> None:
        self.options = options or InputOptions()
        self.units = self.options.units("canonical")
        self.name = f"udp://{host}:{port}"
        self.idle_timeout = idle_timeout
        self.datagrams = 0
        #: Datagrams the kernel dropped because they came faster than they were read (None
        #: where the system does not say: Linux's SO_RXQ_OVFL counts them).
        self.dropped: int | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            self._socket.bind((host, port))
        except OSError as error:
            self._socket.close()
            raise HarliteError(f"{self.name}: cannot listen: {error.strerror or error}") from None
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
            self.dropped = 0
        except OSError:
            pass  # not Linux: drops stay unknown
        self.port = self._socket.getsockname()[1]
        self.name = f"udp://{host}:{self.port}"
        self._feed = LineFeed(self.name, self.options)

    @property
    def layout(self) -> ColumnLayout | None:
        return self._feed.layout

    def close(self) -> None:
        """Stop listening."""
        self._socket.close()

    def __iter__(self) -> Iterator[ParsedRows]:
        self._socket.settimeout(self.idle_timeout)
        try:
            while True:
                try:
                    data = self._receive()
                except TimeoutError:
                    self._count_drops()
                    return
                self.datagrams += 1
                yield self._feed.parse(data)
        finally:
            self._count_drops()
            self.close()

    def _count_drops(self) -> None:
        """Read the socket's drop counter from /proc/net/udp (Linux), which also counts the
        drops no later datagram could report."""
        if self.dropped is None or self._socket.fileno() < 0:
            return
        inode = str(os.fstat(self._socket.fileno()).st_ino)
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            try:
                rows = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                fields = row.split()
                if len(fields) >= 13 and fields[9] == inode:
                    self.dropped = max(self.dropped, int(fields[12]))
                    return

    def _receive(self) -> bytes:
        """One datagram, noting the kernel's count of dropped ones where it gives it."""
        if self.dropped is None:
            return self._socket.recv(65536)
        data, ancillary, _, _ = self._socket.recvmsg(65536, socket.CMSG_SPACE(4))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL and len(payload) >= 4:
                self.dropped = max(self.dropped, struct.unpack("=I", payload[:4])[0])
        return data


class LineFeed:
    """CSV lines that arrive in pieces (UDP datagrams, HTTP request bodies), each piece whole
    lines, read into rows. The layout comes from the first usable line (a header, or data in
    the canonical or ``--columns`` order); until then, a line that is neither a header nor
    data is a bad row and the feed goes on.
    """

    def __init__(self, name: str, options: InputOptions | None = None) -> None:
        self.name = name
        self.options = options or InputOptions()
        self.units = self.options.units("canonical")
        self.layout: ColumnLayout | None = None
        self._parser: RowParser | None = None
        self._line = 0
        #: Header-less canonical lines: the delimiter count of a line without its label
        #: (padded with an empty one), None for any other layout.
        self._unlabelled_delimiters: int | None = None

    def parse(self, data: bytes) -> ParsedRows:
        """The rows of one piece; its lines are numbered on from the previous piece's."""
        lines = []
        for raw in data.split(b"\n"):
            if raw.strip():
                self._line += 1
                lines.append((self._line, decode_line(raw, MAX_LINE_BYTES)))
        bad: list[tuple[int, str, str]] = []
        if self._parser is None:
            lines, bad = self._start(lines)
            if self._parser is None:
                return ParsedRows(np.empty((0, 7)), np.empty(0, np.int64), None, bad)
        if self._unlabelled_delimiters is not None:
            lines = self._pad_labels(lines)
        parsed = self._parser.parse(lines)
        parsed.bad[:0] = bad
        if parsed.labels is not None and not any(parsed.labels):
            parsed.labels = None
        return parsed

    def _pad_labels(self, lines):
        """Header-less canonical lines with the label left off, given an empty one: a
        sender may label some lines and not others, whatever its first line was."""
        delimiter, count = self._parser.delimiter, self._unlabelled_delimiters
        return [
            (n, text + delimiter)
            if isinstance(text, str) and text.count(delimiter) == count
            else (n, text)
            for n, text in lines
        ]

    def _take(self, start: ParserStart) -> None:
        """Use the parser the first line implies; a header-less canonical feed (no header,
        no ``--columns``) is read with its optional label column whatever its first line had."""
        layout, parser = start.layout, start.parser
        canonical = not layout.names and not self.options.columns and layout.time is not None
        if canonical:
            layout = positional_layout(len(SIGNALS) + 2)
            parser = RowParser(
                layout, self.units, parser.delimiter, self.options.rate_hz, quoted=parser.quoted
            )
            self._unlabelled_delimiters = len(SIGNALS)
        self.layout, self._parser = layout, parser

    def _start(self, lines):
        bad = []
        for position, (number, text) in enumerate(lines):
            if isinstance(text, LineProblem):
                bad.append((number, text.reason, text.detail))
                continue
            try:
                start = start_parser([(number, text)], self.name, self.options, self.units,
                                     file=False)  # fmt: skip
            except DataError as error:
                bad.append((number, NOT_A_ROW, error.reason))
                continue
            if start is not None:
                self._take(start)
                return start.rest + lines[position + 1 :], bad
        return [], bad


def paced(source, speed: float = 1.0, slice_s: float = 0.05) -> Iterator[ParsedRows]:
    """Replay a source at ``speed`` × real time, by its timestamps, in slices of ``slice_s``."""
    if speed <= 0:
        raise ValueError(f"replay speed must be positive, not {speed}")
    start_wall = first = None
    for parsed in source:
        times = parsed.rows[:, 0]
        if len(times) == 0:
            yield parsed
            continue
        if first is None:
            first, start_wall = times[0], time.monotonic()
        edges = np.arange(times[0], times[-1] + slice_s, slice_s)
        cuts = np.searchsorted(times, edges[1:], side="left").tolist()
        bounds = sorted({0, *cuts, len(times)})
        for i, (a, b) in enumerate(itertools.pairwise(bounds)):
            if a == b:
                continue
            due = start_wall + (times[b - 1] - first) / speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield ParsedRows(
                parsed.rows[a:b],
                parsed.lines[a:b],
                None if parsed.labels is None else parsed.labels[a:b],
                parsed.bad if i == 0 else [],
            )


def is_recording_folder(path: Path, nested: bool = True) -> bool:
    """Whether a folder is one recording (an unzipped Sensor Logger or phyphox export) rather
    than a folder of recordings. ``nested=False``: only if it holds the export's files itself
    (a data set's folders: ``WALKING/`` holding ``morning/`` and ``evening/`` exports is a
    label folder, not one recording)."""
    return path.is_dir() and export_kind(path, nested) is not None


def open_source(path: str, options: InputOptions):
    """The source for ``path``: ``-`` (stdin), a Sensor Logger or phyphox export (zip,
    folder, or phyphox's lone CSV), or a CSV file."""
    if path != "-":
        p = Path(path)
        if not p.exists():
            raise DataError("no such file or folder", p)
        kind = options.format if options.format in EXPORT_FORMATS else None
        if options.format == "auto" and (p.is_dir() or p.suffix.lower() in (".zip", ".csv")):
            kind = export_kind(p)
            if kind is None and (p.is_dir() or p.suffix.lower() == ".zip"):
                raise DataError(
                    "not a Sensor Logger or phyphox export (no Metadata.csv or "
                    'time,seconds_elapsed CSVs; no meta/ folder or "Time (s)" CSVs); a '
                    "folder of recordings is a data set (harlite stream --output-dir, harlite "
                    "batch, harlite train)",
                    p,
                )
        if kind == SENSOR_LOGGER:
            return SensorLoggerSource(p, options)
        if kind == PHYPHOX:
            return PhyphoxSource(p, options)
        if p.is_dir():
            raise DataError("is a folder: give a CSV file (or --format sensorlogger/phyphox)", p)
    return CsvSource(path, options)
