"""What a column's cells hold: emails, card numbers, IBANs, phone numbers and other values, whole or in text.

Everything works on whole Arrow string arrays. A batch's cells are normalised once (trimmed,
lower-cased) and, when a sample shows few distinct values, dictionary-encoded so each distinct value
is classified and hashed once. Byte statistics from the raw buffers decide which cells an anchored
regex needs to look at; every match of a token pattern inside text comes out of one
replace-and-split pass (`pc.replace_substring_regex` + `pc.split_pattern`); card and phone digits
are read from the buffers as integers. No per-cell Python loops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.db.types import to_pandas
from sanitize.keys import SecretKey, canonical_text
from sanitize.strategies.vector import string_bytes
from sanitize.verify.fingerprints import hash_numbers, hash_strings, sorted_unique

KINDS = ("email", "card", "iban", "phone", "value")
EXACT_KINDS = ("email", "card", "iban")  # identifiers no fake equals by chance

_EMAIL = r"[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
_IBAN = r"[a-z]{2}[0-9]{2}(?: ?[a-z0-9]){11,30}"
_EMAIL_CELL = f"^{_EMAIL}$"
_IBAN_CELL = f"^{_IBAN}$"
_NUM_CELL = r"^\+?[0-9][0-9 ().\-/]*$"
_TOKEN_HINT = r"@|[0-9][0-9 ().+-]{7,}[0-9]|[a-z]{2}[0-9]{2} ?[a-z0-9]{4}"  # any token pattern needs this
TOKEN_PATTERNS = (
    ("email", _EMAIL),
    ("iban", f"\\b{_IBAN}\\b"),
    ("number", r"\+?[0-9][0-9 ().-]{7,22}[0-9]"),
)
_MARK = "\x1e"  # brackets each match for the split; cells holding it get "\x1d" instead (matches alike)

Dictionary = Literal["auto", "always", "never"]


# --- the cells of one column in one batch --------------------------------------------------------


@dataclass
class CellText:
    """The non-NULL cells of one column in one batch, normalised (trimmed, lower-cased).

    `items` holds one text per cell, or (dictionary-encoded) one per distinct raw value with `index`
    giving each cell's item. Everything downstream works on items and maps results to cells.
    """

    rows: np.ndarray  # position of each cell in the batch
    items: pa.Array  # large_string
    index: np.ndarray | None = None
    _groups: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.rows)

    def per_cell(self, values: np.ndarray) -> np.ndarray:
        """An array over items, as one value per cell."""
        return values if self.index is None else values[self.index]

    def texts(self, cells: np.ndarray) -> pa.Array:
        """The normalised text of the given cells."""
        return self.items.take(pa.array(cells if self.index is None else self.index[cells]))

    def cell_counts(self) -> np.ndarray | None:
        """How many cells hold each item (None: one each)."""
        if self.index is None:
            return None
        return np.bincount(self.index, minlength=len(self.items))

    def cells_of(self, items: np.ndarray) -> np.ndarray:
        """Sorted distinct cells that hold any of the given items."""
        if self.index is None:
            return sorted_unique(items)
        mark = np.zeros(len(self.items), dtype=bool)
        mark[items] = True
        return np.flatnonzero(mark[self.index])

    def expand(self, items: np.ndarray, distinct: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(entry, cell) for every cell holding each entry's item; `distinct`: no item repeats."""
        if self.index is None:
            return np.arange(len(items)), items
        if distinct:
            entry_of = np.full(len(self.items), -1, dtype=np.int64)
            entry_of[items] = np.arange(len(items))
            e = entry_of[self.index]
            cells = np.flatnonzero(e >= 0)
            return e[cells], cells
        if self._groups is None:
            order = np.argsort(self.index, kind="stable")
            starts = np.zeros(len(self.items) + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.index, minlength=len(self.items)), out=starts[1:])
            self._groups = order, starts
        order, starts = self._groups
        count = starts[items + 1] - starts[items]
        entry = np.repeat(np.arange(len(items)), count)
        first = np.repeat(starts[items] - (np.cumsum(count) - count), count)
        return entry, order[first + np.arange(len(entry))]

    @classmethod
    def of(cls, items: pa.Array) -> CellText:
        """Cells given as already normalised text, one item each."""
        return cls(np.arange(len(items)), items.cast(pa.large_string()))


def _normalise(arr: pa.Array) -> pa.Array:
    """Trimmed and lower-cased (ASCII-only arrays take the cheaper ASCII kernel: same result)."""
    arr = pc.utf8_trim_whitespace(arr)
    if pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        return pc.ascii_lower(arr)
    return pc.utf8_lower(arr)


