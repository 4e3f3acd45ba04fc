"""Word lists the person-name rules read: world given names and surnames, common words, titles, particles.

Given names and surnames come from sanitize/data/names/{given,surnames}.txt.gz, built at dev time by
tools/build_name_lists.py from the `names-dataset` package (MIT licence; 105 countries, every name
ranked within the top 1,000 given names or 3,000 surnames of at least one country), merged with
Faker's locale lists. Common words are a curated list (data/names/common_words.txt) plus Faker's lorem
word lists of several languages: a word on it is an ordinary word first (Rose, Park, Will, Street),
which alone never makes a name. Everything is loaded once, lazily, and cached (~0.3 s).
"""

from __future__ import annotations

import gzip
import importlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

log = logging.getLogger("sanitize")

# Faker lorem locales whose word lists join the common words (major languages written with spaces)
COMMON_WORD_LOCALES = (
    "en_US",
    "de_DE",
    "fr_FR",
    "es_ES",
    "it_IT",
    "nl_NL",
    "pl_PL",
    "da_DK",
    "ru_RU",
    "uk_UA",
    "el_GR",
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Honorifics and titles in several languages (lower case, without a final dot)
TITLES = _words(
    """
    mr mrs ms miss mx dr prof sir dame madam madame mme mlle m herr frau fr hr dhr mevr mevrouw mw
    sr sra srta sres don doña dña dott dottssa dott.ssa sig sigra sig.ra signor signora signorina
    pan pani fru sayın bay bayan κος κα κ г-н г-жа господин госпожа shri sri smt kumari bwana
    mwalimu alhaji alhaja sheikh ustadh ustaz monsieur mademoiselle senhor senhora sñr lic mgr drs
    """
)
# Lower-case words that sit inside names: "van der Berg", "bin Salman", "Ó Briain", "Mac Giolla"
PARTICLES = _words(
    """
    van von de der den del della delle dei di da du dos das do le la ten ter zu zum y e al el bin
    binti bint ibn abu ben bar ould ó ní nic mac mc ua ap
    """
)
# Words that never start a name after a greeting or sign-off ("Hi team", "Thanks all")
NEVER_NAMES = _words(
    """
    team teams all everyone everybody there sir madam folks guys friends colleagues world customer
    customers client clients support service sales billing admin user users member members staff
    again so very for in the a an and or but to you your our my me us we it this that them
    """
)


@dataclass(frozen=True)
class WorldNames:
    """Lower-cased given names and surnames with their best rank, and the common words."""

    given: dict[str, int]  # name -> best rank in any country (Faker's names rank 1)
    surnames: dict[str, int]
    common: frozenset[str]


def _ranked(filename: str) -> dict[str, int]:
    data = resources.files("sanitize").joinpath("data", "names", filename).read_bytes()
    parts = gzip.decompress(data).decode("utf-8").replace("\t", "\n").split("\n")
    return dict(zip(parts[0:-1:2], map(int, parts[1::2]), strict=True))


def _faker_words(locale: str) -> set[str]:
    try:
        provider = importlib.import_module(f"faker.providers.lorem.{locale}").Provider
    except (ImportError, AttributeError):
        return set()
    return {str(w).lower() for w in getattr(provider, "word_list", ())}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Ordinary words in the languages above (lower case)."""
    text = resources.files("sanitize").joinpath("data", "names", "common_words.txt").read_text("utf-8")
    words = {w for line in text.splitlines() for w in line.partition("#")[0].split()}
    for loc in COMMON_WORD_LOCALES:
        words |= _faker_words(loc)
    return frozenset(words)


@lru_cache(maxsize=1)
def world_names() -> WorldNames:
    """The world's given names and surnames (names-dataset + Faker), loaded once."""
    from sanitize.detect.recognizers import name_lists

    given = _ranked("given.txt.gz")
    surnames = _ranked("surnames.txt.gz")
    faker = name_lists()
    for name in faker.first:
        given[name] = 1
    for name in faker.last:
        surnames[name] = 1
    return WorldNames(given, surnames, common_words())


__all__ = ["NEVER_NAMES", "PARTICLES", "TITLES", "WorldNames", "common_words", "world_names"]
