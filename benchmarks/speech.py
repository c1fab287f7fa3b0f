"""CPU per spoken value, beside the cost of merely parsing the same text.

Run: ``PYTHONPATH=. python -P benchmarks/speech.py``. A say step calls
:func:`router.speech.spoken` once per value on the call's path, so this is
what a spoken balance adds to a call's CPU. The baseline, measured in the
same run, is ``decimal.Decimal(text)`` (or ``date.fromisoformat``): reading
the value and nothing else, so the ratio shows what the reading rules cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from router.speech import spoken

N = 20_000
REPEATS = 5
CASES: list[tuple[str, str, str, Callable[[str], object]]] = [
    ("money", "105.05", "zh", Decimal),
    ("money", "105.05", "en", Decimal),
    ("number", "123456789012", "zh", Decimal),
    ("number", "123456789012", "en", Decimal),
    ("digits", "13800138000", "zh", Decimal),
    ("date", "2026-12-02", "yue", date.fromisoformat),
]


def per_call_us(fn: Callable[[], object]) -> float:
    """Best of REPEATS runs of N calls, in CPU microseconds per call."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.process_time()
        for _ in range(N):
            fn()
        best = min(best, time.process_time() - start)
    return best / N * 1e6


def main() -> None:
    print(f"{'kind':7} {'value':>13} {'lang':4} {'spoken us':>10} {'parse us':>9} {'ratio':>6}")
    for kind, value, lang, parse in CASES:
        ours = per_call_us(lambda: spoken(kind, value, lang))  # type: ignore[arg-type]  # noqa: B023
        base = per_call_us(lambda: parse(value))  # noqa: B023
        print(f"{kind:7} {value:>13} {lang:4} {ours:10.2f} {base:9.2f} {ours / base:6.1f}")


if __name__ == "__main__":
    main()
