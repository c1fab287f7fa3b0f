"""Erasing a customer on request: the record, their numbers, their call records.

Privacy law gives a customer the right to be forgotten. The record and the
numbers pointing at it go in one script (``RedisCustomerStore.erase``), so
no caller is ever half-known; the call records are not deleted (reports
need the counts) but pseudonymised by the call-record store, which owns
that data. Records go first: if that step fails the customer is still
there, with the numbers it needs, and the erase can simply be run again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from router.ami.store import pseudonymise_caller
from router.customers.store import RedisCustomerStore

__all__ = ["Erasure", "RecordsStep", "call_records_step", "erase_customer"]

# (redis, numbers, customer_id) -> how many call records were pseudonymised
RecordsStep = Callable[[Redis, Sequence[str], str], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erase did; ``records`` is ``None`` when no call-record step ran."""

    customer_id: str
    numbers: tuple[str, ...]
    records: int | None


def call_records_step() -> RecordsStep | None:
    """The call-record store's pseudonymiser (``None`` would mean: erase without it)."""
    return pseudonymise_caller


async def erase_customer(
    client: Redis, customer_id: str, records: RecordsStep | None
) -> Erasure | None:
    """Pseudonymise the customer's call records, then erase them; ``None`` if unknown."""
    store = RedisCustomerStore(client, deadline_ms=10_000)
    customer = await store.customer_by_id(customer_id)
    if customer is None:
        return None
    count = await records(client, customer.phones, customer_id) if records else None
    numbers = await store.erase(customer_id)
    if numbers is None:  # erased meanwhile by someone else
        return Erasure(customer_id, customer.phones, count)
    late = [n for n in numbers if n not in customer.phones]  # linked meanwhile
    if records and late:
        count = (count or 0) + await records(client, late, customer_id)
    return Erasure(customer_id, numbers, count)
