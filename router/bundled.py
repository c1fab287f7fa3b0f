"""Where the files shipped with Tierline live: sample flows, customers, Asterisk config.

A wheel carries them inside the package (``router/_data/...``, mapped there
by ``pyproject.toml``); a source checkout keeps them at the repository root.
Either way the answer depends on where the code is, never on the current
directory, so ``tierline serve --demo`` works from ``/tmp`` as from the
checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["Bundled", "bundled"]

Bundled = Literal["asterisk_conf", "ivr_flows", "samples"]

_PACKAGE = Path(__file__).resolve().parent


def bundled(name: Bundled) -> Path:
    """The shipped copy of ``name``: in the installed package, else in the checkout."""
    inside = _PACKAGE / "_data" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name
