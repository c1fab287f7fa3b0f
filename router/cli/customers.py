"""``tierline customers``: import, export, show, link, unlink and erase."""

from __future__ import annotations

import asyncio
import codecs
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click
import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from router.cli.store_url import cli_settings, redis_option, store_url
from router.customers.model import LookupResult, TierOrder
from router.customers.store import RedisCustomerStore
from router.errors import StoreError
from router.logs import mask_number
from router.storage.client import bulk_client

__all__ = ["customers"]

T = TypeVar("T")


@click.group()
def customers() -> None:
    """Manage the customer store."""


def _encoding(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise click.BadParameter(f"unknown encoding {value!r} (try utf-8 or gb18030)") from None
    return value


@customers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the good rows, list the bad ones.")
@click.option(
    "--encoding",
    default="utf-8-sig",
    show_default=True,
    callback=_encoding,
    help="The file's text encoding, e.g. gb18030 for a GBK export.",
)
@click.option(
    "--routing",
    type=click.Path(dir_okay=False, path_type=Path),
    help="routing.yaml whose tiers rows may use (default: the routing_config setting).",
)
@redis_option
def import_cmd(
    file: Path, skip_invalid: bool, encoding: str, routing: Path | None, redis_url: str | None
) -> None:
    """Import FILE (CSV with a header row, or JSON Lines) as one transaction; idempotent."""
    from router.customers.importer import import_path

    tiers = _tiers(routing)
    with store_url(redis_url) as url:
        report = _run_or_exit(import_path(url, file, skip_invalid, tiers, encoding))
    for problem in report.problems:
        click.echo(str(problem), err=True)  # numbers in problems are masked at the source
    verb = "imported" if report.written else "imported nothing:"
    click.echo(f"{verb} {report.written} of {report.rows} rows, {len(report.problems)} problems")
    if report.problems:
        sys.exit(1)


def _tiers(routing: Path | None) -> TierOrder:
    """The tiers of the routing config the router itself loads."""
    from router.policy import load_routing

    path = routing or cli_settings().routing_config
    if not path.is_file():
        raise click.UsageError(f"routing config {path} not found: pass --routing PATH")
    return load_routing(path).tier_order


@customers.command()
@click.argument("number")
@redis_option
def show(number: str, redis_url: str | None) -> None:
    """Print the customer who owns NUMBER as JSON."""
    from router.customers.codec import to_json_dict

    with store_url(redis_url) as url:
        result = asyncio.run(_lookup(url, number))
    if result.customer is None:
        click.echo(f"no customer for {mask_number(number)} ({result.reason})", err=True)
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


@customers.command()
@click.argument("customer_id")
@click.confirmation_option(prompt="Erase this customer, their numbers and call-record identity?")
@redis_option
def erase(customer_id: str, redis_url: str | None) -> None:
    """Erase CUSTOMER_ID and their numbers; pseudonymise their call records."""
    from router.customers.erasure import call_records_step, erase_customer

    step = call_records_step()
    with store_url(redis_url) as url:
        done = _run_or_exit(_with_client(url, lambda c: erase_customer(c, customer_id, step)))
    if done is None:
        click.echo(f"no customer {customer_id}", err=True)
        sys.exit(1)
    click.echo(f"erased {customer_id} and {len(done.numbers)} numbers")
    if done.records is None:
        click.echo("call records NOT pseudonymised: no call-record step in this build", err=True)
        sys.exit(1)
    click.echo(f"pseudonymised {done.records} call records")


def _run_or_exit(coro: Coroutine[Any, Any, T]) -> T:
    """Run a store command; a store fault is a one-line error, never a traceback."""
    try:
        return asyncio.run(coro)
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
    except (RedisError, OSError) as exc:
        click.echo(f"error: the customer store failed: {exc}", err=True)
    sys.exit(1)


async def _with_store(url: str, action: Callable[[RedisCustomerStore], Awaitable[T]]) -> T:
    return await _with_client(url, lambda client: action(RedisCustomerStore(client)))


async def _with_client(url: str, action: Callable[[Redis], Awaitable[T]]) -> T:
    client = bulk_client(url)
    try:
        return await action(client)
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
