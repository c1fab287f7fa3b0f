"""Second factors (a PIN, the last digits of an ID) as salted hashes; never kept in clear.

``tierline customers import`` reads the optional columns ``pin`` and
``id_last4`` and stores each as ``scrypt$<log2 n>$<r>$<p>$<salt>$<hash>``
(a fresh 16-byte salt per value, base64) inside the customer's record; the
IVR compares typed digits with :func:`matches` (constant time). The cost
parameters travel with each hash, so they can be raised later without
breaking stored values. A 4-digit PIN has only 10 000 values whatever the
hash cost, so the real defence against guessing is the per-account lockout
(:mod:`router.customers.factor_check`); the hash keeps a leaked database
from handing out PINs directly. Messages about a bad value never echo it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from functools import lru_cache

from router.customers.rows import RowError

__all__ = [
    "FACTOR_COLUMNS",
    "dummy",
    "hash_secret",
    "matches",
    "parse_factors",
]

FACTOR_COLUMNS: Mapping[str, re.Pattern[str]] = {
    "pin": re.compile(r"[0-9]{4,8}"),
    "id_last4": re.compile(r"[0-9]{4,6}"),
}
"""Optional import columns -> what a value must look like (keypad digits only)."""
_RULES = {"pin": "4-8 digits", "id_last4": "4-6 digits (the ID's last digits as typed)"}
_LOG2_N, _R, _P, _DKLEN = 12, 8, 1, 32  # ~5-15 ms a hash; 4 MiB of memory


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _derive(digits: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        digits.encode(), salt=salt, n=1 << log2_n, r=r, p=p, dklen=_DKLEN, maxmem=64 << 20
    )


def hash_secret(digits: str, salt: bytes | None = None) -> str:
    """The stored form of ``digits``; a random salt unless one is given (tests)."""
    salt = salt if salt is not None else os.urandom(16)
    derived = _derive(digits, salt, _LOG2_N, _R, _P)
    return f"scrypt${_LOG2_N}${_R}${_P}${_b64(salt)}${_b64(derived)}"


def matches(encoded: str, digits: str) -> bool:
    """Whether ``digits`` are the secret ``encoded`` holds (constant-time compare).

    A malformed or unknown encoding never matches; the cost parameters are
    bounded so a tampered record cannot make the router spin.
    """
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        log2_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return False
    if not (10 <= log2_n <= 16 and 1 <= r <= 16 and p == 1 and len(expected) == _DKLEN):
        return False
    try:
        derived = _derive(digits, salt, log2_n, r, p)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(derived, expected)


@lru_cache(maxsize=1)
def dummy() -> str:
    """Compared when an account has no factor, so an answer takes as long either way."""
    return hash_secret("0000", salt=b"tierline-dummy!!")


def parse_factors(fields: Mapping[str, object]) -> dict[str, str] | RowError:
    """The factor columns of one import row, hashed; or what is wrong with one.

    Empty or absent columns register nothing. A problem says what is wrong
    without repeating the value.
    """
    out: dict[str, str] = {}
    for name, rule in FACTOR_COLUMNS.items():
        raw = fields.get(name)
        text = "" if raw is None else str(raw).strip()
        if not text:
            continue
        if not rule.fullmatch(text):
            return RowError(name, f"must be {_RULES[name]} (value not shown)")
        out[name] = hash_secret(text)
    return out
