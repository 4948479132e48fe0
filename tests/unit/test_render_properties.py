"""Property: ANY valid event renders to a payload Discord accepts and that pings no one.

Strategies are derived from the schemas' own msgspec types (lengths, patterns, bounds),
so a new field or kind is covered without touching this file. Strings mix every Unicode
plane with zero-width and RTL characters and markdown/mention syntax; decimals span
the full range `check_decimal` allows, including absurdly small exponents.
"""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import schemas
from schemas import Envelope, Event
from schemas.base import _checked_fields
from schemas.types import check_decimal
from tests.discord_schema import assert_valid_payload
from worker.render import Folded, build_payload, pack, render_embed

HOSTILE = [
    "@everyone",
    "@here",
    "@EVERYONE",
    "<@&123456789012345678>",
    "<@123>",
    "<@!5>",
    "<#42>",
    "||",
    "**",
    "__",
    "~~",
    "`",
    "```",
    "> ",
    ">>> ",
    "# ",
    "-# ",
    "- ",
    "1. ",
    "[x](https://e)",
    "<t:0:R>",
    "\\",
    "\\\\",
    "\n",
    "\r\n",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\U0001f680",
    "\U000e0001",
    "\U0010fffd",
    "\u0301",
    "ﷺ",
    " ",
    "\t",
    "…",
]

unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
pieces = st.one_of(st.sampled_from(HOSTILE), unicode_text)


