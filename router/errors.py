"""Every exception Tierline raises, under one root.

Load-time errors (an operator's file was rejected) are kept apart from
run-time faults (a dependency misbehaved during a call), because they are
handled differently: a load error stops a command or keeps the old flow
version serving; a run-time fault must degrade to a default route and never
drop a call. Control signals (the caller hung up) are not errors at all and
do not derive from the root, so a broad ``except TierlineError`` never
swallows a hangup by accident.

    TierlineError
    ├── ConfigError                 a setting or config file value is unusable
    ├── LoadError                   operator input rejected; carries Problems
    │   ├── CampaignDataError       dialer campaign files and contact rows
    │   ├── CustomerDataError       customer CSV / JSON Lines rows
    │   ├── FlowError               IVR flow YAML
    │   ├── RoutingConfigError      routing policy YAML
    │   ├── ScenarioError           simulator scenario YAML
    │   └── WebConfigError          wallboard thresholds and alerts YAML
    ├── StoreError                  Redis unreachable, slow or inconsistent
    │   └── NumberConflictError     a number already belongs to another customer
    ├── AGIError                    FastAGI protocol problems
    │   ├── AGIProtocolError        a line we cannot parse / environment too long
    │   ├── AGITimeoutError         Asterisk did not answer within our deadline
    │   ├── AGIInvalidCommandError  510
    │   ├── AGIDeadChannelError     511
    │   └── AGIUsageError           520 (carries the usage text)
    ├── AMIError                    AMI connection / action failures
    │   └── AMIActionError          Response: Error to an action
    └── SpeechError                 a value cannot be spoken (malformed, out of range,
                                    or a language without speech rules)

    CallHungUp                      control signal: the channel is gone
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AGIDeadChannelError",
    "AGIError",
    "AGIInvalidCommandError",
    "AGIProtocolError",
    "AGITimeoutError",
    "AGIUsageError",
    "AMIActionError",
    "AMIError",
    "CallHungUp",
    "CampaignDataError",
    "ConfigError",
    "CustomerDataError",
    "FlowError",
    "LoadError",
    "NumberConflictError",
    "Problem",
    "RoutingConfigError",
    "ScenarioError",
    "SpeechError",
    "StoreError",
    "TierlineError",
    "WebConfigError",
]


class TierlineError(Exception):
    """Root of every error Tierline raises on purpose."""


class ConfigError(TierlineError):
    """A setting (environment variable, CLI option, config key) is unusable."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One located complaint about operator input.

    Operators fix files in an editor, so every problem carries the position
    the editor jumps to, and where possible a concrete suggestion.
    """

    file: str
    line: int
    col: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f":{self.col}" if self.col else "")
        tail = f" ({self.hint})" if self.hint else ""
        return f"{where}: {self.message}{tail}"


class LoadError(TierlineError):
    """Operator input was rejected as a whole; nothing of it was applied."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid input")


class CustomerDataError(LoadError):
    """Customer import rows failed validation."""


class CampaignDataError(LoadError):
    """A dialer campaign file or contact import rows failed validation."""


class FlowError(LoadError):
    """An IVR flow file failed to parse or failed a static check."""


class RoutingConfigError(LoadError):
    """The routing policy file failed validation."""


class ScenarioError(LoadError):
    """A simulator scenario file failed validation."""


class WebConfigError(LoadError):
    """The wallboard file (thresholds, alert rules) failed validation."""


class StoreError(TierlineError):
    """The customer store could not answer (down, timed out, bad data)."""


class NumberConflictError(StoreError):
    """A phone number is already linked to a different customer."""

    def __init__(self, number: str, owner: str, wanted: str) -> None:
        self.number = number
        self.owner = owner
        self.wanted = wanted
        super().__init__(
            f"number {number} belongs to customer {owner}, not {wanted}; unlink it first"
        )


class AGIError(TierlineError):
    """A FastAGI exchange failed."""


class AGIProtocolError(AGIError):
    """Asterisk (or something pretending to be it) sent a line we cannot parse."""


class AGITimeoutError(AGIError):
    """No reply within our deadline; Asterisk itself never times us out."""


class AGIInvalidCommandError(AGIError):
    """510: Asterisk does not know the command."""


class AGIDeadChannelError(AGIError):
    """511: the command is not allowed on a dead (hung-up) channel."""


class AGIUsageError(AGIError):
    """520: the command's arguments were wrong; carries Asterisk's usage text."""

    def __init__(self, usage: str) -> None:
        self.usage = usage
        super().__init__(usage.splitlines()[0] if usage else "invalid command syntax")


class AMIError(TierlineError):
    """The AMI connection failed or an action could not be performed."""


class AMIActionError(AMIError):
    """Asterisk answered an action with ``Response: Error``."""


class SpeechError(TierlineError):
    """A value from a call cannot be read aloud.

    Its own branch, apart from LoadError (no operator file is at fault: the
    value usually comes from a backend at run time) and from the I/O faults
    (nothing misbehaved): the say step takes its ``failed`` exit instead of
    speaking something wrong.
    """


class CallHungUp(Exception):  # noqa: N818 - a signal, not an error; see module docstring
    """The channel hung up; unwind the call's work without logging an error."""
