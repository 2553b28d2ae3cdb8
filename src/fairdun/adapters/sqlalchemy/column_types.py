"""Column types that keep domain values exact on SQLite and PostgreSQL alike.

- **Money is integer cents** (``BIGINT``). SQLite has no exact decimal type: a ``NUMERIC`` column there keeps a
  float, and SQLAlchemy would convert through one. Integer cents are exact on both databases, sum exactly in SQL,
  and are the unit :mod:`fairdun.domain.money` already works in. ``BIGINT`` holds up to 92,233,720,368,547,758.07.
- **Rates are their decimal text.** A rate may have any number of digits (24 % a year over 365 days) and must come
  back exactly, or a replayed ledger would charge different penalty than the one that was computed.
- **Instants are UTC.** ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL; on SQLite, which keeps no zone, the UTC wall
  time, read back as UTC. Naive datetimes are refused on the way in: a time without a zone is a bug upstream.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator

from fairdun.domain.money import is_cents

_MAX_CENTS = 2**63 - 1
RATE_LENGTH = 64


class Cents(TypeDecorator[Decimal]):
    """A ``Decimal`` amount in whole cents, stored as an integer number of cents."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not is_cents(value):
            raise ValueError(f"not an amount in whole cents: {value!r}")
        cents = int(value.scaleb(2))
        if abs(cents) > _MAX_CENTS:
            raise ValueError(f"amount out of range for a BIGINT of cents: {value}")
        return cents

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)


class Rate(TypeDecorator[Decimal]):
    """A ``Decimal`` rate, stored as its exact decimal text."""

    impl = String(RATE_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"not a finite Decimal rate: {value!r}")
        text = str(value)
        if len(text) > RATE_LENGTH:
            raise ValueError(f"rate has more than {RATE_LENGTH} characters: {text}")
        return text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC and read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError(f"instants must be timezone-aware datetimes, got {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
