"""``tierline asterisk-conf``: write queues.conf from the routing file.

The lanes Asterisk knows and the lanes the policy routes to come from the
same YAML, so they cannot drift. ``--check`` compares instead of writing,
for CI and for a pre-deploy hook.
"""

from __future__ import annotations

from pathlib import Path

import click

from router.cli.store_url import cli_settings

__all__ = ["asterisk_conf"]


@click.command("asterisk-conf")
@click.option(
    "--routing",
    "routing_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=lambda: cli_settings().routing_config,
    show_default="$TIERLINE_ROUTING_CONFIG, else the shipped routing.yaml",
    help="Routing policy YAML.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("asterisk_conf"),
    show_default=True,
    help="Directory to write queues.conf into.",
)
@click.option("--check", is_flag=True, help="Exit 1 if the file on disk differs; write nothing.")
def asterisk_conf(routing_path: Path, out_dir: Path, check: bool) -> None:
    """Generate queues.conf (the lanes) from the routing policy file."""
    from router.errors import RoutingConfigError
    from router.policy import load_routing, render_queues_conf

    try:
        config = load_routing(routing_path)
    except RoutingConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(2) from None
    text = render_queues_conf(config, source=routing_path.name)
    target = out_dir / "queues.conf"
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            click.echo(f"{target} is out of date; run tierline asterisk-conf", err=True)
            raise SystemExit(1)
        click.echo(f"{target} is up to date")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target} ({len(config.queues)} queues)")
