"""Run-time settings, read once into a frozen, validated object.

Sources, strongest first: command-line options (``with_overrides``), the
environment (``TIERLINE_*``, plus ``REDIS_URL``), an optional TOML file
(``--config`` or ``TIERLINE_CONFIG``; keys are the field names below), then
the defaults. Every value is typed and bounded by pydantic, and a bad one
becomes a :class:`~router.errors.ConfigError` whose one line names the
variable (or the file and key) and the value, so a typo in a unit file fails
at start-up instead of mid-call. Unknown keys in the TOML file are errors;
unknown environment variables are not (the environment is shared).

Paths never depend on the current directory unless the operator typed a
relative one: the defaults are the flows and samples shipped with Tierline
(:mod:`router.bundled`), and relative paths in the TOML file are taken from
the file's own directory.

To add a setting: one field with ``Field(description=...)`` and its bounds;
the environment variable (``TIERLINE_<FIELD>``), the TOML key, the error
message and the ``--help`` line follow from it.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict
from pydantic_settings.sources import PydanticBaseSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

from router.bundled import bundled
from router.errors import ConfigError

__all__ = [
    "CONFIG_VARIABLE",
    "ENV_PREFIX",
    "Settings",
    "default_data_dir",
    "env_name",
    "settings_help",
    "zone_name",
]

ENV_PREFIX = "TIERLINE_"
CONFIG_VARIABLE = "TIERLINE_CONFIG"

Millis = Annotated[float, Field(ge=1, le=60_000)]
Port = Annotated[int, Field(ge=0, le=65_535)]
Host = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[^\s/]+$")]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]
S = TypeVar("S", bound="Settings")


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the embedded store keeps its files (XDG data dir)."""
    e = os.environ if env is None else env
    base = e.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tierline"


class Settings(BaseSettings):
    """Everything a running router needs to know about its surroundings."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", env_ignore_empty=True
    )

    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("redis_url", "REDIS_URL"),
        pattern=r"^(redis|rediss|unix)://",
        repr=False,
        description="customer store and live state (redis://, rediss://, unix://); "
        "unset: the embedded store",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="embedded store files (default $XDG_DATA_HOME/tierline)",
    )
    agi_host: Host = Field("127.0.0.1", description="FastAGI listen address")
    agi_port: Port = Field(4573, description="FastAGI listen port (0 picks a free one)")
    lookup_deadline_ms: Millis = Field(50.0, description="hard deadline of one customer lookup")
    redis_connect_timeout_ms: Millis = Field(100.0, description="call-path connect timeout")
    redis_socket_timeout_ms: Millis = Field(
        100.0, description="call-path socket timeout (capped at 80% of the lookup deadline)"
    )
    redis_pool_size: int = Field(64, ge=1, le=10_000, description="call-path connection pool")
    flows_dir: Path = Field(
        default_factory=lambda: bundled("ivr_flows"),
        description="IVR flows (default: the sample flows shipped with Tierline)",
    )
    routing_config: Path = Field(
        default_factory=lambda: bundled("ivr_flows") / "routing.yaml",
        description="routing policy (default: routing.yaml in the flows directory)",
    )
    ami_host: Host = Field("127.0.0.1", description="AMI address")
    ami_port: int = Field(5038, ge=1, le=65_535, description="AMI port")
    ami_username: str = Field("", max_length=80, description="AMI login; empty: no AMI listener")
    ami_secret_file: Path | None = Field(
        None, description="file holding the AMI secret (never the secret itself)"
    )
    log_level: LogLevel = Field("info", description="structlog JSON lines on stderr")
    default_queue: str = Field(
        "support",
        pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$",
        description="route of last resort when the routing file cannot be used",
    )
    uvloop: bool = Field(True, description="run serve on uvloop when installed (1/0)")
    agi_allow: str = Field(
        "",
        max_length=4096,
        description="peers allowed to connect (addresses/CIDRs, comma-separated); "
        "empty: loopback only, and required when the listener is not loopback",
    )
    drain_s: float = Field(
        10.0, ge=0.0, le=3600.0, description="on SIGTERM, seconds calls may take to finish"
    )
    timezone: str = Field(
        "Asia/Shanghai", description="the centre's clock: reports, wallboard 'today', intervals"
    )
    web: bool = Field(False, description="tierline serve also runs the web service (1/0)")
    web_host: Host = Field("127.0.0.1", description="tierline web listen address")
    web_port: Port = Field(8080, description="tierline web listen port")
    web_token_file: Path | None = Field(
        None, description="file holding the web access token (required off loopback)"
    )
    wallboard_config: Path | None = Field(
        None, description="wallboard bands and alerts (default: wallboard.yaml beside the flows)"
    )
    ami_site: str = Field(
        "default",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="site name: one AMI listener is elected per site among the routers",
    )
    records_retention_days: float = Field(
        180.0, ge=0.0, le=3650.0, description="call records kept this many days (0: for ever)"
    )

    dialer: bool = Field(False, description="tierline serve also runs the outbound dialer (1/0)")
    dialer_config: Path | None = Field(
        None,
        description="dialer campaigns, callbacks, limits and pacing "
        "(default: dialer.yaml beside the flows)",
    )
    dialer_ami_username: str = Field(
        "tierline-dialer",
        min_length=1,
        max_length=80,
        description="the dialer's own AMI login (write=originate, manager_dialer.conf)",
    )
    dialer_ami_secret_file: Path | None = Field(
        None, description="file holding the dialer's AMI secret (never the secret itself)"
    )
    dialer_name: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_.-]{0,32}$",
        description="this dialer's name in attempt ids (empty: random)",
    )
    dialer_tick_ms: float = Field(
        200.0,
        ge=20.0,
        le=1000.0,
        description="dialer pacing re-check; outbound stops taking agents within this",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return zone_name(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _routing_beside_flows(cls, data: Any) -> Any:
        """An unset routing file follows the flows directory."""
        if isinstance(data, dict) and data.get("flows_dir") and not data.get("routing_config"):
            return {**data, "routing_config": Path(data["flows_dir"]) / "routing.yaml"}
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what is passed: ``from_env`` gathers the file and environment itself.

        So ``Settings(...)`` in tests means exactly its arguments and the
        defaults, whatever the developer's shell exports.
        """
        return (init_settings,)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, config_file: Path | None = None
    ) -> Settings:
        """Read the TOML file (``config_file`` or ``$TIERLINE_CONFIG``), then the environment."""
        e = os.environ if env is None else env
        path = config_file or (Path(e[CONFIG_VARIABLE]) if e.get(CONFIG_VARIABLE) else None)
        values: dict[str, Any] = {"data_dir": default_data_dir(e)}
        origins: dict[str, str] = {}
        if path is not None:
            from_file = _read_toml(path)
            values.update(from_file)
            origins.update({k: f"Config '{k}' in {path}" for k in from_file})
        from_env = _MappingEnv(cls, e)()
        values.update(from_env)
        origins.update({k: f"Config '{env_name(k)}'" for k in from_env})
        return _build(cls, values, origins)

    def with_overrides(self, **changes: Any) -> Self:
        """Apply CLI options (``None`` means: keep the environment's value)."""
        kept = {k: v for k, v in changes.items() if v is not None}
        values = {**self.model_dump(), **kept}
        follows = self.routing_config == self.flows_dir / "routing.yaml"
        if "flows_dir" in kept and "routing_config" not in kept and follows:
            values.pop("routing_config")
        return _build(type(self), values, {k: f"Option '{k}'" for k in kept})


