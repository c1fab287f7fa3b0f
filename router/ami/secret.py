"""The AMI secret: one file serves Asterisk and the router.

manager.conf's ``[tierline]`` user ``#include``s ``tierline-ami-secret.conf``,
so that file must read as Asterisk config: ``secret=<value>``. The router
is pointed at the same file (``TIERLINE_AMI_SECRET_FILE``) and reads it the
way Asterisk does, so the two can never disagree: ``;`` starts a comment
(``\\;`` is a literal ``;``), blank and comment lines are skipped, spaces
around the key and the value are dropped, the key is case-insensitive, and
other ``key=value`` lines are ignored. A file holding nothing but the bare
secret (a router on another host keeping its own copy) is read as it is.
The secret itself is never logged nor put into an error message.
"""

from __future__ import annotations

import re
from pathlib import Path

from router.errors import ConfigError

__all__ = ["parse_secret", "read_secret"]

_COMMENT_RE = re.compile(r"(?<!\\);.*")
# key = value (or key => value); a bare base64 secret's "==" padding is no pair.
_PAIR_RE = re.compile(r"([A-Za-z_][\w-]*)\s*=>?(?!=)\s*(.*)")
_VARIABLE = "TIERLINE_AMI_SECRET_FILE"


def read_secret(path: Path, variable: str = _VARIABLE) -> str:
    """The secret in ``path``; a ``ConfigError`` naming ``variable`` otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"Config '{variable}' has value '{path}'. Not readable: {reason}."
        ) from None
    return parse_secret(text, str(path), variable)


def parse_secret(text: str, source: str, variable: str = _VARIABLE) -> str:
    """The secret from the file's text: its ``secret=`` line, else its only line."""
    lines = [_COMMENT_RE.sub("", line).strip() for line in text.splitlines()]
    lines = [line.replace("\\;", ";") for line in lines if line]
    pairs = [m.groups() for m in map(_PAIR_RE.fullmatch, lines) if m]
    secrets = [value.strip() for key, value in pairs if key.lower() == "secret"]
    if len(secrets) > 1:
        raise ConfigError(f"{variable} {source}: {len(secrets)} 'secret=' lines, expected one")
    if secrets:
        found = secrets[0]
    elif len(lines) == 1 and not pairs:
        found = lines[0]
    else:
        raise ConfigError(
            f"{variable} {source}: no 'secret=' line (write it as Asterisk reads it: secret=VALUE)"
        )
    if not found:
        raise ConfigError(f"{variable} {source}: the secret is empty")
    return found
