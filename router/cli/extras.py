"""Commands whose libraries come with an extra say which one, instead of a traceback.

A router-only install (``pip install tierline``) has no simulator, audio
tools or embedded server; ``tierline simulate`` there should name the
extra to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

__all__ = ["needs_extra"]


@contextmanager
def needs_extra(extra: str, what: str) -> Iterator[None]:
    """Wrap the imports of ``what``; a missing module becomes a one-line hint."""
    try:
        yield
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"{what} needs {exc.name}, which comes with an extra: pip install 'tierline[{extra}]'"
        ) from None
