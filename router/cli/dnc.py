"""``tierline dnc``: the do-not-call list (add, remove, import, check)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from redis.exceptions import RedisError

from router.cli.store_url import redis_option, store_url
from router.customers.phone import normalise_or_none
from router.dialer.store import DialerStore, dialer_client
from router.errors import CampaignDataError, Problem, StoreError

__all__ = ["dnc", "read_numbers", "with_dialer_store"]

T = TypeVar("T")


def _numbers(raw: tuple[str, ...]) -> list[str]:
    out = []
    for text in raw:
        number = normalise_or_none(text)
        if number is None:
            raise click.BadParameter(f"{text!r} is not a valid phone number")
        out.append(number)
    return out


def read_numbers(path: Path) -> list[str]:
    """One number per line (the first CSV column); all or nothing, FILE:LINE: errors."""
    problems, numbers = [], []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignDataError([Problem(str(path), 0, 0, f"file: cannot read: {exc}")]) from None
    for line_no, line in enumerate(lines, start=1):
        text = line.split(",", 1)[0].strip()
        if not text or text.startswith("#") or (line_no == 1 and text.lower() == "number"):
            continue
        number = normalise_or_none(text)
        if number is None:
            problems.append(Problem(str(path), line_no, 0, f"number: {text[:40]!r} is not valid"))
        else:
            numbers.append(number)
    if problems:
        raise CampaignDataError(problems)
    return numbers


def with_dialer_store(redis_url: str | None, action: Callable[[DialerStore], Awaitable[T]]) -> T:
    """Run ``action`` against the dialer store; a store failure exits 1 with a message."""

    async def run(url: str) -> T:
        client = dialer_client(url, timeout_s=30.0)
        try:
            return await action(DialerStore(client))
        finally:
            await client.aclose()

    with store_url(redis_url) as url:
        try:
            return asyncio.run(run(url))
        except (StoreError, RedisError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group()
def dnc() -> None:
    """Numbers the dialer must never call."""


@dnc.command()
@click.argument("numbers", nargs=-1, required=True)
@redis_option
def add(numbers: tuple[str, ...], redis_url: str | None) -> None:
    """Add NUMBERS to the do-not-call list."""
    items = _numbers(numbers)
    added = with_dialer_store(redis_url, lambda s: s.dnc_add(items))
    click.echo(f"added {added} of {len(items)} numbers")


@dnc.command()
@click.argument("numbers", nargs=-1, required=True)
@redis_option
def remove(numbers: tuple[str, ...], redis_url: str | None) -> None:
    """Remove NUMBERS from the do-not-call list."""
    items = _numbers(numbers)
    removed = with_dialer_store(redis_url, lambda s: s.dnc_remove(items))
    click.echo(f"removed {removed} of {len(items)} numbers")


@dnc.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@redis_option
def import_cmd(file: Path, redis_url: str | None) -> None:
    """Add every number in FILE (one a line); any bad line: nothing added, exit 1."""
    try:
        items = read_numbers(file)
    except CampaignDataError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo("imported nothing", err=True)
        sys.exit(1)
    added = with_dialer_store(redis_url, lambda s: s.dnc_add(items))
    click.echo(f"added {added} new of {len(items)} numbers")


@dnc.command()
@click.argument("number")
@redis_option
def check(number: str, redis_url: str | None) -> None:
    """Exit 0 and say so if NUMBER is on the list, else exit 1."""
    (item,) = _numbers((number,))
    if with_dialer_store(redis_url, lambda s: s.dnc_check(item)):
        click.echo(f"{number}: do not call")
        return
    click.echo(f"{number}: not on the list")
    sys.exit(1)