class _MappingEnv(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping (tests, ``from_env``)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._env, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def zone_name(value: str) -> str:
    """An IANA time zone name that exists here (raises ValueError with an example)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
    return value


def env_name(field: str) -> str:
    """The environment variable of a field."""
    return "REDIS_URL" if field == "redis_url" else ENV_PREFIX + field.upper()


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's keys, unknown ones refused; relative paths taken from the file's directory."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    fields = Settings.model_fields
    for key, value in data.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"config file {path}: unknown key '{key}'{hint}")
        if _is_path(key) and isinstance(value, str) and not Path(value).is_absolute():
            data[key] = str(path.parent / value)
    return data


def _is_path(field: str) -> bool:
    return "Path" in str(Settings.model_fields[field].annotation)


def _build(cls: type[S], values: dict[str, Any], origins: Mapping[str, str]) -> S:
    try:
        return cls(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, values, origins)) from None


def _describe(exc: ValidationError, values: Mapping[str, Any], origins: Mapping[str, str]) -> str:
    """One line per bad value, naming where it came from; secrets stay hidden."""
    from router.logs import mask_secrets  # noqa: PLC0415 - only on bad input; --help stays light

    lines = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        origin = origins.get(field, f"Config '{field}'")
        raw = mask_secrets(str(values.get(field, error["input"])))
        lines.append(f"{origin} has value '{raw}'. {error['msg']}.")
    return "\n".join(lines)


def settings_help() -> str:
    """The variables for ``--help``: name, type and bounds, default, meaning."""
    rows = []
    for name, field in Settings.model_fields.items():
        bounds = [
            f"{op}{getattr(m, attr)}"
            for m in field.metadata
            for attr, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
            if getattr(m, attr, None) is not None
        ]
        kind = _type_name(field.annotation) + (f" {','.join(bounds)}" if bounds else "")
        default = "" if field.default_factory or field.default in (None, "") else field.default
        shown = f" [{default}]" if default != "" else ""
        rows.append(f"  {env_name(name)}  ({kind}){shown}: {field.description}")
    head = (
        f"Settings: environment variables, or the lower-case names as keys of a TOML file"
        f" (--config or {CONFIG_VARIABLE}); the environment overrides the file."
    )
    return "\b\n" + head + "\n" + "\n".join(rows)


def _type_name(annotation: Any) -> str:
    """``int``, ``path``, ``flag``, ``debug|info|...``: what an operator may write."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        return "|".join(str(a) for a in args)
    if args:
        return _type_name(args[0])
    names = {bool: "flag 1/0", float: "number", Path: "path"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))
