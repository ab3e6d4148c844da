"""Credits as exact integers.

One credit is ``MICRO`` sub-units. Prices in the models file are decimals of credits;
they are converted once, exactly, and every charge rounds *up* to a whole sub-unit, so
nothing that costs something is ever charged 0.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.tokenizer import count_tokens

MICRO = 1_000_000


class PriceError(ValueError):
    pass


def to_micro(value: object) -> int:
    """Credits (int, float literal from TOML, or str) → sub-units, exactly or not at all."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise PriceError(f"not a number: {value!r}") from exc
    scaled = amount * MICRO
    if scaled != scaled.to_integral_value():
        raise PriceError(f"{value!r} has more precision than 1/{MICRO} of a credit")
    return int(scaled)


def price_of(units: int, micro_per_thousand: int) -> int:
    """Cost of ``units`` at a price per 1,000 units, rounded up to a sub-unit."""
    if units <= 0 or micro_per_thousand <= 0:
        return 0
    return -(-units * micro_per_thousand // 1000)


def format_credits(micro: int) -> str:
    """Two decimals for people; a tiny non-zero amount is never shown as 0.00."""
    if micro != 0 and abs(micro) < MICRO // 100:
        return "-<0.01" if micro < 0 else "<0.01"
    cents = Decimal(micro) / MICRO
    return f"{cents.quantize(Decimal('0.01'), rounding='ROUND_HALF_EVEN'):.2f}"


def estimate_tokens(text: str) -> int:
    """Tokens of ``text``, counted with a real offline tokenizer (``core.tokenizer``);
    where the upstream reports usage, that is what is charged instead."""
    return count_tokens(text)
