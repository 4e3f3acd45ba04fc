"""Build sanitize/data/names/{given,surnames}.txt.gz from the `names-dataset` package (dev time only).

    python -m venv /tmp/nd && /tmp/nd/bin/pip install names-dataset
    /tmp/nd/bin/python tools/build_name_lists.py [--given-rank 1000] [--surname-rank 3000]

names-dataset (Philippe Remy, MIT licence; https://github.com/philipperemy/name-dataset) holds ~730k
given names and ~980k surnames from 105 countries with a rank per country. Loading it takes GBs of
memory, so sanitize does not depend on it at run time: this script keeps every name ranked within the
top N of at least one country, splits multi-word entries into words, lower-cases them, keeps words of
two or more letters (hyphens and apostrophes allowed), and writes one `name<TAB>best rank` per line,
best rank first, gzip-compressed (a few hundred kB each). It is not run in CI; re-run it to refresh
the lists and commit the output.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import pickle
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "sanitize" / "data" / "names"
WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))+$")
PARTICLES = {"al", "el", "da", "de", "di", "do", "du", "la", "le", "van", "von", "der", "den", "bin", "ibn"}


def _load(name: str) -> dict[str, dict]:
    spec = importlib.util.find_spec("names_dataset")
    if spec is None or spec.origin is None:
        raise SystemExit("names-dataset is not installed here: pip install names-dataset (see the docstring)")
    path = Path(spec.origin).parent / "v3" / f"{name}.pkl.gz"
    with gzip.open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - the package's own data file


def best_ranks(data: dict[str, dict], max_rank: int) -> dict[str, int]:
    """Lower-cased word -> its best rank in any country, for entries ranked within `max_rank`."""
    out: dict[str, int] = {}
    for name, info in data.items():
        ranks = info.get("rank") or {}
        if not ranks:
            continue
        best = min(ranks.values())
        if best > max_rank:
            continue
        for word in name.split():
            low = word.lower()
            if low in PARTICLES or not WORD.match(low):
                continue
            if best < out.get(low, max_rank + 1):
                out[low] = best
    return out


def write(path: Path, ranks: dict[str, int]) -> None:
    lines = [f"{w}\t{r}" for w, r in sorted(ranks.items(), key=lambda kv: (kv[1], kv[0]))]
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9, newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"{path}: {len(lines):,} names, {path.stat().st_size / 1e6:.2f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--given-rank", type=int, default=1000, help="keep given names in a country's top N")
    ap.add_argument("--surname-rank", type=int, default=3000, help="keep surnames in a country's top N")
    args = ap.parse_args()
    write(OUT / "given.txt.gz", best_ranks(_load("first_names"), args.given_rank))
    write(OUT / "surnames.txt.gz", best_ranks(_load("last_names"), args.surname_rank))


if __name__ == "__main__":
    main()
