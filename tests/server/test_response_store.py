"""The response store: bounded by count, bytes and time; oldest first; delete; its gauges."""

from __future__ import annotations

from server.api.responses.store import ResponseStore
from server.ops import metrics


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def response(key, text="x"):
    return {"id": key, "output": [text]}


def test_oldest_is_evicted_beyond_the_item_limit():
    store = ResponseStore(max_items=2, max_bytes=10**6, ttl=60)
    for key in ("a", "b", "c"):
        assert store.put(response(key), [], [])
    assert store.get("a") is None
    assert store.get("b") is not None and store.get("c") is not None
    assert metrics.RESPONSES_STORED._value.get() == 2


def test_oldest_is_evicted_to_stay_under_the_byte_limit():
    store = ResponseStore(max_items=100, max_bytes=200, ttl=60)
    store.put(response("a", "x" * 80), [], [])
    store.put(response("b", "y" * 80), [], [])
    assert store.get("a") is None and store.get("b") is not None
    assert store.bytes <= 200


def test_an_entry_larger_than_the_store_is_refused():
    store = ResponseStore(max_items=100, max_bytes=50, ttl=60)
    assert not store.fits(51)
    assert store.put(response("big", "z" * 100), [], []) is False
    assert store.get("big") is None


def test_entries_expire_after_their_ttl():
    clock = Clock()
    store = ResponseStore(max_items=10, max_bytes=10**6, ttl=5, clock=clock)
    store.put(response("a"), [], [])
    clock.now = 4.9
    assert store.get("a") is not None
    clock.now = 5.0
    assert store.get("a") is None
    assert len(store) == 0


def test_delete_removes_and_reports():
    store = ResponseStore(max_items=10, max_bytes=10**6, ttl=60)
    store.put(response("a"), [{"id": "msg_1"}], [{"role": "user", "content": "hi"}])
    assert store.delete("a") is True
    assert store.delete("a") is False
    assert store.get("a") is None and store.bytes == 0


def test_output_items_are_found_by_id_while_their_response_is_kept():
    store = ResponseStore(max_items=1, max_bytes=10**6, ttl=60)
    store.put({"id": "r1", "output": [{"id": "fc_1", "type": "function_call"}]}, [], [])
    assert store.output_item("fc_1") == {"id": "fc_1", "type": "function_call"}
    store.put({"id": "r2", "output": []}, [], [])  # evicts r1
    assert store.output_item("fc_1") is None
