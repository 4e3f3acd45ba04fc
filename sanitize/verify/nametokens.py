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

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sanitize.arrow import string_bytes
from sanitize.keys import SecretKey
from sanitize.verify.fingerprints import HashSet, hash_strings, sorted_unique

MIN_TOKEN = 3
_SPLIT = r"[^\p{L}\p{M}]+"  # a token is a run of letters (and their combining marks)
_WORD_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "da_DK", "cs_CZ")
_TITLES = (
    "mr mrs ms miss mme mlle dr prof sir madam lady lord rev herr frau señor señora sr sra jr "
    "van von der den del della de la le du dos das da di bin ibn al el née nee geb ben "
    "dear thanks thank hello hi hey regards best kind customer client user admin support team "
    "info sales contact office mail email noreply reply billing orders service"
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


def _ascii_runs(values: pa.Array) -> tuple[np.ndarray, pa.Array, np.ndarray, np.ndarray] | None:
    """Letter runs of ASCII text, from the raw bytes: (cell, lower-case tokens, capitalised, length).

    None when the text is not all ASCII (the regex split then handles Unicode letters).
    """
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
    return cell, tokens, (data[starts] - np.uint8(65)) < 26, ends - starts


def source_tokens(values: pa.Array, email: bool = False) -> tuple[np.ndarray, pa.Array]:
    """Name tokens of a name/email column's cells (NULLs allowed): (cell of each token, lower-case tokens).

    `email`: only the local part (before '@') is split. Short tokens and common words are left out.
    """
    if email:
        values = pc.list_element(pc.split_pattern(values, "@", max_splits=1), 0)
    runs = _ascii_runs(values)
    if runs is not None:
        cell, lower, _, length = runs
        long = length >= MIN_TOKEN
    else:
        cell, tokens = _split(values)
        lower = pc.utf8_lower(tokens)
        long = np.asarray(pc.utf8_length(lower), dtype=np.int64) >= MIN_TOKEN
    common = np.asarray(pc.is_in(lower, value_set=common_words()), dtype=bool)
    mask = long & ~common
    return cell[mask], lower.filter(pa.array(mask))


def words_per_cell(values: pa.Array) -> float:
    """Words (runs of non-space) per non-NULL cell: free text has several."""
    cells = len(values) - values.null_count
    return float(pc.sum(pc.list_value_length(pc.utf8_split_whitespace(values))).as_py() or 0) / max(cells, 1)


def text_tokens(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Capitalised words of free text: (cell of each, lower-case words)."""
    runs = _ascii_runs(values)
    if runs is not None:
        cell, lower, upper, length = runs
        mask = upper & (length >= MIN_TOKEN)
        return cell[mask], lower.filter(pa.array(mask))
    cell, tokens = _split(values)
    if len(tokens) == 0:
        return cell, tokens
    first = pc.utf8_slice_codeunits(tokens, 0, 1)
    keep = pc.and_(pc.utf8_is_upper(first), pc.greater_equal(pc.utf8_length(tokens), MIN_TOKEN))
    mask = np.asarray(keep.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    return cell[mask], pc.utf8_lower(tokens.filter(pa.array(mask)))


def fake_name_hashes(locale: str, key: SecretKey) -> HashSet:
    """Fingerprints of the tokens of the fake name pools (what a scrub may write)."""
    from sanitize.strategies.fake_data import FALLBACK_LOCALE, first_names, last_names

    parts = []
    for loc in dict.fromkeys((locale, FALLBACK_LOCALE)):
        for pool in (first_names(loc), last_names(loc)):
            _, tokens = _split(pool.values)
            parts.append(hash_strings(pc.utf8_lower(tokens), key))
    return HashSet(sorted_unique(np.concatenate(parts)))
