"""``backends.yaml``: the only hosts a flow may make the router call, by name.

A ``fetch`` or ``notify`` node names a backend; its base URL lives here,
in a reserved file of the flows folder (a deployment can make it
read-only), so a flow edit can choose *which* backend and *which path*,
never an arbitrary host. Validated once with the flows (unknown keys and
bad URLs are ``file:line:col`` problems) and reloaded with them.

```yaml
call_budget_ms: 1000          # all data steps of one call together
backends:
  crm:
    base_url: http://127.0.0.1:8600
    max_body_bytes: 65536     # a bigger answer is a failure, not read on
```
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from router.errors import Problem
from router.flows.section import Items, Section

__all__ = ["BACKENDS_FILE", "Backend", "BackendSet", "parse_backends"]

BACKENDS_FILE = "backends.yaml"
_URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?")


def _base_url(url: str) -> str:
    if not _URL_RE.fullmatch(url) or ".." in url:
        raise PydanticCustomError(
            "base_url",
            "'{url}' must be http(s)://host[:port][/path] (no query, user or '..')",
            {"url": url},
        )
    return url.rstrip("/")


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Backend(_Config):
    """One operator backend (CRM, order system, SMS/WeChat gateway)."""

    base_url: Annotated[str, AfterValidator(_base_url)] = Field(
        description="http(s)://host[:port][/path]; node paths are appended"
    )
    max_body_bytes: Annotated[int, Field(ge=256, le=4_194_304)] = 65_536


class BackendSet(_Config):
    """Every backend by name, and the budget all data steps of one call share."""

    backends: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")], Backend] = Field(
        default_factory=dict
    )
    call_budget_ms: Annotated[int, Field(ge=10, le=60_000)] = 1000

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.backends)


def parse_backends(raw: Any, file: str, problems: list[Problem]) -> BackendSet:
    """The parsed file as a :class:`BackendSet`; problems located in ``file`` (empty on error)."""
    try:
        return BackendSet.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            line, col = _where(raw, err["loc"])
            label = ".".join(str(p) for p in err["loc"])
            text = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                text = "unknown key"
            problems.append(Problem(file, line, col, f"{label}: {text}" if label else text))
        return BackendSet()


def _where(raw: Any, loc: tuple[Any, ...]) -> tuple[int, int]:
    here, pos = raw, getattr(raw, "pos", (1, 1))
    for step in loc:
        if isinstance(here, Section) and str(step) in here:
            pos = here.key_pos[str(step)] if step == loc[-1] else here.at(str(step))
            here = here[str(step)]
        elif isinstance(here, Items) and isinstance(step, int) and step < len(here):
            pos, here = here.item_pos[step], here[step]
    return pos
