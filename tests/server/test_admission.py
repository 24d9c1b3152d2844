"""Admission: beyond the cap a request is refused at once with 429 and Retry-After."""

from __future__ import annotations

import pytest

from server.errors import Overloaded, error_body
from server.ops.admission import Admission


async def test_refuses_beyond_the_limit_and_frees_slots():
    admission = Admission(2)
    first, second = admission.admit(), admission.admit()
    with pytest.raises(Overloaded) as exc:
        admission.admit()
    assert exc.value.status == 429 and exc.value.headers == {"Retry-After": "1"}
    assert error_body(exc.value)["error"]["code"] == "too_many_requests"
    async with first:
        pass
    third = admission.admit()  # a slot freed
    assert admission.in_flight == 2
    second.release()
    third.release()
    third.release()  # idempotent
    assert admission.in_flight == 0


async def test_a_kept_permit_is_released_once_by_the_stream():
    admission = Admission(1)
    async with admission.admit() as permit:
        permit.keep()  # a streaming response now owns it
    assert admission.in_flight == 1
    with pytest.raises(Overloaded):
        admission.admit()
    permit.release_kept()
    assert admission.in_flight == 0


def test_no_limit():
    admission = Admission(None)
    permits = [admission.admit() for _ in range(1000)]
    assert admission.in_flight == 1000
    for p in permits:
        p.release()
    assert admission.in_flight == 0
