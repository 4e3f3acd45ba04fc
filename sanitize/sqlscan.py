"""SQL text scanning, shared by the dump parsers and by reflection (no database, no dump format here).

`StatementSplitter` tracks quotes, dollar quotes, comments and the statement delimiter across
lines, so a `;` or a `COPY ... FROM stdin;` inside a string or a function body is never taken for
a statement end. It hands back each complete statement with comments removed (for classifying
it); the dump's bytes themselves are passed through untouched by the callers.

`ByteReader` reads a (possibly decompressed) dump stream in large blocks and serves both lines
(for SQL) and whole blocks of COPY data up to the `\\.` end marker, keeping the byte offset and
line number for error messages.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO, Literal

from sanitize.errors import DumpError
from sanitize.schema import fk_action

Dialect = Literal["postgresql", "mysql"]

_PG_NORMAL = re.compile(r"""'|"|\$(?:[A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*)?\$|--|/\*|;""")
_MY_NORMAL = re.compile(r"""'|"|`|--(?=[ \t\r\n]|$)|#|/\*|;""")
_BACKSLASH_SQ = re.compile(r"\\.|'", re.DOTALL)
_BACKSLASH_DQ = re.compile(r'\\.|"', re.DOTALL)
_PG_BLOCK = re.compile(r"/\*|\*/")


