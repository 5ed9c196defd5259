"""Estimated cost of a model call from its token usage (USD per million tokens, list prices).

Prices go by model family; a model id that matches no entry costs what its family costs, and an
unknown family costs the Sonnet price. Cache writes are the 5-minute ephemeral rate (1.25x input),
cache reads 0.1x input. Bedrock ids (`us.anthropic.claude-sonnet-4-6`) match the same entries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float


OPUS = Price(input=5.0, output=25.0, cache_write=6.25, cache_read=0.50)
OPUS_4_0 = Price(input=15.0, output=75.0, cache_write=18.75, cache_read=1.50)
SONNET = Price(input=3.0, output=15.0, cache_write=3.75, cache_read=0.30)
HAIKU = Price(input=1.0, output=5.0, cache_write=1.25, cache_read=0.10)

# Most specific first: (substring of the model id, price).
PRICES: tuple[tuple[str, Price], ...] = (
    ("claude-opus-4-1", OPUS_4_0),
    ("claude-opus-4-0", OPUS_4_0),
    ("claude-opus-4-2025", OPUS_4_0),
    ("opus", OPUS),
    ("sonnet", SONNET),
    ("haiku", HAIKU),
)
DEFAULT_PRICE = SONNET


def price_for(model: str) -> Price:
    for needle, price in PRICES:
        if needle in model:
            return price
    return DEFAULT_PRICE


def estimate_cost_usd(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
) -> float:
    """`input_tokens` excludes cached tokens, as the API reports them."""
    price = price_for(model)
    return (
        input_tokens * price.input
        + output_tokens * price.output
        + cache_creation_input_tokens * price.cache_write
        + cache_read_input_tokens * price.cache_read
    ) / 1_000_000
