"""``tierline call``: place one call against a running router, as Asterisk would."""

from __future__ import annotations

import asyncio
import time

import click

__all__ = ["call", "new_uniqueid"]


def new_uniqueid() -> str:
    """A uniqueid in Asterisk's ``epoch.sequence`` form, different for every call.

    The router keys a call's recorded IVR path by its uniqueid, so calls
    sharing one would overwrite each other's paths. The sequence is the
    microsecond of the call: two ``tierline call`` runs never share it.
    """
    now = time.time_ns() // 1000
    return f"{now // 1_000_000}.{now % 1_000_000}"


def _configured_router() -> str:
    """Where serve listens by the same settings (a wildcard address is reached on loopback)."""
    from router.cli.store_url import cli_settings

    settings = cli_settings()
    wildcard = settings.agi_host in ("0.0.0.0", "::")  # noqa: S104 - compared, not bound
    return f"{'127.0.0.1' if wildcard else settings.agi_host}:{settings.agi_port}"


@click.command()
@click.option("--from", "caller", required=True, help="Calling number (agi_callerid).")
@click.option("--to", "dnis", default="unknown", help="Dialled number (agi_dnid).")
@click.option("--name", default="", help="Caller-ID name (sent raw, as Asterisk does).")
@click.option("--digits", default="", help="Digits the caller types, e.g. 1,2.")
@click.option("--agi", "target", help="Router host:port [$TIERLINE_AGI_HOST:$TIERLINE_AGI_PORT].")
@click.option("--script", default="inbound", help="AGI script (route), e.g. inbound?lang=zh.")
@click.option("--hangup-ms", type=float, default=None, help="Caller hangs up at this time.")
@click.option("--uniqueid", help="Asterisk uniqueid of the call [a new one per call].")
def call(
    *,
    caller: str,
    dnis: str,
    name: str,
    digits: str,
    target: str | None,
    script: str,
    hangup_ms: float | None,
    uniqueid: str | None,
) -> None:
    """Play Asterisk's side of one call; print the exchange and the final route."""
    from router.agi.caller import place_call
    from router.agi.double import CallerScript, environment

    target = target or _configured_router()
    host, _, port = target.rpartition(":")
    typed = [d.strip() for d in digits.split(",") if d.strip()]
    plan = CallerScript(
        digits=[(500.0 + 300.0 * i, d) for i, d in enumerate(typed)], hangup_at_ms=hangup_ms
    )
    env = environment(
        caller,
        dnis=dnis,
        name=name,
        script=script,
        host=target,
        uniqueid=uniqueid or new_uniqueid(),
    )
    try:
        record = asyncio.run(place_call(host or "127.0.0.1", int(port), env, plan, max_s=60))
    except OSError as exc:
        raise click.ClickException(f"cannot reach the router at {target}: {exc}") from None
    for at, who, line in record.exchange:
        click.echo(f"{who}> {at:9.1f} {line}")
    click.echo("" if record.closed_by_server else "(router did not close the socket)")
    route = {k: v for k, v in sorted(record.variables.items()) if k.startswith("TIERLINE_")}
    click.echo("route:" if route else "route: none set")
    for key, value in route.items():
        click.echo(f"  {key}={value}")
