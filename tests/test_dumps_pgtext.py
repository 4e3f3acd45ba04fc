"""The PostgreSQL COPY text codec: splitting, unescaping, typing and encoding rows."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanitize.db.base import prefetch
from sanitize.dumps import pgtext
from sanitize.errors import DumpError
from sanitize.schema import Column

AWKWARD = [
    "plain",
    "",  # empty string is not NULL
    "\\N",  # the text backslash-N is not NULL either
    "\\.",  # the end marker as a value
    ".",
    "tab\there",
    "new\nline",
    "cr\rlf\r\n",
    "back\\slash\\",
    "\\\\double",
    "\b\f\v controls",
    "quotes ' and \"",
    "ünïcödé ✓",
    "emoji 😀👍🏽",
    '{"json": "with \\"escapes\\" and \\n"}',
    "00042",  # leading zeros
    " padded ",
]


def _copy_lines(values: list[str | None]) -> bytes:
    """Reference encoder: what PostgreSQL's COPY TO writes for one text column."""
    out = []
    for v in values:
        if v is None:
            out.append("\\N")
        else:
            out.append(
                v.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
                .replace("\b", "\\b")
                .replace("\f", "\\f")
                .replace("\v", "\\v")
            )
    return ("".join(o + "\n" for o in out)).encode()


def test_when_awkward_text_is_split_and_unescaped_then_every_value_comes_back_exactly() -> None:
    values: list[str | None] = [*AWKWARD, None]
    raw = pgtext.split_rows(_copy_lines(values), ["v"])
    assert pgtext.unescape(raw.column(0)).to_pylist() == values


def test_when_awkward_text_is_escaped_then_it_matches_postgres_copy_output() -> None:
    values: list[str | None] = [*AWKWARD, None]
    encoded = pgtext.join_rows([pa.array(pgtext.encode_column(pd.Series(values, dtype="str"))[0])])
    assert bytes(encoded) == _copy_lines(values)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_when_any_text_goes_through_encode_then_decode_then_it_is_unchanged(values: list[str | None]) -> None:
    encoded = bytes(pgtext.join_rows([pgtext.encode_column(pd.Series(values, dtype=object))[0]]))
    assert encoded == _copy_lines(values)
    raw = pgtext.split_rows(encoded, ["v"])
    assert pgtext.unescape(raw.column(0)).to_pylist() == values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\\101\\102", "AB"),  # octal escapes
        ("\\x41\\x4a", "AJ"),  # hex escapes
        ("\\303\\251", "é"),  # octal bytes forming UTF-8
        ("a\\qb", "aqb"),  # any other escaped character is itself
        ("\\\\x41", "\\x41"),  # an escaped backslash before x is not a hex escape
        ("end\\", "end\\"),  # a lone trailing backslash is kept
    ],
)
def test_when_copy_uses_rare_escapes_then_they_decode_like_postgres(raw: str, expected: str) -> None:
    assert pgtext.unescape(pa.array([raw, "plain"], pa.large_string())).to_pylist() == [expected, "plain"]


def test_when_a_row_has_too_few_fields_then_the_error_names_the_line() -> None:
    data = b"1\ta\n2\tb\n3\n4\td\n"
    with pytest.raises(DumpError, match=r"line 12: corrupt COPY row: 1 fields where the COPY header names 2"):
        pgtext.split_rows(data, ["id", "v"], first_line=10)


def test_when_a_row_is_not_utf8_then_the_error_says_so_with_the_line() -> None:
    with pytest.raises(DumpError, match=r"line 6: .*not UTF-8"):
        pgtext.split_rows(b"1\tok\n2\tbad \xff\xfe\n", ["id", "v"], first_line=5)


def test_when_a_row_has_a_raw_carriage_return_then_it_is_refused() -> None:
    with pytest.raises(DumpError, match="carriage return"):
        pgtext.split_rows(b"1\ta\r\n", ["id", "v"])


