"""Integer and number ranges as xgrammar EBNF, so a bounded argument cannot be written out of range.

The integer algorithm is the usual range-to-regex split: by number of digits, then by leading digit,
so `[7, 213]` becomes `[7-9] | [1-9] [0-9] | "1" [0-9]{2} | "2" "0" [0-9] | "2" "1" [0-3]`.
Numbers add fractions only where a whole unit interval lies inside the range: the open interval
`(k, k+1)` is in `[low, high]` exactly when `low <= k` and `k + 1 <= high`, whether the bounds are
exclusive or not, so `k "." digits` is safe there.
"""

from __future__ import annotations

import math

MAX_DIGITS = 18
FRACTION = '"." [0-9]{0,14} [1-9]'  # a last digit > 0: `k.0` would be k itself


def int_range(low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
              ) -> str | None:
    """EBNF for the integers in the range, or None when it holds none."""
    low, high = _within_digits(low), _within_digits(high)
    lo = None if low is None else (math.floor(low) + 1 if low_open else math.ceil(low))
    hi = None if high is None else (math.ceil(high) - 1 if high_open else math.floor(high))
    if lo is not None and hi is not None and lo > hi:
        return None
    return _join(_signed(lo, hi))


def number_range(low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
                 ) -> str | None:
    """EBNF for numbers in the range (see the module docstring), or None when it offers none."""
    low, high = _within_digits(low), _within_digits(high)
    alternatives: list[str] = []
    whole = int_range(low, high, low_open, high_open)
    if whole is not None:
        alternatives.append(f"({whole})")
    k_lo = 0 if low is None else max(0, math.ceil(low))
    k_hi = None if high is None else math.floor(high) - 1
    if k_hi is None or k_lo <= k_hi:
        alternatives += [f"{p} {FRACTION}" for p in _magnitudes(k_lo, k_hi)]
    m_lo = 0 if high is None else max(0, math.ceil(-high))
    m_hi = None if low is None else math.floor(-low) - 1
    if m_hi is None or m_lo <= m_hi:
        alternatives += [f'"-" {p} {FRACTION}' for p in _magnitudes(m_lo, m_hi)]
    return _join(alternatives)


def _within_digits(bound: float | None) -> float | None:
    """A bound beyond MAX_DIGITS digits bounds nothing the grammar can write: drop it (a bound
    like 1e308 would otherwise spell out hundreds of digits of patterns)."""
    return None if bound is None or abs(bound) >= 10**MAX_DIGITS else bound


def _signed(lo: int | None, hi: int | None) -> list[str]:
    out: list[str] = []
    if lo is None or lo < 0:
        neg_hi = -1 if hi is None else min(hi, -1)
        out += [f'"-" {p}' for p in _magnitudes(-neg_hi, None if lo is None else -lo)]
    if hi is None or hi >= 0:
        out += _magnitudes(0 if lo is None else max(lo, 0), hi)
    return out


def _magnitudes(a: int, b: int | None) -> list[str]:
    """Patterns for the non-negative integers in [a, b] (b None: up to MAX_DIGITS digits)."""
    if b is None:
        digits = len(str(a))
        out = _magnitudes(a, 10**digits - 1)
        if digits < MAX_DIGITS:
            out.append(f"[1-9] [0-9]{{{digits},{MAX_DIGITS - 1}}}")
        return out
    out = []
    for digits in range(len(str(a)), len(str(b)) + 1):
        lo = max(a, 10 ** (digits - 1) if digits > 1 else 0)
        hi = min(b, 10**digits - 1)
        if lo <= hi:
            out += _same_length(str(lo), str(hi))
    return out


def _same_length(a: str, b: str) -> list[str]:
    if a == b:
        return [f'"{a}"']
    if a[0] == b[0]:
        return [f'"{a[0]}" {p}' for p in _same_length(a[1:], b[1:])]
    rest = len(a) - 1
    if rest == 0:
        return [_digit_class(int(a), int(b))]
    out: list[str] = []
    first, last = int(a[0]), int(b[0])
    if a[1:] != "0" * rest:
        out += [f'"{a[0]}" {p}' for p in _same_length(a[1:], "9" * rest)]
        first += 1
    tail: list[str] = []
    if b[1:] != "9" * rest:
        tail = [f'"{b[0]}" {p}' for p in _same_length("0" * rest, b[1:])]
        last -= 1
    if first <= last:
        out.append(f"{_digit_class(first, last)} [0-9]{{{rest}}}")
    return out + tail


def _digit_class(a: int, b: int) -> str:
    return f'"{a}"' if a == b else f"[{a}-{b}]"


def _join(alternatives: list[str]) -> str | None:
    return " | ".join(alternatives) if alternatives else None
