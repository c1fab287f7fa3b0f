"""Callback requests on a Redis Stream."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from router.errors import StoreError
from router.flows.callbacks import CallbackRequest
from router.storage.callback_stream import RedisCallbackStore

REQ = CallbackRequest(
    number="13800138000",
    customer_id="C1",
    tier="vip",
    service="billing",
    requested_at=datetime(2026, 11, 22, 22, 5, tzinfo=UTC),
    uniqueid="1732312345.7",
    flow="telecom",
)


class TestRedisCallbackStore:
    async def test_requests_are_kept_in_order(self, redis_client: Redis) -> None:
        """Each request is stored whole, oldest first, with its stream id."""
        store = RedisCallbackStore(redis_client)
        first = await store.add(REQ)
        second = await store.add(REQ)
        pending = await store.pending()
        assert [i for i, _ in pending] == [first, second]
        assert pending[0][1] == REQ.fields()

    async def test_store_down_is_a_store_error(self, redis_url: str) -> None:
        """A failed write raises StoreError, which the flow runner logs."""
        client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.1)
        with pytest.raises(StoreError, match="callback request not stored"):
            await RedisCallbackStore(client).add(REQ)
        await client.aclose()