@pytest.mark.parametrize(
    ("column", "texts", "expected"),
    [
        (Column("n", "integer"), ["1", "-42", None], [1, -42, None]),
        (Column("f", "float"), ["1.5", "NaN", "-Infinity", None], [1.5, "nan", float("-inf"), None]),
        (
            Column("d", "decimal", precision=12, scale=2),
            ["12.50", "-1.00", None],
            [decimal.Decimal("12.50"), decimal.Decimal("-1.00"), None],
        ),
        (Column("d", "decimal"), ["12.5000001", None], ["12.5000001", None]),  # unconstrained NUMERIC: text
        (Column("b", "boolean"), ["t", "f", None], [True, False, None]),
        (Column("d", "date"), ["2020-02-29", None], [dt.date(2020, 2, 29), None]),
        (
            Column("ts", "datetime"),
            ["2020-01-01 10:00:00.5", None],
            [dt.datetime(2020, 1, 1, 10, 0, 0, 500000), None],
        ),
        (
            Column("ts", "datetime", timezone=True),
            ["2020-01-01 10:00:00+02", None],
            [dt.datetime(2020, 1, 1, 8, 0, tzinfo=dt.UTC), None],
        ),
        (Column("t", "time"), ["10:11:12.5", None], [dt.time(10, 11, 12, 500000), None]),
        (Column("b", "binary"), ["\\x00ff10", "\\x", None], [b"\x00\xff\x10", b"", None]),
        (Column("j", "json"), ['{"a": 1}', None], ['{"a": 1}', None]),
        (
            Column("d", "date"),
            ["infinity", "2020-01-01"],
            ["infinity", "2020-01-01"],
        ),  # unparseable: stays text
    ],
)
def test_when_text_is_typed_then_values_have_the_columns_kind(
    column: Column, texts: list[str | None], expected: list[object]
) -> None:
    got = pgtext.to_typed(pa.array(texts, pa.large_string()), column).to_pylist()
    for g, e in zip(got, expected, strict=True):
        if e == "nan":
            assert g != g  # NaN
        else:
            assert g == e


def test_when_binary_is_encoded_then_it_is_bytea_hex_escaped_for_copy() -> None:
    values = pd.Series([bytes(range(256)), b"", None], dtype=pd.ArrowDtype(pa.large_binary()))
    field, _ = pgtext.encode_column(values)
    assert field.to_pylist() == ["\\\\x" + bytes(range(256)).hex(), "\\\\x", "\\N"]
    back = pgtext.to_typed(
        pgtext.unescape(pa.array(["\\\\x" + bytes(range(256)).hex()], pa.large_string())),
        Column("b", "binary"),
    )
    assert back.to_pylist() == [bytes(range(256))]


def test_when_a_column_is_unchanged_then_its_raw_text_is_reused_byte_for_byte() -> None:
    # 10:00:00.5 would print as 10:00:00.500000 if re-encoded; a kept value must not be re-rendered
    lines = b"1\t2020-01-01 10:00:00.5\t012.50\n2\t\\N\t3.0\n"
    cols = [
        Column("id", "integer"),
        Column("at", "datetime"),
        Column("amount", "decimal", precision=6, scale=2),
    ]
    raw = pgtext.split_rows(lines, ["id", "at", "amount"])
    df, typed = pgtext.decode_frame(raw, cols)
    assert bytes(pgtext.encode_frame(df.copy(), ["id", "at", "amount"], typed, raw)) == lines
    changed = df.assign(id=df["id"] * 10)
    assert bytes(pgtext.encode_frame(changed, ["id", "at", "amount"], typed, raw)) == (
        b"10\t2020-01-01 10:00:00.5\t012.50\n20\t\\N\t3.0\n"
    )


def test_when_only_some_values_change_then_the_others_keep_their_raw_text() -> None:
    lines = b"1.50\n2.50\n"
    cols = [Column("amount", "decimal", precision=6, scale=2)]
    raw = pgtext.split_rows(lines, ["amount"])
    df, typed = pgtext.decode_frame(raw, cols)
    out = df.copy()
    out.loc[1, "amount"] = decimal.Decimal("9.99")  # type: ignore[call-overload]
    assert bytes(pgtext.encode_frame(out, ["amount"], typed, raw)) == b"1.50\n9.99\n"


