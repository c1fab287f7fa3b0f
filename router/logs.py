"""Structured JSON logging with phone numbers masked.

Call logs end up in log shippers and support tickets; a full phone number
there is personal data we do not need, so masking happens in a processor
that every event passes through rather than at each call site.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog

__all__ = ["bind_call", "configure_logging", "get_logger", "mask_number", "mask_numbers"]

# Any run of 7+ digits, optionally led by '+', with common separators inside,
# that is not part of a word (a content hash such as "703c1949513" stays).
_NUMBER_RE = re.compile(r"(?<![\w.])\+?\d(?:[\d\- ()]{5,}\d)(?![\w])")
_KEEP_HEAD = 3
_KEEP_TAIL = 4


def mask_number(number: str) -> str:
    """``13800138000`` -> ``138****8000``; short strings are fully starred."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < _KEEP_HEAD + _KEEP_TAIL:
        return "*" * len(digits)
    head = ("+" if number.lstrip().startswith("+") else "") + digits[:_KEEP_HEAD]
    return head + "****" + digits[-_KEEP_TAIL:]


def mask_numbers(text: str) -> str:
    """Mask every phone-number-looking run inside free text."""
    return _NUMBER_RE.sub(lambda m: _mask_match(m.group(0)), text)


def _mask_match(found: str) -> str:
    digits = sum(ch.isdigit() for ch in found)
    return mask_number(found) if digits >= 7 else found


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_numbers(value)
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    return value


def _mask_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        # uniqueids look like '1732281234.42': digits, but not numbers to hide.
        if key not in _UNMASKED_KEYS:
            event_dict[key] = _mask_value(value)
    return event_dict


_UNMASKED_KEYS = frozenset({"timestamp", "uniqueid", "linkedid", "level", "elapsed_ms", "version"})


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default).decode()


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Route structlog to one JSON object per line on ``stream`` (stderr)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _mask_processor,
            structlog.processors.JSONRenderer(serializer=_orjson_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


def bind_call(**ids: str) -> None:
    """Bind a call's ids (uniqueid, ...) to every log line of this task."""
    structlog.contextvars.bind_contextvars(**ids)
