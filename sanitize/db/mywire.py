"""MySQL/MariaDB result sets read straight off the wire into Arrow, a batch of rows at a time.

pymysql decodes every value of every row in Python (a few microseconds per value). Here pymysql sends
the query and reads the column definitions as usual; the rows that follow are read from its socket in
large chunks, the packet framing is walked in one tight loop (one step per row), and the fields of all
rows of a batch are located with a few numpy steps per column. Each column then becomes an Arrow
`string_view` array pointing into the received bytes (no copy per value), which Arrow casts to the
column's type in bulk: about a quarter of the client CPU of pymysql's row-by-row path.

Protocol (text result set, https://mariadb.com/kb/en/result-set-packets/): after the column
definitions and an EOF packet, one packet per row (3-byte length, 1-byte sequence number, payload),
each field a length-encoded string (0xFB = NULL), then an EOF packet (0xFE, payload < 9 bytes) or an
ERR packet (0xFF). A row of 16 MB or more continues in the next packets.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pymysql
from pymysql.constants import CR
from pymysql.protocol import MysqlPacket

MAX_PACKET = 0xFFFFFF
CHUNK = 1 << 20


class WireReader:
    """The rows of the result set an unbuffered (SSCursor) `execute` has just started.

    `binary[i]` says column i holds bytes (a binary_view array) rather than text (string_view).
    """

    def __init__(self, cursor: Any, binary: list[bool]) -> None:
        self.conn: Any = cursor.connection
        self.result: Any = cursor._result  # noqa: SLF001 - pymysql has no public hook for this
        if self.result is None or not self.result.unbuffered_active:
            raise ValueError("WireReader needs a result set still being streamed (SSCursor.execute)")
        if self.result.field_count != len(binary):
            raise ValueError(f"expected {len(binary)} columns, the result set has {self.result.field_count}")
        self.binary = binary
        self.done = False
        self._buf = bytearray()
        self._pos = 0  # framed up to here
        self._seq = self.conn._next_seq_id  # noqa: SLF001 - sequence number of the next packet

    def _broken(self) -> None:
        """The stream cannot be trusted any more: close the connection, end the result set."""
        self.done = True
        self.result.unbuffered_active = False
        self.conn._force_close()  # noqa: SLF001

    def _read_chunk(self) -> None:
        rfile = self.conn._rfile  # noqa: SLF001
        while True:
            try:
                data: bytes = rfile.read1(CHUNK)
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                self._broken()
                raise pymysql.err.OperationalError(
                    CR.CR_SERVER_LOST, f"Lost connection to MySQL server during query ({exc})"
                ) from None
        if not data:
            self._broken()
            raise pymysql.err.OperationalError(
                CR.CR_SERVER_LOST, "Lost connection to MySQL server during query"
            )
        self._buf += data

    def _end(self, payload: bytes) -> None:
        """The EOF or ERR packet that ends the result set: hand the connection back to pymysql."""
        self.done = True
        self.conn._next_seq_id = self._seq  # noqa: SLF001
        self.result.unbuffered_active = False
        self.result.connection = None
        self.result.rows = None
        leftover = len(self._buf) - self._pos
        self._buf.clear()
        self._pos = 0
        packet = MysqlPacket(payload, self.conn.encoding)
        if packet.is_error_packet():
            packet.raise_for_error()
        self.result._check_packet_is_eof(packet)  # noqa: SLF001 - warning count, more results
        if leftover:
            self._broken()
            raise pymysql.err.InternalError(f"{leftover} unexpected bytes after the end of a result set")

    def _frame(
        self, batch_rows: int, starts: list[int], ends: list[int], spliced: list[bytes]
    ) -> bytes | None:
        """Walk the packets in the buffer, adding where each row's payload starts and ends (offsets in
        the buffer); returns the payload of the packet that ends the result set once it is reached.

        Stops at `batch_rows` rows or at the first incomplete packet. A long row's start and end are
        -1 - its index in `spliced` (its packets are joined into one payload there)."""
        buf, pos, seq = self._buf, self._pos, self._seq
        end = len(buf)
        finish = None
        while pos + 4 <= end and len(starts) < batch_rows:
            length = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)
            stop = pos + 4 + length
            if stop > end:
                break
            if buf[pos + 3] != seq:
                self._broken()
                raise pymysql.err.InternalError(
                    f"Packet sequence number wrong - got {buf[pos + 3]} expected {seq}"
                )
            first = buf[pos + 4] if length else 0
            if first == 0xFF or (first == 0xFE and length < 9):
                finish = bytes(buf[pos + 4 : stop])
                pos, seq = stop, (seq + 1) & 0xFF
                break
            if length == MAX_PACKET:
                row, after, seq_after = _long_row(buf, pos, seq)
                if row is None:  # its last packet has not arrived yet
                    break
                starts.append(-1 - len(spliced))
                ends.append(-1 - len(spliced))
                spliced.append(row)
                pos, seq = after, seq_after
            else:
                starts.append(pos + 4)
                ends.append(stop)
                pos, seq = stop, (seq + 1) & 0xFF
        self._pos, self._seq = pos, seq
        return finish

    def batches(self, batch_rows: int) -> Iterator[list[pa.Array]]:
        """Per batch of `batch_rows` rows (the last may be shorter), one array per column (NULL = SQL
        NULL)."""
        starts: list[int] = []
        ends: list[int] = []
        spliced: list[bytes] = []
        while not self.done:
            finish = self._frame(batch_rows, starts, ends, spliced)
            batch = None
            if len(starts) >= batch_rows or (finish is not None and starts):
                batch = self._parse(bytes(self._buf[: self._pos]), starts, ends, spliced)
                del self._buf[: self._pos]  # consumed before yielding: a reader may stop at any yield
                self._pos, starts, ends, spliced = 0, [], [], []
            if finish is not None:
                self._end(finish)
            elif batch is None:
                self._read_chunk()
            if batch is not None:
                yield batch

    def _parse(
        self, framed: bytes, starts: list[int], ends: list[int], spliced: list[bytes]
    ) -> list[pa.Array]:
        at = np.array(starts, dtype=np.int64)
        stop = np.array(ends, dtype=np.int64)
        if spliced:
            lengths = np.array([len(r) for r in spliced], dtype=np.int64)
            bases = len(framed) + np.concatenate([[0], np.cumsum(lengths)[:-1]])
            long_rows = np.flatnonzero(at < 0)
            which = -1 - at[long_rows]
            at[long_rows] = bases[which]
            stop[long_rows] = bases[which] + lengths[which]
        # 16 zero bytes at the end: the 12-byte reads for short values never leave the buffer
        try:
            return fields_to_arrays(b"".join([framed, *spliced, bytes(16)]), at, stop, self.binary)
        except ValueError as exc:
            self._broken()
            raise pymysql.err.InternalError(str(exc)) from None

    def drain(self) -> None:
        """Read and drop the rest of the result set (after a KILL QUERY, or when a reader stops)."""
        for _ in self.batches(1 << 16):
            pass


def _long_row(buf: bytearray, pos: int, seq: int) -> tuple[bytes | None, int, int]:
    """A row sent as several packets: (payload, position after it, next sequence number), or
    (None, pos, seq) while the buffer does not hold all its packets yet."""
    parts = []
    while True:
        if pos + 4 > len(buf):
            return None, pos, seq
        length = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16)
        if pos + 4 + length > len(buf):
            return None, pos, seq
        parts.append(bytes(buf[pos + 4 : pos + 4 + length]))
        pos, seq = pos + 4 + length, (seq + 1) & 0xFF
        if length < MAX_PACKET:
            return b"".join(parts), pos, seq


def _uint(data: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    value = np.zeros(len(at), dtype=np.int64)
    for k in range(width):
        value |= data[at + k].astype(np.int64) << (8 * k)
    return value


def fields_to_arrays(
    payload: bytes, starts: np.ndarray, ends: np.ndarray, binary: list[bool]
) -> list[pa.Array]:
    """Rows of length-encoded fields (row i is payload[starts[i]:ends[i]]) -> one string_view (or,
    where `binary`, binary_view) array per column, viewing `payload`, which must end with 16 spare
    bytes. ValueError when the fields do not fill each row exactly (no view may point past its row)."""
    data = np.frombuffer(payload, dtype=np.uint8)
    n = len(starts)
    buffer = pa.py_buffer(payload)
    pos = starts
    fields: list[tuple[np.ndarray, np.ndarray, np.ndarray, pa.DataType]] = []
    for is_binary in binary:
        if (pos >= ends).any():
            raise ValueError("a row holds fewer fields than the result set has columns")
        first = data[pos]
        length = first.astype(np.int64)
        head = np.ones(n, dtype=np.int64)
        null = first == 0xFB
        if (first >= 0xFB).any():
            length[null] = 0
            for code, width in ((0xFC, 2), (0xFD, 3), (0xFE, 8)):
                rows = np.flatnonzero(first == code)
                if len(rows):
                    length[rows] = _uint(data, pos[rows] + 1, width)
                    head[rows] = 1 + width
        start = pos + head
        fields.append((start, length, null, pa.binary_view() if is_binary else pa.string_view()))
        pos = start + length
    if not np.array_equal(pos, ends):
        raise ValueError("the fields of a row do not add up to its length")
    return [_views(data, buffer, *f) for f in fields]


# MASKS[k]: keep the first k of 12 inline bytes (a short value's view is zero-padded), as 3 words
MASKS = np.tril(np.full((13, 12), 0xFF, dtype=np.uint8), -1).view(np.uint32)


def _views(
    data: np.ndarray,
    buffer: pa.Buffer,
    start: np.ndarray,
    length: np.ndarray,
    null: np.ndarray,
    kind: pa.DataType,
) -> pa.Array:
    """A string_view array of the values data[start:start+length] (NULL where `null`).

    A view is 16 bytes: the length, then the value itself when it has up to 12 bytes (zero-padded),
    else its first 4 bytes, the buffer index (0) and its offset in the buffer."""
    n = len(start)
    # every 12-byte window of the data as one item: a gather copies 12 bytes per row at once
    windows = np.ndarray(shape=(len(data) - 11,), dtype="V12", buffer=data, strides=(1,))
    inline = windows[start].view(np.uint32).reshape(n, 3)
    inline &= MASKS[np.minimum(length, 12)]
    views = np.empty((n, 4), dtype=np.uint32)
    views[:, 0] = length
    views[:, 1:] = inline
    long_rows = np.flatnonzero(length > 12)
    if len(long_rows):
        views[long_rows, 2] = 0
        views[long_rows, 3] = start[long_rows]
    nulls = int(null.sum())
    validity = pa.py_buffer(np.packbits(~null, bitorder="little")) if nulls else None
    return pa.Array.from_buffers(kind, n, [validity, pa.py_buffer(views), buffer], null_count=nulls)