def test_when_the_transform_drops_rows_then_the_rest_keep_their_text() -> None:
    lines = b"1\ta\n2\tb\n3\tc\n"
    cols = [Column("id", "integer"), Column("v", "text")]
    raw = pgtext.split_rows(lines, ["id", "v"])
    df, typed = pgtext.decode_frame(raw, cols)
    assert bytes(pgtext.encode_frame(df[df["id"] != 2], ["id", "v"], typed, raw)) == b"1\ta\n3\tc\n"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([True, False, None], dtype="boolean"), ["t", "f", "\\N"]),
        (pd.Series([1.5, float("inf"), float("-inf")]), ["1.5", "Infinity", "-Infinity"]),
        (
            pd.Series(pd.to_datetime(["2020-01-01 10:00:00"]).tz_localize("UTC")),
            ["2020-01-01 10:00:00.000000+00"],
        ),
        (pd.Series([dt.date(2020, 1, 2)], dtype=object), ["2020-01-02"]),
        (pd.Series([{"a": "b\n"}], dtype=object), ['{"a": "b\\\\n"}']),
    ],
)
def test_when_values_of_other_types_are_encoded_then_postgres_can_read_them(
    values: pd.Series, expected: list[str]
) -> None:
    assert pgtext.encode_column(values)[0].to_pylist() == expected


def test_when_a_row_is_longer_than_a_parse_block_then_it_still_splits() -> None:
    big = "x" * 3_000_000
    raw = pgtext.split_rows(f"1\t{big}\n2\ty\n".encode(), ["id", "v"])
    assert raw.column(1).to_pylist() == [big, "y"]


# --- decoding a block: the no-backslash shortcut, and reading ahead in a thread ---------------------

BLOCK_COLUMNS = [
    Column("id", "integer"),
    Column("name", "text"),
    Column("amount", "decimal", precision=9, scale=2),
]


@pytest.mark.parametrize(
    "lines",
    [
        b"1\talice\t12.50\n2\tbob\t-3.00\n",  # no backslash anywhere: unescaping is skipped
        b"1\tal\\tice\t12.50\n2\t\\N\t\\N\n3\tback\\\\slash\t0.01\n",  # escapes and NULLs
    ],
)
def test_when_a_block_is_decoded_with_its_lines_then_values_equal_the_full_decode(lines: bytes) -> None:
    names = [c.name for c in BLOCK_COLUMNS]
    raw = pgtext.split_rows(lines, names)
    full, _ = pgtext.decode_frame(raw, BLOCK_COLUMNS)
    quick, _ = pgtext.decode_frame(raw, BLOCK_COLUMNS, lines)
    assert quick.astype(object).where(quick.notna(), None).values.tolist() == (
        full.astype(object).where(full.notna(), None).values.tolist()
    )
    assert list(quick.dtypes) == list(full.dtypes)
    assert quick["amount"].iloc[0] == decimal.Decimal("12.50")


def test_when_reading_ahead_then_items_arrive_in_order_and_the_thread_ends() -> None:
    before = threading.active_count()
    assert list(prefetch(lambda: iter(range(100)), depth=1)) == list(range(100))
    assert threading.active_count() == before


def test_when_the_producer_fails_then_the_consumer_gets_its_error_after_the_good_items() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise DumpError("line 3: corrupt COPY row")

    got = []
    with pytest.raises(DumpError, match="line 3"):
        for item in prefetch(items):
            got.append(item)
    assert got == [1, 2]


def test_when_the_consumer_stops_early_then_the_producer_stops_too() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="transform failed"):
        for item in prefetch(items, depth=1):
            if item == 3:
                raise RuntimeError("transform failed")
    assert threading.active_count() == before  # the reader thread has ended
    assert len(produced) < 10  # it stopped after a batch or two, it did not read on to the end
