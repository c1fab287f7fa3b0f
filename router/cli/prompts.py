"""``tierline prompts build``: argument parsing only."""

from __future__ import annotations

from pathlib import Path

import click

from router.cli.extras import needs_extra

__all__ = ["prompts"]


@click.group()
def prompts() -> None:
    """Prepare recorded prompts for Asterisk."""


@prompts.command()
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("dst", type=click.Path(path_type=Path, file_okay=False))
@click.option("--ulaw", is_flag=True, help="Also write raw mu-law .ulaw files.")
def build(src: Path, dst: Path, ulaw: bool) -> None:
    """Convert SRC recordings to 8 kHz mono 16-bit WAV in DST, with a manifest."""
    with needs_extra("prompts", "tierline prompts build"):
        from router.prompts import build_prompts

    infos = build_prompts(src, dst, ulaw=ulaw)
    for info in infos:
        click.echo(f"{info.file}  {info.duration_s:.2f}s  peak {info.peak_dbfs} dBFS")
    click.echo(f"{len(infos)} prompt(s) -> {dst / 'manifest.json'}")


@prompts.command()
@click.argument("catalog", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.argument("dst", type=click.Path(path_type=Path, file_okay=False))
def placeholders(catalog: Path, dst: Path) -> None:
    """Write tone placeholders for every prompt in CATALOG (prompts.yaml) into DST."""
    with needs_extra("prompts", "tierline prompts placeholders"):
        from router.prompts import placeholder_prompts

    written = placeholder_prompts(catalog, dst)
    click.echo(f"{len(written)} placeholder recording(s) in {dst}; next: tierline prompts build")
