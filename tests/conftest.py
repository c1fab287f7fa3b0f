"""Shared fixtures: a real Redis server per session, flushed per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from redis.asyncio import Redis

from tests.redis_server import RedisProcess

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "asterisk-22"


@pytest.fixture(scope="session")
def redis_proc() -> Iterator[RedisProcess]:
    proc = RedisProcess().start()
    yield proc
    proc.stop()


@pytest.fixture
def redis_url(redis_proc: RedisProcess) -> str:
    """URL of a live, empty server (flushed before each test)."""
    redis.Redis.from_url(redis_proc.url).flushall()
    return redis_proc.url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def shared_dir() -> Path:
    """The Asterisk 22 captures beside the project root, or skip."""
    if not SHARED.is_dir():
        pytest.skip(f"Asterisk 22 captures not found at {SHARED} (../shared/asterisk-22)")
    return SHARED
