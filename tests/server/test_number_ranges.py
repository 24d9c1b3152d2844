"""Integer and number ranges: the grammar accepts exactly the integers in range, and only numbers in range."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.grammar.number_ranges import int_range, number_range
from tests.server.grammar_walk import accepts

PROBES = [*range(-250, 251), 999, 1000, 1001, 10**6, -(10**6), 10**17, -(10**17), 10**18]


def in_range(value: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    return above and below


@pytest.mark.parametrize("low,high", [
    (7, 213), (0, 0), (-5, 5), (-100, -3), (None, 10), (-10, None), (None, None), (0, 1), (99, 101), (1, 10**6),
])
def test_integer_ranges_are_exact(low, high):
    grammar = "root ::= " + int_range(low, high)
    for value in PROBES:
        assert accepts(grammar, str(value)) == (in_range(value, low, high, False, False) and abs(value) < 10**18), value


def test_integer_spelling_is_canonical():
    grammar = "root ::= " + int_range(None, None)
    assert not accepts(grammar, "007")
    assert not accepts(grammar, "+7")
    assert not accepts(grammar, "1" * 19)  # bounded length: a random model cannot write digits forever


def test_exclusive_and_fractional_integer_bounds():
    assert int_range(0.5, 3, high_open=True) == '[1-2]'
    assert int_range(1, 2, low_open=True, high_open=True) is None
    assert int_range(2.5, 2.7) is None


@settings(max_examples=60, deadline=None)
@given(st.integers(-1200, 1200), st.integers(0, 1500), st.booleans(), st.booleans())
def test_integer_ranges_property(low, width, low_open, high_open):
    high = low + width
    expr = int_range(low, high, low_open, high_open)
    if expr is None:
        assert all(not in_range(v, low, high, low_open, high_open) for v in range(low, high + 1))
        return
    grammar = "root ::= " + expr
    for value in range(low - 3, high + 4, max(1, width // 40)):
        assert accepts(grammar, str(value)) == in_range(value, low, high, low_open, high_open), value
    for value in (low, high, low + 1, high - 1):
        assert accepts(grammar, str(value)) == in_range(value, low, high, low_open, high_open), value


NUMBER_PROBES = ["0", "1", "2", "-1", "-3", "0.5", "-0.5", "1.5", "2.25", "-3.2", "0.0", "1.0", "10", "0.999"]


@pytest.mark.parametrize("low,high,low_open,high_open", [
    (0, 1, False, False), (-3.5, 2, False, False), (0.5, 2.5, False, False), (0, 1, True, True),
    (None, 0, False, True), (1, None, True, False), (-1, 1, False, False),
])
def test_numbers_accepted_are_in_range(low, high, low_open, high_open):
    grammar = "root ::= " + number_range(low, high, low_open, high_open)
    accepted = [text for text in NUMBER_PROBES if accepts(grammar, text)]
    assert accepted
    assert all(in_range(float(text), low, high, low_open, high_open) for text in accepted)
    for whole in range(-5, 6):
        if in_range(whole, low, high, low_open, high_open):
            assert accepts(grammar, str(whole))


def test_fractions_only_inside_whole_intervals():
    grammar = "root ::= " + number_range(0, 1)
    assert accepts(grammar, "0.25")
    assert not accepts(grammar, "1.25")
    assert not accepts(grammar, "0.0"), "a fraction ends in a non-zero digit, so it never equals a bound"
    assert number_range(0.1, 0.9) is None  # no whole number inside: left unbounded, checked afterwards


@settings(max_examples=40, deadline=None)
@given(st.floats(-50, 50, allow_nan=False), st.floats(0, 60, allow_nan=False), st.booleans(), st.booleans(),
       st.lists(st.decimals(-60, 60, places=2, allow_nan=False, allow_infinity=False), min_size=5, max_size=20))
def test_number_ranges_property(low, width, low_open, high_open, probes):
    high = low + width
    expr = number_range(low, high, low_open, high_open)
    if expr is None:
        assert math.floor(high) - math.ceil(low) < 1
        return
    grammar = "root ::= " + expr
    for probe in probes:
        text = format(probe.normalize(), "f")
        if accepts(grammar, text):
            assert in_range(float(text), low, high, low_open, high_open), text


def test_huge_bounds_are_dropped_not_spelled_out():
    assert int_range(-1e308, 1e308) == int_range(None, None)
    assert len(number_range(-1e300, 5) or "") < 400
