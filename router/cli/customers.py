"""``tierline customers``: import, export, show, link and unlink."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click
import orjson

from router.cli.store_url import redis_option, store_url
from router.customers.model import LookupResult
from router.customers.store import RedisCustomerStore
from router.errors import StoreError
from router.storage.client import bulk_client

__all__ = ["customers"]

T = TypeVar("T")


@click.group()
def customers() -> None:
    """Manage the customer store."""


@customers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the good rows, list the bad ones.")
@redis_option
def import_cmd(file: Path, skip_invalid: bool, redis_url: str | None) -> None:
    """Import FILE (CSV with a header row, or JSON Lines); idempotent."""
    from router.customers.importer import import_path

    with store_url(redis_url) as url:
        report = asyncio.run(import_path(url, file, skip_invalid))
    for problem in report.problems:
        click.echo(str(problem), err=True)
    verb = "imported" if report.written else "imported nothing:"
    click.echo(f"{verb} {report.written} of {report.rows} rows, {len(report.problems)} problems")
    if report.problems:
        sys.exit(1)


@customers.command()
@click.argument("number")
@redis_option
def show(number: str, redis_url: str | None) -> None:
    """Print the customer who owns NUMBER as JSON."""
    from router.customers.codec import to_json_dict

    with store_url(redis_url) as url:
        result = asyncio.run(_lookup(url, number))
    if result.customer is None:
        click.echo(f"no customer for {number!r} ({result.reason})", err=True)
        sys.exit(1)
    click.echo(orjson.dumps(to_json_dict(result.customer), option=orjson.OPT_INDENT_2).decode())


@customers.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@redis_option
def export(file: Path | None, redis_url: str | None) -> None:
    """Write every customer as JSON Lines to FILE (default: stdout)."""
    with store_url(redis_url) as url:
        if file is None:
            asyncio.run(_export(url, sys.stdout.buffer))
        else:
            tmp = file.with_name(file.name + ".part")
            with tmp.open("wb") as fh:
                count = asyncio.run(_export(url, fh))
            tmp.replace(file)
            click.echo(f"exported {count} customers to {file}", err=True)


@customers.command()
@click.argument("number")
@click.argument("customer_id")
@redis_option
def link(number: str, customer_id: str, redis_url: str | None) -> None:
    """Attach NUMBER to CUSTOMER_ID (refused if another customer owns it)."""
    with store_url(redis_url) as url:
        _run_or_exit(_with_store(url, lambda s: s.link(number, customer_id)))
    click.echo(f"linked {number} to {customer_id}")


@customers.command()
@click.argument("number")
@redis_option
def unlink(number: str, redis_url: str | None) -> None:
    """Detach NUMBER from its customer."""
    with store_url(redis_url) as url:
        owner = _run_or_exit(_with_store(url, lambda s: s.unlink(number)))
    if owner is None:
        click.echo(f"{number} belonged to no customer", err=True)
        sys.exit(1)
    click.echo(f"unlinked {number} from {owner}")


def _run_or_exit(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


async def _with_store(url: str, action: Callable[[RedisCustomerStore], Awaitable[T]]) -> T:
    client = bulk_client(url)
    try:
        return await action(RedisCustomerStore(client))
    finally:
        await client.aclose()


async def _lookup(url: str, number: str) -> LookupResult:
    client = bulk_client(url)
    try:
        return await RedisCustomerStore(client, deadline_ms=5000).lookup(number)
    finally:
        await client.aclose()


async def _export(url: str, out: BinaryIO) -> int:
    from router.customers.codec import to_json_dict

    client = bulk_client(url)
    count = 0
    try:
        async for customer in RedisCustomerStore(client).iter_all():
            out.write(orjson.dumps(to_json_dict(customer)) + b"\n")
            count += 1
    finally:
        await client.aclose()
    return count
