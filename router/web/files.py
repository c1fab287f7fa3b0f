"""Where the web service's operator files are: the token and the wallboard file.

Shared by ``tierline web`` and ``tierline serve`` (``TIERLINE_WEB=1``), so
both read the same files the same way.
"""

from __future__ import annotations

from pathlib import Path

from router.errors import ConfigError
from router.settings import Settings

__all__ = ["TOKEN_VAR", "read_token", "wallboard_file"]

TOKEN_VAR = "TIERLINE_WEB_TOKEN_FILE"  # noqa: S105 - a variable name, not a secret


def read_token(path: Path | None) -> str | None:
    """The access token from its file (never from the command line or the repo)."""
    if path is None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"Config '{TOKEN_VAR}' cannot be read: {exc.strerror}") from None
    if len(token) < 16:
        raise ConfigError(f"Config '{TOKEN_VAR}' holds a token shorter than 16 characters.")
    return token


def wallboard_file(settings: Settings) -> Path | None:
    """The configured wallboard file, else ``wallboard.yaml`` beside the flows if any."""
    if settings.wallboard_config is not None:
        return settings.wallboard_config
    beside = settings.flows_dir / "wallboard.yaml"
    return beside if beside.is_file() else None
