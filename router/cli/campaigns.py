"""``tierline campaigns``: import contacts, start/pause/resume/stop, status, report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
import orjson

from router.cli.dnc import with_dialer_store
from router.cli.store_url import cli_settings, redis_option
from router.dialer.config import DialerConfig, load_config
from router.dialer.model import CALLBACK_CAMPAIGN, CampaignState, Contact
from router.dialer.report import DialerReport, summarise
from router.dialer.rows import read_contact_rows
from router.dialer.store import DialerStore
from router.errors import CampaignDataError, Problem
from router.storage import keys

__all__ = ["campaigns", "config_option"]

config_option = click.option(
    "--dialer-config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Dialer configuration (campaigns, callbacks, limits, pacing) "
    "[$TIERLINE_DIALER_CONFIG, else dialer.yaml beside the flows].",
)


@click.group()
def campaigns() -> None:
    """Outbound campaigns: contacts, state and results."""


def _config(path: Path | None) -> DialerConfig:
    """The option's file, else the settings' (CampaignDataError: main() prints it, exit 2)."""
    from router.dialer.process import config_file

    return load_config(config_file(cli_settings(dialer_config=path)))


def _named(cfg: DialerConfig, name: str) -> None:
    if name not in cfg.campaigns:
        known = ", ".join(sorted(cfg.campaigns))
        raise click.BadParameter(f"unknown campaign {name!r}; configured: {known}")


@campaigns.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@redis_option
def import_cmd(file: Path, config_path: Path | None, redis_url: str | None) -> None:
    """Import FILE (CSV or JSON Lines); any bad row: nothing imported, exit 1."""
    cfg = _config(config_path)
    try:
        rows = read_contact_rows(file, cfg.campaigns)
    except CampaignDataError as exc:
        _fail(exc.problems)
    contacts = [contact for _, contact in rows]
    missing = with_dialer_store(redis_url, lambda s: _unknown_customers(s, rows))
    if missing:
        _fail(
            [
                Problem(str(file), line, 0, f"customer_id: unknown customer {cid!r}")
                for line, cid in missing
            ]
        )
    added = with_dialer_store(redis_url, lambda s: s.add_contacts(contacts, cfg.lanes()))
    click.echo(f"imported {added} new contacts of {len(contacts)} rows")


def _fail(problems: tuple[Problem, ...] | list[Problem]) -> NoReturn:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo("imported nothing", err=True)
    sys.exit(1)


async def _unknown_customers(
    store: DialerStore, rows: list[tuple[int, Contact]]
) -> list[tuple[int, str]]:
    """Rows that name only a customer id the store does not know (they have no number)."""
    wanted = [(line, c.customer_id) for line, c in rows if not c.number]
    pipe = store.redis.pipeline(transaction=False)
    for _, cid in wanted:
        pipe.exists(keys.customer_key(cid))
    found = await pipe.execute() if wanted else []
    return [(line, cid) for (line, cid), ok in zip(wanted, found, strict=True) if not ok]


def _set_state(
    name: str, state: CampaignState, config_path: Path | None, redis_url: str | None
) -> None:
    _named(_config(config_path), name)
    with_dialer_store(redis_url, lambda s: s.set_campaign(name, state))
    click.echo(f"{name}: {state.value}")


def _state_command(verb: str, state: CampaignState, doc: str) -> click.Command:
    """``start``, ``pause`` and ``resume``: the same command with another state."""

    @campaigns.command(verb, help=doc)
    @click.argument("name")
    @config_option
    @redis_option
    def command(name: str, config_path: Path | None, redis_url: str | None) -> None:
        _set_state(name, state, config_path, redis_url)

    return command


start = _state_command("start", CampaignState.RUNNING, "Start dialling campaign NAME.")
pause = _state_command("pause", CampaignState.PAUSED, "Stop new attempts of NAME; calls finish.")
resume = _state_command("resume", CampaignState.RUNNING, "Resume a paused campaign NAME.")


@campaigns.command()
@click.argument("name")
@config_option
@redis_option
def stop(name: str, config_path: Path | None, redis_url: str | None) -> None:
    """End NAME: every pending contact ends in the reported 'stopped' state."""
    _named(_config(config_path), name)
    if name == CALLBACK_CAMPAIGN:
        raise click.BadParameter("callbacks cannot be stopped; pause them instead")
    count = with_dialer_store(redis_url, lambda s: s.stop_campaign(name))
    click.echo(f"{name}: stopped ({count} pending contacts ended)")


@campaigns.command()
@click.argument("name")
@config_option
@redis_option
def status(name: str, config_path: Path | None, redis_url: str | None) -> None:
    """Print NAME's state and its contacts per state as JSON."""
    _named(_config(config_path), name)

    async def read(s: DialerStore) -> dict[str, object]:
        states = await s.campaign_states()
        default = "running" if name == CALLBACK_CAMPAIGN else "paused"
        state = states[name].value if name in states else default
        return {"campaign": name, "state": state, "contacts": await s.campaign_counts(name)}

    click.echo(orjson.dumps(with_dialer_store(redis_url, read), option=orjson.OPT_INDENT_2))


@campaigns.command()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of tables.")
@redis_option
def report(as_json: bool, redis_url: str | None) -> None:
    """Attempts, contacts, right-party contacts, conversions, refusals, callbacks (all time).

    `tierline report` shows the same tables for a period.
    """
    from router.reports.campaigns import campaign_section
    from router.reports.render import section_text

    async def read(s: DialerStore) -> DialerReport:
        attempts = await s.records(keys.DIALER_ATTEMPTS_STREAM)
        refusals = await s.records(keys.DIALER_REFUSALS_STREAM)
        return summarise(attempts, refusals)

    summary = with_dialer_store(redis_url, read)
    if as_json:
        click.echo(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2))
        return
    click.echo(section_text(campaign_section(summary)))
