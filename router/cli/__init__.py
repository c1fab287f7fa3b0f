"""The ``tierline`` command: argument parsing only; the work is in the library.

Each subcommand group lives in its own module and is registered here.
"""

from __future__ import annotations

import click

from router import __version__
from router.cli.serve import serve
from router.cli.simulate import plan, simulate

__all__ = ["cli", "main"]


@click.group()
@click.version_option(__version__, prog_name="tierline")
def cli() -> None:
    """Tierline: tiered call routing and IVR for Asterisk."""


cli.add_command(serve)
cli.add_command(simulate)
cli.add_command(plan)


def main() -> None:
    cli(prog_name="tierline")
