"""The ``tierline`` command: argument parsing only; the work is in the library.

Each subcommand group lives in its own module, imported only when that
command runs: ``tierline --help`` must not pay for the flow engine, CEL,
Redis or the simulator. Options every command shares (``--config``,
``--data-dir``) belong to the group, so ``report`` and ``customers`` use the
same embedded store as ``serve``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from router import __version__
from router.errors import ConfigError, LoadError

__all__ = ["LazyGroup", "cli", "main"]

# name -> (module:attribute, one-line help shown by ``tierline --help``)
COMMANDS = {
    "serve": ("router.cli.serve:serve", "Run the FastAGI router until SIGTERM."),
    "call": ("router.cli.call:call", "Play Asterisk's side of one call against a router."),
    "customers": ("router.cli.customers:customers", "Manage the customer store."),
    "asterisk-conf": (
        "router.cli.asterisk_conf:asterisk_conf",
        "Generate queues.conf from the routing policy file.",
    ),
    "report": ("router.cli.report:report", "Queue, IVR and DNIS figures for a period."),
    "flows": ("router.cli.flows:flows", "Check, trace and draw operator IVR flows."),
    "prompts": ("router.cli.prompts:prompts", "Prepare recorded prompts for Asterisk."),
    "simulate": ("router.cli.simulate:simulate", "Simulate a scenario day with 95% CIs."),
    "plan": ("router.cli.simulate:plan", "Cheapest staffing meeting every tier's targets."),
    "calibrate": (
        "router.cli.calibrate:calibrate",
        "A scenario from the centre's own call records (and its backtest).",
    ),
    "web": ("router.cli.web:web", "Wallboard, alerts, /metrics and health checks over HTTP."),
    "dialer": ("router.cli.dialer:dialer", "Dial callbacks and running campaigns (AMI Originate)."),
    "campaigns": ("router.cli.campaigns:campaigns", "Outbound campaigns: import, state, report."),
    "dnc": ("router.cli.dnc:dnc", "The do-not-call list: add, remove, import, check."),
    "backend-demo": (
        "router.cli.backend_demo:backend_demo",
        "Sample backend (balances, orders, SMS) for the demo flows' fetch/notify.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name][0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from router.settings import settings_help

        formatter.write_paragraph()
        formatter.write_text(settings_help())


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="tierline")
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML settings file (default: $TIERLINE_CONFIG); the environment overrides it.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Embedded store directory for every command [$TIERLINE_DATA_DIR].",
)
def cli(config: Path | None, data_dir: Path | None) -> None:
    """Tierline: tiered call routing and IVR for Asterisk."""


def main() -> None:
    """Entry point; configuration and load errors end with a message, not a traceback."""
    try:
        cli(prog_name="tierline")
    except (ConfigError, LoadError) as exc:
        for line in str(exc).splitlines() or [""]:
            click.echo(f"error: {line}", err=True)
        sys.exit(2)
