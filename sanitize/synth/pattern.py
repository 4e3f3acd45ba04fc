"""Strings that match a regular expression from a CHECK (`code ~ '^[A-Z]{3}-[0-9]{4}$'`), vectorised.

The simple subset real schemas use is understood: literal characters and escapes, `.`, classes
(`[a-z0-9_]`, `[^,]`, `\\d`, `\\w`, `\\s`), quantifiers (`?`, `*`, `+`, `{m}`, `{m,n}`), groups without
alternation, and `^`/`$` anchors. `Pattern.random` draws matching strings; `Pattern.unique` makes
the i-th distinct one for position i (a mixed-radix number over the pattern's characters), so a
unique code column can match its CHECK too. Anything else raises `UnsupportedPattern`.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

_PRINTABLE = string.ascii_letters + string.digits + "_-"  # what `.` and negated classes draw from
_CLASSES = {
    "d": string.digits,
    "w": string.ascii_letters + string.digits + "_",
    "s": " ",
}
_OPEN_MAX = 8  # `*`, `+`, `{m,}` repeat at most this many extra times


class UnsupportedPattern(ValueError):
    """A regular expression outside the subset synth can generate from."""


@dataclass(frozen=True)
class Atom:
    chars: str
    low: int
    high: int


def _class(body: str) -> str:
    negate = body.startswith("^")
    if negate:
        body = body[1:]
    chars: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            chars.extend(_CLASSES.get(nxt, nxt))
            i += 2
            continue
        if i + 2 < len(body) and body[i + 1] == "-":
            chars.extend(chr(c) for c in range(ord(ch), ord(body[i + 2]) + 1))
            i += 3
            continue
        if ch == "[" and body.startswith("[:", i):
            end = body.index(":]", i)
            name = body[i + 2 : end]
            chars.extend(
                {
                    "alpha": string.ascii_letters,
                    "digit": string.digits,
                    "alnum": string.ascii_letters + string.digits,
                }.get(name, "")
            )
            i = end + 2
            continue
        chars.append(ch)
        i += 1
    if negate:
        return "".join(c for c in _PRINTABLE if c not in chars)
    return "".join(dict.fromkeys(chars))


def _atoms(regex: str) -> list[Atom]:
    atoms: list[Atom] = []
    i = 0
    body = regex
    if body.startswith("^"):
        body = body[1:]
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    while i < len(body):
        ch = body[i]
        if ch in "|":
            raise UnsupportedPattern("alternation")
        if ch == "(":
            end = body.find(")", i)
            inner = body[i + 1 : end]
            if end < 0 or "(" in inner or "|" in inner:
                raise UnsupportedPattern("nested groups or alternation")
            group = _atoms(inner.removeprefix("?:"))
            i = end + 1
            low, high, i = _quantifier(body, i)
            if (low, high) != (1, 1) and len(group) == 1:
                g = group[0]
                group = [Atom(g.chars, g.low * low, g.high * high)]
            elif (low, high) != (1, 1):  # a group of several parts: repeated the fewest times allowed, >= 1
                group = group * max(low, 1) if high > 0 else []
            atoms.extend(group)
            continue
        if ch == "[":
            end = _class_end(body, i)
            chars = _class(body[i + 1 : end])
            i = end + 1
        elif ch == "\\":
            nxt = body[i + 1]
            chars = _CLASSES.get(nxt, nxt)
            i += 2
        elif ch == ".":
            chars = _PRINTABLE
            i += 1
        elif ch in "^$*+?{":
            raise UnsupportedPattern(f"{ch!r} in an unexpected place")
        else:
            chars = ch
            i += 1
        if not chars:
            raise UnsupportedPattern("an empty character class")
        low, high, i = _quantifier(body, i)
        atoms.append(Atom(chars, low, high))
    return atoms


def _class_end(body: str, i: int) -> int:
    """Index of the `]` closing the class opened at i (a leading `]` and `[:alpha:]` are inside)."""
    j = i + 1 + (body[i + 1] == "^")
    j += body[j] == "]"
    while True:
        if body.startswith("[:", j):
            j = body.index(":]", j) + 2
        elif body[j] == "\\":
            j += 2
        elif body[j] == "]":
            return j
        else:
            j += 1


def _quantifier(body: str, i: int) -> tuple[int, int, int]:
    if i >= len(body):
        return 1, 1, i
    ch = body[i]
    if ch == "?":
        return 0, 1, i + 1
    if ch == "*":
        return 0, _OPEN_MAX, i + 1
    if ch == "+":
        return 1, _OPEN_MAX, i + 1
    if ch == "{":
        m = re.match(r"\{(\d+)(,(\d*))?\}", body[i:])
        if m is None:
            raise UnsupportedPattern("a malformed {m,n}")
        low = int(m.group(1))
        high = low if m.group(2) is None else (int(m.group(3)) if m.group(3) else low + _OPEN_MAX)
        return low, high, i + m.end()
    return 1, 1, i


@dataclass(frozen=True)
class Pattern:
    regex: str
    atoms: tuple[Atom, ...]

    @classmethod
    def parse(cls, regex: str) -> Pattern:
        try:
            return cls(regex, tuple(_atoms(regex)))
        except (IndexError, ValueError) as exc:
            if isinstance(exc, UnsupportedPattern):
                raise
            raise UnsupportedPattern(str(exc)) from None

    @property
    def min_length(self) -> int:
        return sum(a.low for a in self.atoms)

    def random(self, rng: np.random.Generator, n: int, max_length: int | None = None) -> pa.Array:
        """`n` matching strings, each atom repeated a random number of times (short-ish)."""
        room = (max_length or 10**6) - self.min_length
        parts: list[np.ndarray] = []
        for a in self.atoms:
            extra = min(a.high - a.low, 6, max(room, 0))
            counts = a.low + (rng.integers(0, extra + 1, n) if extra > 0 else np.zeros(n, dtype=np.int64))
            room -= extra
            width = a.low + extra
            table = np.array(list(a.chars))
            picks = table[rng.integers(0, len(a.chars), (n, max(width, 1)))]
            keep = np.arange(max(width, 1))[None, :] < counts[:, None]
            parts.append(np.where(keep, picks, ""))
        return _join(parts, n)

    def capacity(self, max_length: int | None = None) -> int:
        """How many distinct strings `unique` can make."""
        total, room = 1, (max_length or 10**6) - self.min_length
        for a in self.atoms:
            extra = min(a.high - a.low, max(room, 0))
            room -= extra
            total *= len(a.chars) ** (a.low + extra) if len(a.chars) > 1 else 1
            if total > 2**62:
                return 2**62
        return total

    def unique(self, idx: np.ndarray, total: int, max_length: int | None = None) -> pa.Array:
        """Distinct matching strings for distinct idx in [0, total): fixed lengths, mixed radix."""
        room = (max_length or 10**6) - self.min_length
        widths: list[int] = []
        for a in self.atoms:  # lengthen atoms until the pattern holds `total` strings
            widths.append(a.low)
        cap = _capacity(self.atoms, widths)
        for k, a in enumerate(self.atoms):
            while cap < total and widths[k] < a.high and room > 0 and len(a.chars) > 1:
                widths[k] += 1
                room -= 1
                cap = _capacity(self.atoms, widths)
        v = idx.astype(np.uint64).copy()
        parts: list[np.ndarray] = []
        for a, w in reversed(list(zip(self.atoms, widths, strict=True))):
            table = np.array(list(a.chars))
            cols = []
            for _ in range(w):
                base = np.uint64(len(a.chars))
                cols.append(table[(v % base).astype(np.intp)])
                v //= base
            parts.append(np.stack(cols[::-1], axis=1) if cols else np.full((len(idx), 1), ""))
        return _join(parts[::-1], len(idx))


def _capacity(atoms: tuple[Atom, ...], widths: list[int]) -> int:
    total = 1
    for a, w in zip(atoms, widths, strict=True):
        total *= len(a.chars) ** w
        if total > 2**62:
            return 2**62
    return total


def _join(parts: list[np.ndarray], n: int) -> pa.Array:
    """Row i: its characters from every part, concatenated ('' cells are skipped), as one string."""
    if not parts:
        return pa.array([""] * n, type=pa.string())
    mat = np.concatenate([p.astype("U1") for p in parts], axis=1)
    codes = mat.view(np.uint32).reshape(mat.shape)
    if codes.max(initial=0) >= 128:  # not ASCII: join row by row
        return pa.array(["".join(row) for row in mat.tolist()], type=pa.string())
    keep = codes != 0
    data = codes[keep].astype(np.uint8)
    offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data.tobytes()))