def _few_distinct(arr: pa.Array, sample: int = 2048) -> bool:
    """Whether a strided sample suggests at most a quarter of the values are distinct."""
    n = len(arr)
    if n < 4 * sample:
        return False
    seen = pc.count_distinct(arr.take(pa.array(np.linspace(0, n - 1, sample).astype(np.int64)))).as_py()
    m = n / 4  # distinct values expected in the sample if the batch held n/4 of them, drawn evenly
    return bool(seen <= m * (1 - math.exp(-sample / m)))


def _is_text(values: pa.ChunkedArray | pa.Array | pd.Series) -> bool:
    if isinstance(values, pd.Series):
        dtype = values.dtype
        return isinstance(dtype, pd.StringDtype) or (
            isinstance(dtype, pd.ArrowDtype) and pa.types.is_string(dtype.pyarrow_dtype)
        )
    return pa.types.is_string(values.type) or pa.types.is_large_string(values.type)


def column_text(values: pa.ChunkedArray | pa.Array | pd.Series, dictionary: Dictionary = "auto") -> CellText:
    """The non-NULL cells of a column as normalised text (non-text values via `keys.canonical_text`)."""
    if not isinstance(values, pd.Series) and not _is_text(values):  # as `read_batches` would give it
        values = to_pandas(pa.table({"v": values}))["v"]
    if isinstance(values, pd.Series) and not _is_text(values):
        valid = values.notna().to_numpy()
        arr = pa.array(canonical_text(values[valid]), type=pa.large_string())
        rows = np.flatnonzero(valid)
    else:
        if isinstance(values, pd.Series):
            values = pa.array(values, type=pa.large_string(), from_pandas=True)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        arr = values.cast(pa.large_string())
        if arr.null_count:
            valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            rows = np.flatnonzero(valid)
            arr = arr.filter(pa.array(valid))
        else:
            rows = np.arange(len(arr))
    if dictionary == "always" or (dictionary == "auto" and _few_distinct(arr)):
        enc = pc.dictionary_encode(arr)
        return CellText(rows, _normalise(enc.dictionary), np.asarray(enc.indices, dtype=np.int64))
    return CellText(rows, _normalise(arr))


# --- byte statistics, digits and checksums ---------------------------------------------------------

_FIELD = 21  # bits per count in the packed statistics
_STATS = np.zeros(256, dtype=np.uint64)
_STATS[[b for b in range(256) if b & 0xC0 != 0x80]] += np.uint64(1)  # code points: non-continuation bytes
_STATS[48:58] += np.uint64(1 << _FIELD)
_STATS[ord("@")] += np.uint64(1 << (2 * _FIELD))
_CHUNK = 1 << 22  # bytes per pass, so temporaries stay small whatever the text size


