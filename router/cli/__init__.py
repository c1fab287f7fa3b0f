"""The ``tierline`` command: argument parsing only; the work is in the library.

Each subcommand group lives in its own module and is registered here.
"""

from __future__ import annotations

import sys

import click

from router import __version__
from router.cli.asterisk_conf import asterisk_conf
from router.cli.call import call
from router.cli.campaigns import campaigns
from router.cli.customers import customers
from router.cli.dialer import dialer
from router.cli.dnc import dnc
from router.cli.flows import flows
from router.cli.prompts import prompts
from router.cli.report import report
from router.cli.serve import serve
from router.cli.simulate import plan, simulate
from router.errors import ConfigError, LoadError

__all__ = ["cli", "main"]


@click.group()
@click.version_option(__version__, prog_name="tierline")
def cli() -> None:
    """Tierline: tiered call routing and IVR for Asterisk."""


cli.add_command(serve)
cli.add_command(call)
cli.add_command(customers)
cli.add_command(asterisk_conf)
cli.add_command(report)
cli.add_command(flows)
cli.add_command(prompts)
cli.add_command(simulate)
cli.add_command(plan)
cli.add_command(dialer)
cli.add_command(campaigns)
cli.add_command(dnc)


def main() -> None:
    """Entry point; configuration and load errors end with a message, not a traceback."""
    try:
        cli(prog_name="tierline")
    except (ConfigError, LoadError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
