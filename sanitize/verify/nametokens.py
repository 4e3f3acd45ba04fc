"""People's name tokens: taken from the source's name and email columns, searched inside free text.

A customer's surname left in a ticket ("Thanks, Okafor") is a leak even though no whole value
matches. The source side splits the values of the columns the rules treat as people's names and
emails (an email's local part) into letter runs; the target side takes the capitalised words of
free text. Both are lower-cased and hashed (`fingerprints.hash_strings`); nothing is kept but the
fingerprints. All of it is Arrow compute over whole arrays: one regex split, then vectorised filters.

Tokens that identify nobody are left out on the source side: shorter than `MIN_TOKEN` characters,
common words of several languages (Faker's word lists) and titles/particles ("Mrs", "van", "née").
Tokens shared by many source rows are dropped when the set is built (`fingerprints`). Text that a
scrub replaced holds fake names; a fake equal to a real name is chance, not a leak, so tokens of the
fake name pools are not searched in scrub/json columns (`fake_name_hashes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.arrow import string_bytes
from sanitize.keys import SecretKey, mix
from sanitize.verify.fingerprints import HashSet, hash_strings, sorted_unique

MIN_TOKEN = 3
_SPLIT = r"[^\p{L}\p{M}]+"  # a token is a run of letters (and their combining marks)
_WORD_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "da_DK", "cs_CZ")
_TITLES = (
    "mr mrs ms miss mme mlle dr prof sir madam lady lord rev herr frau señor señora sr sra jr "
    "van von der den del della de la le du dos das da di bin ibn al el née nee geb ben "
    "dear thanks thank hello hi hey regards best kind customer client user admin support team "
    "info sales contact office mail email noreply reply billing orders service "
    "please cheers sincerely yours cc re fwd ok "
    "md phd dds dvm esq rn cpa jr sr iii"  # name suffixes
)


@lru_cache(maxsize=1)
def common_words() -> pa.Array:
    """Lower-case common words of several languages, plus titles and name particles."""
    from importlib import import_module

    words: set[str] = set(_TITLES.split())
    for locale in _WORD_LOCALES:
        try:
            provider = import_module(f"faker.providers.lorem.{locale}").Provider
        except (ImportError, AttributeError):  # an older Faker without this locale
            continue
        words.update(str(w).lower() for w in getattr(provider, "word_list", ()))
    return pa.array(sorted(words), type=pa.large_string())


def _split(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(cell of each token, the tokens) of every letter run in each string."""
    parts = pc.split_pattern_regex(values.cast(pa.large_string()), _SPLIT)
    cell = np.asarray(pc.list_parent_indices(parts), dtype=np.int64)
    return cell, pc.list_flatten(parts)


@dataclass
class Runs:
    """Letter runs of each cell, in order: cell, lower-case text, capitalised, length in characters,
    and whether a run follows the previous one of its cell after a single space or hyphen (`joined`)."""

    cell: np.ndarray
    lower: pa.Array
    upper: np.ndarray
    length: np.ndarray
    joined: np.ndarray


def _ascii_runs(values: pa.Array) -> Runs | None:
    """Letter runs of ASCII text, from the raw bytes; None when the text is not all ASCII."""
    offsets, data = string_bytes(values.cast(pa.large_string()))
    if len(data) and int(data.max()) >= 0x80:
        return None
    letter = ((data | np.uint8(0x20)) - np.uint8(97)) < 26
    edge = np.zeros(len(data) + 1, dtype=bool)  # a run starts or ends where letters start or stop ...
    edge[1:-1] = letter[1:] != letter[:-1]
    edge[0], edge[-1] = True, True
    edge[offsets[offsets < len(data)]] = True  # ... and at every cell boundary
    bound = np.flatnonzero(edge)
    starts, ends = bound[:-1], bound[1:]
    run = letter[starts] if len(starts) else np.zeros(0, dtype=bool)
    starts, ends = starts[run], ends[run]
    cell = np.searchsorted(offsets, starts, side="right") - 1
    lengths = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(ends - starts, out=lengths[1:])
    lowered = data[letter] | np.uint8(0x20)
    tokens = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(lengths), pa.py_buffer(lowered))
    joined = np.zeros(len(starts), dtype=bool)
    if len(starts) > 1:
        gap = (starts[1:] - ends[:-1] == 1) & (cell[1:] == cell[:-1])
        sep = data[np.minimum(ends[:-1], len(data) - 1)]
        joined[1:] = gap & ((sep == 0x20) | (sep == 0x2D))
    return Runs(cell, tokens, (data[starts] - np.uint8(65)) < 26, ends - starts, joined)