def byte_stats(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """('@' count, ASCII digit count, code point count) of each string, from the raw Arrow buffers."""
    n = len(arr)
    arr = arr.cast(pa.large_string())
    offsets, data = string_bytes(arr)
    out = np.zeros((3, n), dtype=np.int64)
    if n == 0 or len(data) == 0:
        return out[0], out[1], out[2]
    if int(np.diff(offsets).max()) >= 1 << _FIELD:  # a string too long for packed counts
        out[0] = np.asarray(pc.count_substring(arr, "@"), dtype=np.int64)
        out[1] = np.asarray(pc.count_substring_regex(arr, "[0-9]"), dtype=np.int64)
        out[2] = np.asarray(pc.utf8_length(arr), dtype=np.int64)
        return out[0], out[1], out[2]
    lo = 0
    mask = np.uint64((1 << _FIELD) - 1)
    while lo < n:  # string ranges of about _CHUNK bytes
        hi = max(lo + 1, int(np.searchsorted(offsets, offsets[lo] + _CHUNK, side="right")) - 1)
        hi = min(hi, n)
        seg = data[offsets[lo] : offsets[hi]]
        cs = np.zeros(len(seg) + 1, dtype=np.uint64)
        np.cumsum(_STATS[seg], out=cs[1:])
        rel = offsets[lo : hi + 1] - offsets[lo]
        s = cs[rel[1:]] - cs[rel[:-1]]  # modular: exact while each string's counts fit their fields
        out[0, lo:hi] = s >> np.uint64(2 * _FIELD)
        out[1, lo:hi] = (s >> np.uint64(_FIELD)) & mask
        out[2, lo:hi] = s & mask
        lo = hi
    return out[0], out[1], out[2]


def _digit_matrix(raw: pa.Array, width: int = 19) -> tuple[np.ndarray, np.ndarray]:
    """(digit count, the last `width` ASCII digits of each string right-aligned and zero-padded)."""
    offsets, data = string_bytes(raw.cast(pa.large_string()))
    where = np.flatnonzero((data - np.uint8(48)) < 10)
    bounds = np.searchsorted(where, offsets)
    count = np.diff(bounds)
    m = np.zeros((len(count), width), dtype=np.uint8)
    if len(where):
        j = np.arange(width) - width
        idx = bounds[1:, None] + j
        m = np.where(j >= -count[:, None], data[where[np.clip(idx, 0, len(where) - 1)]] - np.uint8(48), 0)
    return count, m.astype(np.uint8)


def _luhn(m: np.ndarray) -> np.ndarray:
    """Luhn checksum of right-aligned, zero-padded digit rows."""
    m = m.astype(np.int64)
    doubled = m[:, -2::-2] * 2
    total = m[:, -1::-2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    return np.asarray(total % 10 == 0)


def luhn_valid(digits: pa.Array) -> np.ndarray:
    """Luhn checksum of each digit string (13-19 digits), vectorised."""
    if len(digits) == 0:
        return np.zeros(0, dtype=bool)
    return _luhn(_digit_matrix(digits)[1])


_POW10 = 10 ** np.arange(18, -1, -1, dtype=np.uint64)


def _number(m: np.ndarray) -> np.ndarray:
    """Digit rows (at most 19 digits) as unsigned integers."""
    return (m.astype(np.uint64) * _POW10[-m.shape[1] :]).sum(axis=1, dtype=np.uint64)


def iban_valid(compact: pa.Array) -> np.ndarray:
    """ISO 13616 mod-97 check of upper-case IBANs without spaces, vectorised."""
    n = len(compact)
    if n == 0:
        return np.zeros(0, dtype=bool)
    compact = compact.cast(pa.large_string())
    moved = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(compact, 4),
        pc.utf8_slice_codeunits(compact, 0, 4),
        pa.scalar("", pa.large_string()),
    )
    offsets, data = string_bytes(pc.utf8_lpad(moved, 34, "0").cast(pa.large_string()))
    data = data.reshape(n, 34)
    rem = np.zeros(n, dtype=np.int64)
    for j in range(34):
        c = data[:, j].astype(np.int64)
        is_digit = (c >= 48) & (c <= 57)
        rem = np.where(is_digit, (rem * 10 + (c - 48)) % 97, (rem * 100 + (c - 55)) % 97)
    return np.asarray(rem == 1)


# --- fingerprints of a column's cells ----------------------------------------------------------------


class CellFingerprints:
    """Fingerprints of one column's cells by kind: item positions, keyed hashes, inside-text flags."""

    def __init__(self, cells: CellText, cell: np.ndarray) -> None:
        self.cells = cells
        self.cell = cell  # hash of every whole (normalised) item
        self._parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {k: [] for k in KINDS}

    def add(self, kind: str, pos: np.ndarray, h: np.ndarray, token: bool) -> None:
        if len(pos):
            self._parts[kind].append((pos, h, np.full(len(pos), token)))

    def get(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(item positions, hashes, inside-text flags) of one kind."""
        parts = self._parts[kind]
        if not parts:
            e = np.zeros(0, dtype=np.int64)
            return e, e.astype(np.uint64), e.astype(bool)
        if len(parts) > 1:
            parts[:] = [tuple(np.concatenate(x) for x in zip(*parts, strict=True))]  # type: ignore[misc]
        return parts[0]


def _mask(a: pa.Array) -> np.ndarray:
    return np.asarray(a.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _add_numbers(out: CellFingerprints, pos: np.ndarray, raw: pa.Array, key: SecretKey, token: bool) -> None:
    """Digit strings: cards (13-19 digits, Luhn) and phone-like numbers (9-15 digits, last 9 kept)."""
    if len(pos) == 0:
        return
    n, m = _digit_matrix(raw)
    card = (n >= 13) & (n <= 19)
    if card.any():
        card[card] = _luhn(m[card])
    if card.any():
        out.add("card", pos[card], hash_numbers(_number(m[card]), n[card], key), token)
    phone = ~card & (n >= 9) & (n <= 15)
    if phone.any():
        out.add("phone", pos[phone], hash_numbers(_number(m[phone][:, -9:]), 9, key), token)


def _add_ibans(out: CellFingerprints, pos: np.ndarray, raw: pa.Array, key: SecretKey, token: bool) -> None:
    if len(pos) == 0:
        return
    compact = pc.utf8_upper(pc.replace_substring(raw, " ", ""))
    ok = iban_valid(compact)
    if ok.any():
        out.add("iban", pos[ok], hash_strings(compact.filter(pa.array(ok)), key), token)


def fingerprint_cells(text: CellText | pa.Array, key: SecretKey, min_value_length: int) -> CellFingerprints:
    """Whole cells by kind (email, IBAN, card/phone digits, generic value) plus tokens inside text.

    `text`: normalised cells, or a `CellText` (whose items may stand for many cells each).
    """
    cells = text if isinstance(text, CellText) else CellText.of(text)
    items = cells.items
    out = CellFingerprints(cells, hash_strings(items, key))
    if len(items) == 0:
        return out
    n_at, n_digit, length = byte_stats(items)
    # an email has exactly one '@'; a number or IBAN none and 7+ digits: regexes run on those alone
    email = n_at == 1
    if email.any():
        email[email] = _mask(pc.match_substring_regex(items.filter(pa.array(email)), _EMAIL_CELL))
    num = np.zeros(len(items), dtype=bool)
    iban = num.copy()
    numeric = np.flatnonzero((n_at == 0) & (n_digit >= 7))
    if len(numeric):
        is_num = _mask(pc.match_substring_regex(items.take(pa.array(numeric)), _NUM_CELL))
        num[numeric[is_num]] = True
        other = numeric[~is_num]
        if len(other):
            iban[other] = _mask(pc.match_substring_regex(items.take(pa.array(other)), _IBAN_CELL))
    idx = np.arange(len(items))
    out.add("email", idx[email], out.cell[email], False)
    _add_numbers(out, idx[num], items.filter(pa.array(num)), key, False)
    _add_ibans(out, idx[iban], items.filter(pa.array(iban)), key, False)
    rest = ~(email | num | iban)
    generic = rest & (length >= min_value_length)
    out.add("value", idx[generic], out.cell[generic], False)
    hint = rest & (length >= 6) & ((n_at > 0) | (n_digit >= 9))  # tokens need an '@' or 9+ digits
    if hint.any():
        hint[hint] = _mask(pc.match_substring_regex(items.filter(pa.array(hint)), _TOKEN_HINT))
    if hint.any():
        _add_tokens(out, idx[hint], items.filter(pa.array(hint)), n_at[hint], n_digit[hint], key)
    return out


def token_matches(text: pa.Array, pattern: str) -> tuple[np.ndarray, pa.Array]:
    """Every non-overlapping match of `pattern` in each string: (string index of each match, the matches)."""
    if len(text) == 0:
        return np.zeros(0, dtype=np.int64), pa.array([], type=pa.large_string())
    if pc.any(pc.match_substring(text, _MARK)).as_py():
        text = pc.replace_substring(text, _MARK, "\x1d")  # neither is in any pattern nor a word character
    marked = pc.replace_substring_regex(text, pattern, _MARK + "\\0" + _MARK)
    parts = pc.split_pattern(marked, _MARK)  # text, match, text, match, ..., text
    parent = np.asarray(pc.list_parent_indices(parts), dtype=np.int64)
    offsets = np.asarray(parts.offsets, dtype=np.int64)
    odd = ((np.arange(len(parent)) - offsets[parent]) & 1).astype(bool)
    return parent[odd], pc.list_flatten(parts).filter(pa.array(odd))


def _add_tokens(
    out: CellFingerprints,
    pos: np.ndarray,
    text: pa.Array,
    n_at: np.ndarray,
    n_digit: np.ndarray,
    key: SecretKey,
) -> None:
    """Every email, IBAN and card/phone number inside free text and JSON."""
    for kind, pattern in TOKEN_PATTERNS:
        if kind == "email":
            scan = n_at > 0
        elif kind == "number":
            scan = n_digit >= 9  # a card or phone number has 9+ digits
        else:
            scan = np.ones(len(pos), dtype=bool)
        if not scan.any():
            continue
        where, tokens = token_matches(text.filter(pa.array(scan)), pattern)
        if len(where) == 0:
            continue
        at = pos[scan][where]
        if kind == "email":
            out.add("email", at, hash_strings(tokens, key), True)
        elif kind == "iban":
            _add_ibans(out, at, tokens, key, True)
        else:
            _add_numbers(out, at, tokens, key, True)


def extract_tokens(text: pa.Array, key: SecretKey) -> CellFingerprints:
    """Tokens inside each cell of `text` (for tests and notebooks: which kinds, in which cells)."""
    cells = CellText.of(text)
    out = CellFingerprints(cells, np.zeros(0, dtype=np.uint64))
    n_at, n_digit, _ = byte_stats(cells.items)
    _add_tokens(out, np.arange(len(text)), cells.items, n_at, n_digit, key)
    return out
