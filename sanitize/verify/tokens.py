"""What a column's cells hold: emails, card numbers, IBANs, phone numbers and other values, whole or in text.

Everything works on whole Arrow string arrays (`cells.CellText`: each distinct value of a
dictionary-encoded batch is classified once). Byte counts from the raw buffers decide which cells an
anchored regex needs to look at; every match of a token pattern inside text comes out of one
replace-and-split pass (`pc.replace_substring_regex` + `pc.split_pattern`: the regex's own
non-overlapping matches); card and phone digits are read from the buffers as integers. No per-cell
Python loops.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.arrow import string_bytes
from sanitize.keys import SecretKey
from sanitize.verify.cells import CellText
from sanitize.verify.fingerprints import hash_numbers, hash_strings

KINDS = ("email", "card", "iban", "phone", "value")
EXACT_KINDS = ("email", "card", "iban")  # identifiers no fake equals by chance

_EMAIL = r"[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
_IBAN = r"[a-z]{2}[0-9]{2}(?: ?[a-z0-9]){11,30}"
_EMAIL_CELL = f"^{_EMAIL}$"
_IBAN_CELL = f"^{_IBAN}$"
_NUM_CELL = r"^\+?[0-9][0-9 ().\-/]*$"
_SHORT_NUMBER = r"^[+-]?[0-9][0-9 .,/-]*$"  # fewer than 7 digits: identifies nobody
_TOKEN_HINT = r"@|[0-9][0-9 ().+-]{7,}[0-9]|[a-z]{2}[0-9]{2} ?[a-z0-9]{4}"  # any token pattern needs this
TOKEN_PATTERNS = (
    ("email", _EMAIL),
    ("iban", f"\\b{_IBAN}\\b"),
    ("number", r"\+?[0-9][0-9 ().-]{7,22}[0-9]"),
)
_MARK = "\x1e"  # brackets each match for the split; cells holding it get "\x1d" instead (matches alike)

# --- byte statistics, digits and checksums ---------------------------------------------------------


def byte_counts(arr: pa.Array, byte: int) -> np.ndarray:
    """How often one ASCII byte occurs in each string (for rare bytes such as '@')."""
    offsets, data = string_bytes(arr.cast(pa.large_string()))
    return np.diff(np.searchsorted(np.flatnonzero(data == byte), offsets))


def digit_counts(arr: pa.Array) -> np.ndarray:
    """ASCII digits in each string, from the raw Arrow buffers."""
    offsets, data = string_bytes(arr.cast(pa.large_string()))
    if len(data) == 0:
        return np.zeros(len(arr), dtype=np.int64)
    is_digit = np.zeros(len(data) + 1, dtype=np.int8)  # a trailing 0 keeps every start index in range
    np.less(data - np.uint8(48), 10, out=is_digit[:-1].view(bool))
    counts = np.add.reduceat(is_digit, offsets[:-1], dtype=np.int64)
    counts[offsets[1:] == offsets[:-1]] = 0  # reduceat gives an empty string its next byte
    return counts


def char_lengths(arr: pa.Array) -> np.ndarray:
    """Code points of each string (byte lengths when the array is ASCII)."""
    if pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        return np.diff(string_bytes(arr.cast(pa.large_string()))[0])
    return np.asarray(pc.utf8_length(arr), dtype=np.int64)


def _digits(raw: pa.Array, count: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(digit count, offsets, bytes) of each string's ASCII digits, concatenated."""
    offsets, data = string_bytes(raw.cast(pa.large_string()))
    if count is None:
        count = digit_counts(raw)
    digits = data[(data - np.uint8(48)) < 10]
    ends = np.zeros(len(count) + 1, dtype=np.int64)
    np.cumsum(count, out=ends[1:])
    return count, ends, digits


def _last_digits(
    ends: np.ndarray, digits: np.ndarray, which: np.ndarray, count: np.ndarray, width: int
) -> np.ndarray:
    """The last `width` digits of the chosen strings as values, right-aligned and zero-padded: (k, width)."""
    padded = np.concatenate([np.full(width, 48, dtype=np.uint8), digits])
    windows = np.lib.stride_tricks.as_strided(padded, shape=(len(digits) + 1, width), strides=(1, 1))
    m = windows[ends[which + 1]] - np.uint8(48)  # padded[end : end + width] = digits[end - width : end]
    short = np.flatnonzero(count[which] < width)
    if len(short):  # digits of earlier strings
        m[short] = np.where(np.arange(width) >= width - count[which][short, None], m[short], 0)
    return m


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
    count, ends, data = _digits(digits, None)
    return _luhn(_last_digits(ends, data, np.arange(len(digits)), count, 19))


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
    _, data = string_bytes(pc.utf8_lpad(moved, 34, "0").cast(pa.large_string()))
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
            pos, h, token = (np.concatenate(x) for x in zip(*parts, strict=True))
            parts[:] = [(pos, h, token)]
        return parts[0]


