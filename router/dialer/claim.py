"""The atomic contact-rule check, as one Lua script (adapter).

One EVALSHA per attempt decides every history rule and, when they pass,
records the attempt, so the check and the write cannot be split by another
dialer: two processes racing for one customer get one ``ok`` and one
``in_flight``. All keys share the ``{d}`` hash tag (one cluster slot).

KEYS: due zset, DNC set, in-flight lock, history zset, marketing zset,
per-campaign attempts hash. The return value is ``{verdict, retry_at}``:
``ok``; ``taken`` (another dialer claimed the contact); a final refusal
(``dnc``, ``campaign_attempts``: removed from the due set); or a delay
(``in_flight``, ``per_day``, ``marketing_cap``: the contact's due time is
moved to ``retry_at`` in the same script).
"""

from __future__ import annotations

from dataclasses import dataclass

from router.dialer.rules import ContactLimits
from router.storage import keys

__all__ = ["CLAIM_LUA", "RELEASE_LUA", "UNCLAIM_LUA", "ClaimArgs", "claim_call"]

CLAIM_LUA = """
local now = tonumber(ARGV[5])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {'taken', '0'} end
local exempt = ARGV[12] == '1'
if not exempt and redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {'dnc', '0'}
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local later = now + 60
  redis.call('ZADD', KEYS[1], later, ARGV[1])
  return {'in_flight', tostring(later)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[14]))
local function cap(key, window, max)
  local recent = redis.call('ZRANGEBYSCORE', key, now - window, '+inf', 'WITHSCORES')
  local n = #recent / 2
  if n >= max then return tonumber(recent[2 * (n - max + 1)]) + window end
  return nil
end
if not exempt then
  local used = tonumber(redis.call('HGET', KEYS[6], ARGV[3]) or '0')
  if used >= tonumber(ARGV[10]) then
    redis.call('ZREM', KEYS[1], ARGV[1])
    return {'campaign_attempts', '0'}
  end
  local t = cap(KEYS[4], tonumber(ARGV[6]), tonumber(ARGV[7]))
  if t then
    redis.call('ZADD', KEYS[1], t, ARGV[1])
    return {'per_day', tostring(t)}
  end
  if ARGV[11] == '1' then
    t = cap(KEYS[5], tonumber(ARGV[8]), tonumber(ARGV[9]))
    if t then
      redis.call('ZADD', KEYS[1], t, ARGV[1])
      return {'marketing_cap', tostring(t)}
    end
  end
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[13])
redis.call('ZADD', KEYS[4], now, ARGV[4])
redis.call('EXPIRE', KEYS[4], ARGV[14])
if ARGV[11] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - tonumber(ARGV[14]))
  redis.call('ZADD', KEYS[5], now, ARGV[4])
  redis.call('EXPIRE', KEYS[5], ARGV[14])
end
redis.call('HINCRBY', KEYS[6], ARGV[3], 1)
redis.call('EXPIRE', KEYS[6], ARGV[14])
return {'ok', '0'}
"""

RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

UNCLAIM_LUA = """
if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
redis.call('ZREM', KEYS[4], ARGV[4])
redis.call('ZREM', KEYS[5], ARGV[4])
if redis.call('HINCRBY', KEYS[6], ARGV[3], -1) <= 0 then redis.call('HDEL', KEYS[6], ARGV[3]) end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
return 1
"""
"""Undo a claim whose Originate was never written (the AMI link was down):
the attempt leaves the history and counters and the contact is due again."""


@dataclass(frozen=True, slots=True)
class ClaimArgs:
    """One claim: which due slot, contact and customer, which attempt."""

    slot: str
    contact_id: str
    number: str
    who: str
    campaign: str
    attempt_id: str
    now: float
    marketing: bool
    exempt: bool


def claim_call(args: ClaimArgs, limits: ContactLimits) -> tuple[list[str], list[str | int | float]]:
    """KEYS and ARGV of the claim script for ``args``."""
    script_keys = [
        keys.dialer_due_key(args.slot),
        keys.DNC,
        keys.dialer_inflight_key(args.who),
        keys.dialer_history_key(args.who),
        keys.dialer_marketing_key(args.who),
        keys.dialer_campaign_attempts_key(args.campaign),
    ]
    argv: list[str | int | float] = [
        args.contact_id,
        args.number,
        args.who,
        args.attempt_id,
        repr(args.now),
        limits.day_window_s,
        limits.per_day,
        limits.marketing_window_s,
        limits.marketing_max,
        limits.campaign_attempts,
        int(args.marketing),
        int(args.exempt),
        keys.DIALER_INFLIGHT_TTL_S,
        keys.DIALER_HISTORY_TTL_S,
    ]
    return script_keys, argv
