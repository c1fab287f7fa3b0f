"""Structured JSON logging with phone numbers and secrets masked.

Call logs end up in log shippers and support tickets; a full phone number
there is personal data we do not need, and a store password there is a
breach, so masking happens in a processor that every event passes through
(structlog's and the standard library's alike) rather than at each call site.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog
from structlog.typing import Processor

__all__ = [
    "bind_call",
    "configure_logging",
    "get_logger",
    "mask_number",
    "mask_numbers",
    "mask_secrets",
]

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


def mask_secrets(text: str) -> str:
    """Hide the password of every URL in ``text`` (``redis://:pw@h`` -> ``redis://:***@h``)."""
    return _URL_PASSWORD_RE.sub(r"\1***\2", text)


def _mask_text(text: str) -> str:
    return mask_numbers(mask_secrets(text))


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: "***" if _is_secret_key(k) else _mask_value(v) for k, v in value.items()}
    return value


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and any(word in key.lower() for word in _SECRET_WORDS)


def _mask_call_id(value: Any) -> Any:
    """Asterisk's ``[system-]epoch.seq`` stays readable; anything else is masked like text.

    A trunk or a dialplan may set its own uniqueid, and some put the caller's
    number in it. A 10-digit run is taken as an epoch only in the range a
    live call can have (2020 to a year from now), where no national number
    we mask (11-digit mobiles, 10-digit landlines starting 10 or 2-9) falls.
    """
    if not isinstance(value, str):
        return value
    found = _CALL_ID_RE.match(value)
    if found and _EPOCH_MIN <= int(found.group(1)) <= time.time() + _YEAR_S:
        return value
    return _mask_text(value)


def _mask_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        if key in _CALL_ID_KEYS:
            event_dict[key] = _mask_call_id(value)
        elif _is_secret_key(key):
            event_dict[key] = "***"
        elif key not in _UNMASKED_KEYS:
            event_dict[key] = _mask_value(value)
    return event_dict


_UNMASKED_KEYS = frozenset({"timestamp", "level", "elapsed_ms", "version", "_record"})
_CALL_ID_KEYS = frozenset({"uniqueid", "linkedid"})
_CALL_ID_RE = re.compile(r"(?:[A-Za-z][\w-]*-)?(\d{10})\.\d{1,9}\Z")
_EPOCH_MIN = 1_600_000_000
_YEAR_S = 366 * 86_400
_SECRET_WORDS = ("password", "passwd", "secret", "requirepass", "api_key", "apikey")
# scheme://[user]:password@ -- the password is whatever runs to the last '@' of the authority.
_URL_PASSWORD_RE = re.compile(r"(\b[A-Za-z][\w+.-]*://[^:/@\s]*:)[^/\s]*(@)")


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default).decode()


_HANDLER_MARK = "_tierline_handler"


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Route structlog, and every standard-library logger, to JSON lines on ``stream``.

    redis-py, asyncio and the web server log through ``logging``; their
    records get the same masking processors through a ProcessorFormatter on
    the root handler, so no path to stderr skips them.
    """
    out = stream or sys.stderr
    numeric = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _mask_processor,
    ]
    renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(out, numeric, shared, renderer)


def _route_stdlib(out: TextIO, numeric: int, shared: list[Processor], renderer: Processor) -> None:
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries' debug chatter (asyncio's selector, redis-py's connects) is not ours to show.
    root.setLevel(max(numeric, logging.INFO))


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


def bind_call(**ids: str) -> None:
    """Bind a call's ids (uniqueid, ...) to every log line of this task."""
    structlog.contextvars.bind_contextvars(**ids)