def _mask(a: pa.Array) -> np.ndarray:
    return np.asarray(a.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _add_numbers(
    out: CellFingerprints,
    pos: np.ndarray,
    raw: pa.Array,
    key: SecretKey,
    token: bool,
    count: np.ndarray | None = None,
) -> None:
    """Digit strings: cards (13-19 digits, Luhn) and phone-like numbers (9-15 digits, last 9 kept)."""
    if len(pos) == 0:
        return
    n, ends, digits = _digits(raw, count)
    card = np.flatnonzero((n >= 13) & (n <= 19))
    if len(card):
        m = _last_digits(ends, digits, card, n, 19)
        ok = _luhn(m)
        card = card[ok]
        if len(card):
            out.add("card", pos[card], hash_numbers(_number(m[ok]), n[card], key), token)
    is_phone = (n >= 9) & (n <= 15)
    is_phone[card] = False
    phone = np.flatnonzero(is_phone)
    if len(phone):
        out.add(
            "phone", pos[phone], hash_numbers(_number(_last_digits(ends, digits, phone, n, 9)), 9, key), token
        )


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
    n = len(items)
    if n == 0:
        return out
    # an email has exactly one '@'; a number or IBAN none and 7+ digits: regexes run on those alone
    n_at = byte_counts(items, ord("@"))
    email = n_at == 1
    if email.any():
        email[email] = _mask(pc.match_substring_regex(items.filter(pa.array(email)), _EMAIL_CELL))
    n_digit = np.zeros(n, dtype=np.int64)
    if email.all():
        other = np.zeros(0, dtype=np.int64)
    elif email.any():
        other = np.flatnonzero(~email)
        n_digit[other] = digit_counts(items.take(pa.array(other)))
    else:
        other = np.arange(n)
        n_digit = digit_counts(items)
    num = np.zeros(n, dtype=bool)
    iban = num.copy()
    numeric = other[(n_at[other] == 0) & (n_digit[other] >= 7)]
    if len(numeric):
        is_num = _mask(pc.match_substring_regex(items.take(pa.array(numeric)), _NUM_CELL))
        num[numeric[is_num]] = True
        not_num = numeric[~is_num]
        if len(not_num):
            iban[not_num] = _mask(pc.match_substring_regex(items.take(pa.array(not_num)), _IBAN_CELL))
    idx = np.arange(n)
    out.add("email", idx[email], out.cell[email], False)
    _add_numbers(out, idx[num], items.filter(pa.array(num)), key, False, n_digit[num])
    _add_ibans(out, idx[iban], items.filter(pa.array(iban)), key, False)
    rest = ~(email | num | iban)
    if not rest.any():
        return out
    length = char_lengths(items)
    generic = rest & (length >= min_value_length)
    number = generic & (n_digit > 0) & (n_digit < 7)
    if number.any():
        generic[number] = ~_mask(pc.match_substring_regex(items.filter(pa.array(number)), _SHORT_NUMBER))
    out.add("value", idx[generic], out.cell[generic], False)
    hint = rest & (length >= 6) & ((n_at > 0) | (n_digit >= 9))  # tokens need an '@' or 9+ digits
    if hint.any():
        hint[hint] = _mask(pc.match_substring_regex(items.filter(pa.array(hint)), _TOKEN_HINT))
    if hint.any():
        _add_tokens(out, idx[hint], items.filter(pa.array(hint)), n_at[hint], n_digit[hint], key)
    return out


def token_matches(text: pa.Array, pattern: str) -> tuple[np.ndarray, pa.Array]:
    """Every non-overlapping match of `pattern` in each string: (string index of each match, the matches)."""
    none = np.zeros(0, dtype=np.int64), pa.array([], type=pa.large_string())
    if len(text) == 0:
        return none
    has = _mask(pc.match_substring_regex(text, pattern))  # a cheap pass first: most text holds no token
    if not has.any():
        return none
    rows = None
    if not has.all():
        rows = np.flatnonzero(has)
        text = text.take(pa.array(rows))
    if (string_bytes(text.cast(pa.large_string()))[1] == ord(_MARK)).any():
        text = pc.replace_substring(text, _MARK, "\x1d")  # neither is in any pattern nor a word character
    marked = pc.replace_substring_regex(text, pattern, _MARK + "\\0" + _MARK)
    parts = pc.split_pattern(marked, _MARK)  # text, match, text, match, ..., text
    parent = np.asarray(pc.list_parent_indices(parts), dtype=np.int64)
    offsets = np.asarray(parts.offsets, dtype=np.int64)
    odd = ((np.arange(len(parent)) - offsets[parent]) & 1).astype(bool)
    where = parent[odd] if rows is None else rows[parent[odd]]
    return where, pc.list_flatten(parts).filter(pa.array(odd))


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
    n_at, n_digit = byte_counts(cells.items, ord("@")), digit_counts(cells.items)
    _add_tokens(out, np.arange(len(text)), cells.items, n_at, n_digit, key)
    return out