def _runs(values: pa.Array) -> Runs:
    """Letter runs of any text (the regex split for non-ASCII: a run then joins the previous one of its
    cell whatever separates them)."""
    runs = _ascii_runs(values)
    if runs is not None:
        return runs
    cell, tokens = _split(values)
    length = np.asarray(pc.utf8_length(tokens), dtype=np.int64)
    keep = length > 0  # the split also gives empty strings
    cell, tokens, length = cell[keep], tokens.filter(pa.array(keep)), length[keep]
    first = pc.utf8_slice_codeunits(tokens, 0, 1)
    upper = np.asarray(pc.utf8_is_upper(first).fill_null(False), dtype=bool)
    joined = np.zeros(len(cell), dtype=bool)
    joined[1:] = cell[1:] == cell[:-1]
    return Runs(cell, pc.utf8_lower(tokens), upper, length, joined)


def source_tokens(values: pa.Array, email: bool = False) -> tuple[np.ndarray, pa.Array]:
    """Name tokens of a name/email column's cells (NULLs allowed): (cell of each token, lower-case tokens).

    `email`: only the local part (before '@') is split. Short tokens and common words are left out.
    """
    if email:
        values = pc.list_element(pc.split_pattern(values, "@", max_splits=1), 0)
    runs = _runs(values)
    common = np.asarray(pc.is_in(runs.lower, value_set=common_words()), dtype=bool)
    mask = (runs.length >= MIN_TOKEN) & ~common
    return runs.cell[mask], runs.lower.filter(pa.array(mask))


def pair_hashes(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One fingerprint for two name tokens in this order (a given name and a surname)."""
    return mix(first ^ mix(second, 9), 13)


def within_cell_pairs(cell: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Fingerprints of each two consecutive tokens of a cell, in both orders ("zoë okafor", "okafor, zoë")."""
    same = cell[1:] == cell[:-1]
    a, b = h[:-1][same], h[1:][same]
    return np.concatenate([pair_hashes(a, b), pair_hashes(b, a)])


def edge_tokens(cell: np.ndarray, h: np.ndarray, n: int, last: bool) -> np.ndarray:
    """Each cell's first (or last) token fingerprint, over `n` cells; 0 where a cell has none."""
    out = np.zeros(n, dtype=np.uint64)
    if len(cell):
        order = slice(None, None, -1) if last else slice(None)
        c, i = np.unique(cell[order], return_index=True)
        out[c] = h[order][i]
    return out


def words_per_cell(values: pa.Array) -> float:
    """Words (runs of non-space) per non-NULL cell: free text has several."""
    cells = len(values) - values.null_count
    return float(pc.sum(pc.list_value_length(pc.utf8_split_whitespace(values))).as_py() or 0) / max(cells, 1)


@dataclass
class TextWords:
    """Capitalised words of free text: cell, lower-case text, which to look up (long enough), and the
    name-like word (capitalised, not a common word) right before and after each (-1: none)."""

    cell: np.ndarray
    words: pa.Array
    lookup: np.ndarray
    before: np.ndarray
    after: np.ndarray


def text_tokens(values: pa.Array) -> TextWords:
    """The capitalised words of free text and their name-like neighbours."""
    runs = _runs(values)
    capital = runs.upper & (runs.length >= 2)
    words = runs.lower.filter(pa.array(capital))
    common = np.asarray(pc.is_in(words, value_set=common_words()), dtype=bool)
    namelike = np.zeros(len(runs.cell), dtype=bool)
    namelike[capital] = ~common
    index = np.cumsum(capital) - 1  # run -> its position among the capitalised words
    before = np.full(len(runs.cell), -1, dtype=np.int64)
    after = before.copy()
    linked = np.flatnonzero(runs.joined[1:] & namelike[:-1] & namelike[1:])  # runs i and i + 1
    before[linked + 1] = index[linked]
    after[linked] = index[linked + 1]
    return TextWords(
        runs.cell[capital], words, runs.length[capital] >= MIN_TOKEN, before[capital], after[capital]
    )


FAKE_KINDS = ("city", "company", "street")  # what a scrub writes that Faker builds from names


def fake_name_hashes(locale: str, key: SecretKey) -> HashSet:
    """Fingerprints of the words of the fake pools a scrub writes from: names, and the cities, companies
    and streets Faker builds from names ("Morin", "Zimmer AG")."""
    from sanitize.strategies.fake_data import FALLBACK_LOCALE, first_names, generated, last_names

    parts = []
    for loc in dict.fromkeys((locale, FALLBACK_LOCALE)):
        pools = [first_names(loc).values, last_names(loc).values]
        pools += [generated(loc, kind).values for kind in FAKE_KINDS]
        for values in pools:
            _, tokens = _split(values)
            parts.append(hash_strings(pc.utf8_lower(tokens), key))
    return HashSet(sorted_unique(np.concatenate(parts)))