class StatementSplitter:
    """Feed a dump line by line; get back the statements that end on each line.

    A statement is returned without comments and without its delimiter. psql meta-commands
    (`\\connect`, `\\restrict`) and mysql's `DELIMITER` are returned as their own statements.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._mode = "normal"  # normal | sq | esq | dq | bq | dollar | block
        self._tag = ""  # dollar-quote tag
        self._depth = 0  # nested block comments (PostgreSQL)
        self._parts: list[str] = []
        self._delimiter = ";"
        self._normal = _PG_NORMAL if dialect == "postgresql" else _MY_NORMAL
        self.start_line = 0  # line where the pending statement began

    @property
    def pending(self) -> bool:
        """True while a statement has begun and not ended (or a quote/comment is still open)."""
        return self._mode not in ("normal",) or bool("".join(self._parts).strip())

    def _set_delimiter(self, delimiter: str) -> None:
        self._delimiter = delimiter
        base = _PG_NORMAL.pattern if self.dialect == "postgresql" else _MY_NORMAL.pattern
        self._normal = re.compile(base[: -len("|;")] + "|" + re.escape(delimiter))

    def feed(self, line: str, line_no: int = 0) -> list[str]:
        """Statements completed by this line (usually zero or one)."""
        done: list[str] = []
        if self._mode == "normal" and not "".join(self._parts).strip():
            stripped = line.strip()
            if self.dialect == "postgresql" and stripped.startswith("\\"):
                return [stripped]
            if self.dialect == "mysql" and stripped[:10].upper() == "DELIMITER ":
                self._set_delimiter(stripped[10:].strip())
                return [stripped]
            if stripped:
                self.start_line = line_no
        pos, n = 0, len(line)
        parts = self._parts
        while pos < n:
            mode = self._mode
            if mode == "normal":
                m = self._normal.search(line, pos)
                if m is None:
                    parts.append(line[pos:])
                    break
                tok = m.group()
                parts.append(line[pos : m.start()])
                pos = m.end()
                if tok == self._delimiter:
                    stmt = "".join(parts).strip()
                    parts.clear()
                    if stmt:
                        done.append(stmt)
                    self.start_line = line_no
                    continue
                if tok in ("--", "#"):
                    parts.append("\n")
                    break
                if tok == "/*":
                    if self.dialect == "mysql" and line.startswith("!", pos):
                        # /*!40101 ... */ is executable on MySQL: keep its text as statement text
                        parts.append(tok)
                        end = line.find("*/", pos)
                        if end < 0:
                            self._mode = "block_keep"
                            parts.append(line[pos:])
                            break
                        parts.append(line[pos : end + 2])
                        pos = end + 2
                        continue
                    self._mode, self._depth = "block", 1
                    parts.append(" ")
                    continue
                parts.append(tok)
                if tok == "'":
                    prefix = line[max(0, m.start() - 2) : m.start()]
                    e_string = (
                        len(prefix) >= 1
                        and prefix[-1] in "eE"
                        and (len(prefix) < 2 or not (prefix[0].isalnum() or prefix[0] == "_"))
                    )
                    self._mode = "esq" if (self.dialect == "mysql" or e_string) else "sq"
                elif tok == '"':
                    self._mode = "dq_esc" if self.dialect == "mysql" else "dq"
                elif tok == "`":
                    self._mode = "bq"
                else:  # dollar quote
                    self._mode, self._tag = "dollar", tok
            elif mode in ("sq", "dq", "bq"):
                quote = {"sq": "'", "dq": '"', "bq": "`"}[mode]
                end = line.find(quote, pos)
                if end < 0:
                    parts.append(line[pos:])
                    break
                parts.append(line[pos : end + 1])
                pos = end + 1
                self._mode = "normal"  # a doubled quote re-enters at once on the next token
            elif mode in ("esq", "dq_esc"):
                pat = _BACKSLASH_SQ if mode == "esq" else _BACKSLASH_DQ
                start = pos
                while True:
                    m = pat.search(line, pos)
                    if m is None:
                        parts.append(line[start:])
                        pos = n
                        break
                    pos = m.end()
                    if m.group() in ("'", '"'):
                        parts.append(line[start:pos])
                        self._mode = "normal"
                        break
            elif mode == "dollar":
                end = line.find(self._tag, pos)
                if end < 0:
                    parts.append(line[pos:])
                    break
                parts.append(line[pos : end + len(self._tag)])
                pos = end + len(self._tag)
                self._mode = "normal"
            elif mode == "block_keep":
                end = line.find("*/", pos)
                if end < 0:
                    parts.append(line[pos:])
                    break
                parts.append(line[pos : end + 2])
                pos = end + 2
                self._mode = "normal"
            else:  # block comment
                if self.dialect == "mysql":
                    end = line.find("*/", pos)
                    if end < 0:
                        break
                    pos = end + 2
                    self._mode = "normal"
                    continue
                m = _PG_BLOCK.search(line, pos)
                if m is None:
                    break
                pos = m.end()
                self._depth += 1 if m.group() == "/*" else -1
                if self._depth == 0:
                    self._mode = "normal"
        return done


# --- identifiers ----------------------------------------------------------------------------

PG_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_\x80-\U0010ffff][\w$\x80-\U0010ffff]*)'
PG_QNAME = rf"{PG_IDENT}(?:\s*\.\s*{PG_IDENT})?"
MY_IDENT = r"(?:`(?:[^`]|``)+`|[A-Za-z_0-9$\x80-\U0010ffff]+)"
MY_QNAME = rf"{MY_IDENT}(?:\s*\.\s*{MY_IDENT})?"


def unquote_ident(text: str, dialect: Dialect = "postgresql") -> str:
    """`"My Col"` -> `My Col`; unquoted PostgreSQL names fold to lower case as the server does."""
    text = text.strip()
    if dialect == "postgresql":
        if text.startswith('"') and text.endswith('"'):
            return text[1:-1].replace('""', '"')
        return text.lower()
    if text.startswith("`") and text.endswith("`"):
        return text[1:-1].replace("``", "`")
    return text


def split_qualified(text: str, dialect: Dialect = "postgresql") -> tuple[str | None, str]:
    """`schema.table` (each part maybe quoted) as (schema or None, table)."""
    ident = PG_IDENT if dialect == "postgresql" else MY_IDENT
    parts = re.findall(ident, text)
    if len(parts) >= 2:
        return unquote_ident(parts[-2], dialect), unquote_ident(parts[-1], dialect)
    return None, unquote_ident(parts[0] if parts else text, dialect)


def parenthesized(text: str) -> str | None:
    """The contents of the parenthesis `text` starts with (quotes respected), or None when unclosed."""
    depth, quote = 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[1:i]
    return None


def split_top_level(text: str, sep: str = ",", *, backslash_escapes: bool = False) -> list[str]:
    """Split on `sep` outside parentheses, quotes and brackets."""
    out: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and backslash_escapes and quote != "`":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
        i += 1
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def ident_list(text: str, dialect: Dialect = "postgresql") -> tuple[str, ...]:
    """`(a, "B", c)` -> ('a', 'B', 'c')."""
    inner = text.strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    return tuple(unquote_ident(p, dialect) for p in split_top_level(inner) if p)


# --- the byte reader ------------------------------------------------------------------------

BLOCK = 1 << 22


class ByteReader:
    """Lines and COPY blocks from a binary stream, with byte offset and line number."""

    def __init__(self, f: BinaryIO, where: str, *, offset: int = 0, line: int = 1) -> None:
        self._f = f
        self.where = where
        self._buf = b""
        self._pos = 0
        self._eof = False
        self.offset = offset  # stream offset of the next unread byte
        self.line = line  # number of the next line

    def _fill(self, want: int = BLOCK) -> bool:
        if self._eof:
            return False
        try:
            data = self._f.read(max(BLOCK, want))
        except (EOFError, OSError, zlib.error) as exc:
            raise DumpError(
                f"{self.where}: the file cannot be read past byte {self.offset + len(self._buf) - self._pos} "
                f"(line ~{self.line}): {exc}. The dump is truncated or corrupt; take a fresh one."
            ) from None
        if not data:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + data
        self._pos = 0
        return True

    def readline(self) -> bytes:
        """The next line including its newline; b'' at the end of the stream."""
        search = self._pos
        while True:
            idx = self._buf.find(b"\n", search)
            if idx >= 0:
                line = self._buf[self._pos : idx + 1]
                self._pos = idx + 1
                self.offset += len(line)
                self.line += 1
                return line
            searched = len(self._buf) - self._pos
            if not self._fill():
                line = self._buf[self._pos :]
                self._pos = len(self._buf)
                self.offset += len(line)
                return line
            search = self._pos + searched

    def read_through(self, marker: bytes) -> bytes:
        """The bytes up to and including the next `marker` (or to the end of the stream)."""
        search = self._pos
        while True:
            idx = self._buf.find(marker, search)
            if idx >= 0:
                data = self._buf[self._pos : idx + len(marker)]
                self._consume(len(data), data.count(b"\n"))
                return data
            searched = max(0, len(self._buf) - self._pos - len(marker) + 1)
            if not self._fill():
                data = self._buf[self._pos :]
                self._consume(len(data), data.count(b"\n"))
                return data
            search = self._pos + searched

    def skip_to(self, offset: int, line: int) -> None:
        """Move forward to stream `offset` (known to be the start of `line`) without reading lines."""
        while self.offset + (len(self._buf) - self._pos) < offset and self._fill():
            pass
        step = min(offset - self.offset, len(self._buf) - self._pos)
        self._pos += step
        self.offset += step
        self.line = line

    def at_eof(self) -> bool:
        return self._pos >= len(self._buf) and (self._eof or not self._fill())

    def copy_chunks(self, size: int, what: str) -> Iterator[bytes]:
        """Blocks of whole COPY data lines (at most about `size` bytes each) up to the `\\.` line.

        Consumes the end marker. A stream that ends first raises DumpError (the dump is truncated).
        """
        start_line = self.line
        while True:
            while len(self._buf) - self._pos < size + 4 and self._fill(size + 4 - len(self._buf) + self._pos):
                pass
            buf, pos = self._buf, self._pos
            if buf.startswith(b"\\.\n", pos) or (self._eof and buf[pos:] == b"\\."):
                self._consume(min(3, len(buf) - pos), 1)
                return
            window = min(len(buf), pos + size + 4)
            end = buf.find(b"\n\\.\n", pos, window)
            if end < 0 and self._eof and window == len(buf) and buf.endswith(b"\n\\."):
                end = len(buf) - 3
            if end >= 0:
                data = buf[pos : end + 1]
                self._consume(len(data), data.count(b"\n"))
                yield data
                self._consume(min(3, len(self._buf) - self._pos), 1)
                return
            if self._eof:
                end_line = self.line + buf.count(b"\n", pos)
                raise DumpError(
                    f"{self.where}: {what} (COPY data from line {start_line}) has no end marker '\\.': "
                    "the file "
                    f"ends at byte {self.offset + len(buf) - pos} (line {end_line}) "
                    "inside the data, so the dump is truncated. Take a complete dump; nothing was written."
                )
            last = buf.rfind(b"\n", pos, pos + size)
            if last < 0:
                last = buf.find(b"\n", pos + size)
                if last < 0:  # one enormous line: read on
                    size *= 2
                    continue
            data = buf[pos : last + 1]
            self._consume(len(data), data.count(b"\n"))
            yield data

    def _consume(self, nbytes: int, nlines: int) -> None:
        self._pos += nbytes
        self.offset += nbytes
        self.line += nlines


_FK_ACTION = re.compile(
    r"\bON\s+(DELETE|UPDATE)\s+(CASCADE|SET\s+NULL|SET\s+DEFAULT|RESTRICT|NO\s+ACTION)\b", re.I
)


def fk_actions(text: str) -> dict[str, str | None]:
    """`on_delete` / `on_update` of a REFERENCES clause's text, for schema.ForeignKey."""
    out: dict[str, str | None] = {"on_delete": None, "on_update": None}
    for event, action in _FK_ACTION.findall(text):
        out[f"on_{event.lower()}"] = fk_action(action)
    return out