def strings(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Hostile fragments and arbitrary Unicode, sometimes filled up to the maximum."""
    joined = st.lists(pieces, max_size=12).map("".join)
    filled = st.tuples(st.sampled_from([*HOSTILE, "x", "🚀"]), joined).map(
        lambda pair: (pair[1] + pair[0] * max_size)[:max_size]
    )
    return (
        st.one_of(joined, filled).map(lambda s: s[:max_size]).filter(lambda s: len(s) >= min_size)
    )


def decimals() -> st.SearchStrategy[Decimal]:
    """Finite decimals with up to 38 digits and |x| < 1e16, tiny exponents included."""

    @st.composite
    def build(draw: st.DrawFn) -> Decimal:
        digits = draw(st.lists(st.integers(0, 9), min_size=1, max_size=38))
        exponent_max = 15 - (len(digits) - 1)
        exponent = draw(
            st.one_of(
                st.integers(-40, exponent_max),
                st.sampled_from([-999_999, -30, 0, exponent_max]),
            )
        )
        sign = draw(st.sampled_from([0, 0, 0, 1]))  # most fields must be positive
        return Decimal((sign, tuple(digits), exponent))

    return build()


def aware_datetimes() -> st.SearchStrategy[datetime]:
    offsets = st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    )
    return st.datetimes(timezones=offsets.map(timezone))


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
PATTERNS: dict[str, st.SearchStrategy[str]] = {
    # Fast equivalents of the schemas' patterns (st.from_regex + a length filter is slow).
    r"^[A-Za-z0-9]+[/\-_][A-Za-z0-9]+\Z": st.tuples(
        st.text(ALNUM, min_size=1, max_size=15),
        st.sampled_from("/-_"),
        st.text(ALNUM, min_size=1, max_size=16),
    ).map("".join),
    r"^[0-9a-fA-F]+\Z": st.text("0123456789abcdefABCDEF", min_size=4, max_size=64),
    schemas.ids.EVENT_ID_PATTERN: st.tuples(
        st.integers(0, 2**48 - 1), st.integers(0, 2**12 - 1), st.integers(0, 2**62 - 1)
    ).map(lambda parts: uuid7(*parts)),
}


def uuid7(millis: int, counter: int, rand: int) -> str:
    """An event id laid out as `schemas.ids` does, from drawn parts (no `random`)."""
    h = f"{(millis << 80) | (0x7 << 76) | (counter << 64) | (0x2 << 62) | rand:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def from_type(t: msgspec.inspect.Type) -> st.SearchStrategy[Any]:
    """A strategy for one msgspec field type, honouring its constraints."""
    inspect = msgspec.inspect
    if isinstance(t, inspect.StrType):
        low, high = t.min_length or 0, t.max_length or 200
        if t.pattern == "^https?://":
            return st.tuples(st.sampled_from(["http://", "https://"]), strings(0, high)).map(
                lambda pair: (pair[0] + pair[1])[:high]
            )
        if t.pattern in PATTERNS:
            return PATTERNS[t.pattern]
        if t.pattern == r"\S":  # free text with something visible in it
            return strings(low, high).filter(lambda s: not s.isspace() and s.strip() != "")
        if t.pattern:
            return st.from_regex(
                t.pattern, fullmatch=True, alphabet=st.characters(codec="ascii")
            ).filter(lambda s: low <= len(s) <= high)
        return strings(low, high)
    if isinstance(t, inspect.IntType):
        return st.integers(
            int(t.ge if t.ge is not None else -(2**53)), int(t.le if t.le is not None else 2**53)
        )
    if isinstance(t, inspect.FloatType):
        return st.floats(t.ge, t.le, allow_nan=False, allow_infinity=False)
    if isinstance(t, inspect.DecimalType):
        return decimals()
    if isinstance(t, inspect.TimeDeltaType):
        return st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=366))
    if isinstance(t, inspect.DateTimeType):
        return aware_datetimes() if t.tz else st.one_of(st.datetimes(), aware_datetimes())
    if isinstance(t, inspect.DateType):
        return st.dates()
    if isinstance(t, inspect.EnumType):
        return st.sampled_from(list(t.cls))
    if isinstance(t, inspect.NoneType):
        return st.none()
    if isinstance(t, inspect.UnionType):
        return st.one_of([from_type(member) for member in t.types])
    if isinstance(t, inspect.VarTupleType):
        return st.lists(from_type(t.item_type), max_size=t.max_length or 30).map(tuple)
    if isinstance(t, inspect.LiteralType):
        return st.sampled_from(list(t.values))
    if isinstance(t, inspect.BoolType):
        return st.booleans()
    if isinstance(t, inspect.BytesType):
        return st.binary(min_size=t.min_length or 0, max_size=min(t.max_length or 64, 64))
    if isinstance(t, inspect.StructType):
        fields = {f.name: from_type(f.type) for f in t.fields}
        return st.fixed_dictionaries(fields).map(lambda kw: t.cls(**kw))
    raise NotImplementedError(f"no strategy for {t!r}: extend from_type")


def field_values(cls: type[Event], field: msgspec.inspect.Field) -> st.SearchStrategy[Any]:
    """A field's values; a decimal's filtered by its own rules (finite, places, sign) here,
    so a kind with many decimals is not rejected whole nearly every time."""
    rules = {name: (positive, signed) for name, positive, signed in _checked_fields(cls)[0]}
    if field.name not in rules:
        return from_type(field.type)
    positive, signed = rules[field.name]

    def valid(value: object) -> bool:
        if not isinstance(value, Decimal):
            return True
        try:
            check_decimal(field.name, value, positive=positive, signed=signed)
        except ValueError:
            return False
        return True

    return from_type(field.type).filter(valid)


@st.composite
def events(draw: st.DrawFn, cls: type[Event]) -> Event:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    kwargs = {field.name: draw(field_values(cls, field)) for field in info.fields}
    try:
        event = cls(**kwargs)
    except ValueError:  # __post_init__ rules (positive prices, up <= total, ...)
        assume(False)
        raise
    return schemas.validate(event)  # the strategy must only produce valid events


@st.composite
def envelopes(draw: st.DrawFn, cls: type[Event]) -> Envelope:
    info = msgspec.inspect.type_info(Envelope)
    assert isinstance(info, msgspec.inspect.StructType)
    by_name = {field.name: field.type for field in info.fields}
    return Envelope(
        id=draw(from_type(by_name["id"])),
        created_at=draw(aware_datetimes()),
        source=draw(from_type(by_name["source"])),
        severity=draw(st.sampled_from(list(schemas.Severity))),
        event=draw(events(cls)),  # type: ignore[arg-type]
    )


folds = st.one_of(
    st.none(),
    st.builds(
        Folded, count=st.integers(1, 2**53), since=st.one_of(st.datetimes(), aware_datetimes())
    ),
)

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("cls", schemas.EVENT_TYPES, ids=lambda cls: cls.kind())
@SETTINGS
@given(data=st.data())
def test_any_valid_event_renders_a_valid_silent_payload(
    cls: type[Event], data: st.DataObject
) -> None:
    envelope = data.draw(envelopes(cls))
    embed = render_embed(envelope, folded=data.draw(folds))
    assert envelope.id in embed["footer"]["text"]
    assert_valid_payload(build_payload([embed]))
    assert_valid_payload(build_payload([embed], ping_role_id="987654321098765432"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_batch_of_events_packs_into_valid_messages(data: st.DataObject) -> None:
    classes = data.draw(st.lists(st.sampled_from(schemas.EVENT_TYPES), min_size=1, max_size=25))
    embeds = [render_embed(data.draw(envelopes(cls))) for cls in classes]
    messages = pack(embeds)
    assert [embed for message in messages for embed in message] == embeds
    for message in messages:
        assert_valid_payload(build_payload(message))


def test_strategies_cover_every_field_type() -> None:
    """Fails loudly (NotImplementedError) when a schema gains a type we cannot generate."""
    for cls in [*schemas.EVENT_TYPES, Envelope]:
        info = msgspec.inspect.type_info(cls)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            if field.name != "event":
                from_type(field.type)


def test_naive_and_extreme_datetimes_render() -> None:
    # Built without validation (msgspec checks Meta only at decode): the renderer must
    # cope with whatever a caller constructs, even values the contract would reject.
    event = schemas.MaintenanceScheduled(
        service="s", starts_at=datetime.max, duration=timedelta(days=366), description="d"
    )
    far = Envelope(
        id="019ac8f0-1a2b-7c3d-8e4f-0123456789ab",
        created_at=datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),
        source="s",
        severity=schemas.Severity.INFO,
        event=event,
    )
    embed = render_embed(far, folded=Folded(1, datetime.max.replace(tzinfo=UTC)))
    assert_valid_payload(build_payload([embed]))
