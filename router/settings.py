"""Run-time settings, read once from the environment into a frozen object.

Every value is cast here with an error that names the variable and the bad
value, so a typo in a unit file fails at start-up instead of mid-call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from router.errors import ConfigError

__all__ = ["Settings", "default_data_dir"]

T = TypeVar("T")


def default_data_dir() -> Path:
    """Where the embedded store keeps its files (XDG data dir)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tierline"


def _cast(env: Mapping[str, str], name: str, kind: Callable[[str], T], default: T) -> T:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(
            f"Config '{name}' has value '{raw}'. Not a valid {getattr(kind, '__name__', kind)}."
        ) from None


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value < 65536:
        raise ValueError(raw)
    return value


_port.__name__ = "port (0-65535; 0 picks a free one)"


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_flag.__name__ = "flag (1/0, true/false, yes/no, on/off)"


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 3600:
        raise ValueError(raw)
    return value


_seconds.__name__ = "number of seconds (0-3600)"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a running router needs to know about its surroundings."""

    redis_url: str | None = None
    data_dir: Path = Path("var")
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_allow: str = ""  # comma-separated; router.agi.peers.allow_list checks it at start
    drain_s: float = 10.0
    lookup_deadline_ms: float = 50.0
    redis_connect_timeout_ms: float = 100.0
    redis_socket_timeout_ms: float = 100.0
    redis_pool_size: int = 64
    flows_dir: Path = Path("ivr_flows")
    routing_config: Path = Path("ivr_flows/routing.yaml")
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret_file: Path | None = None
    log_level: str = "info"
    default_queue: str = "support"
    uvloop: bool = True
    ami_site: str = "default"
    records_retention_days: float = 180.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        secret = e.get("TIERLINE_AMI_SECRET_FILE")
        return cls(
            redis_url=e.get("REDIS_URL") or None,
            data_dir=Path(e.get("TIERLINE_DATA_DIR") or default_data_dir()),
            agi_host=e.get("TIERLINE_AGI_HOST") or "127.0.0.1",
            agi_port=_cast(e, "TIERLINE_AGI_PORT", _port, 4573),
            agi_allow=e.get("TIERLINE_AGI_ALLOW") or "",
            drain_s=_cast(e, "TIERLINE_DRAIN_S", _seconds, 10.0),
            lookup_deadline_ms=_cast(e, "TIERLINE_LOOKUP_DEADLINE_MS", float, 50.0),
            redis_connect_timeout_ms=_cast(e, "TIERLINE_REDIS_CONNECT_TIMEOUT_MS", float, 100.0),
            redis_socket_timeout_ms=_cast(e, "TIERLINE_REDIS_SOCKET_TIMEOUT_MS", float, 100.0),
            redis_pool_size=_cast(e, "TIERLINE_REDIS_POOL_SIZE", int, 64),
            flows_dir=Path(e.get("TIERLINE_FLOWS_DIR") or "ivr_flows"),
            routing_config=Path(e.get("TIERLINE_ROUTING_CONFIG") or "ivr_flows/routing.yaml"),
            ami_host=e.get("TIERLINE_AMI_HOST") or "127.0.0.1",
            ami_port=_cast(e, "TIERLINE_AMI_PORT", _port, 5038),
            ami_username=e.get("TIERLINE_AMI_USERNAME") or "",
            ami_secret_file=Path(secret) if secret else None,
            log_level=(e.get("TIERLINE_LOG_LEVEL") or "info").lower(),
            default_queue=e.get("TIERLINE_DEFAULT_QUEUE") or "support",
            uvloop=_cast(e, "TIERLINE_UVLOOP", _flag, True),
            ami_site=e.get("TIERLINE_AMI_SITE") or "default",
            records_retention_days=_cast(e, "TIERLINE_RECORDS_RETENTION_DAYS", float, 180.0),
        )

    def with_overrides(self, **changes: Any) -> Settings:
        """Apply CLI options (``None`` means: keep the environment's value)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
