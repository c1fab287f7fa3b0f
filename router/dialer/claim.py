"""The atomic contact-rule check: one Lua script for a whole batch (adapter).

One EVALSHA decides every history rule for each contact of a batch and,
for each that passes, records the attempt, so a check and its write can
never be split by another dialer: two processes racing for one customer
get one ``ok`` and one ``in_flight``. A batch of one is the single claim;
a batch of a thousand costs one round trip, under one per decision. The
per-contact values travel as one JSON argument (``cjson`` in the script):
packing thousands of separate arguments cost the client more than the
script cost the server.

Per contact the verdict is ``ok``; ``taken`` (another dialer claimed the
contact first, nothing recorded); a final refusal (``dnc``,
``campaign_attempts``: the contact leaves its due set and is marked
``refused``); or a delay (``in_flight``, ``per_day``, ``marketing_cap``: its
due time moves to ``retry_at``). Every refusal is appended to the refusals
stream by the script itself. All keys share the ``{d}`` hash tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from router.dialer.rules import ContactLimits
from router.storage import keys

__all__ = [
    "CLAIM_LUA",
    "KEYS_PER_CLAIM",
    "RELEASE_LUA",
    "UNCLAIM_LUA",
    "ClaimArgs",
    "claim_batch",
    "claim_keys",
]

KEYS_PER_CLAIM = 6

CLAIM_LUA = """
local now = tonumber(ARGV[1])
local dayw, perday = tonumber(ARGV[2]), tonumber(ARGV[3])
local mktw, mktmax = tonumber(ARGV[4]), tonumber(ARGV[5])
local campmax, lockttl, histttl = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])

local function cap(key, window, max)
  local recent = redis.call('ZRANGEBYSCORE', key, now - window, '+inf', 'WITHSCORES')
  local n = #recent / 2
  if n >= max then return tonumber(recent[2 * (n - max + 1)]) + window end
  return nil
end

local function claim(k, c)
  local due, lock, hist, mkt, ca = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local cid, number, who, attempt = c[1], c[2], c[3], c[4]
  local marketing, exempt = c[5] == 1, c[6] == 1
  if not redis.call('ZSCORE', due, cid) then return 'taken', 0 end
  if not exempt and redis.call('SISMEMBER', KEYS[1], number) == 1 then
    redis.call('ZREM', due, cid)
    return 'dnc', 0
  end
  if redis.call('EXISTS', lock) == 1 then
    redis.call('ZADD', due, now + 60, cid)
    return 'in_flight', now + 60
  end
  redis.call('ZREMRANGEBYSCORE', hist, '-inf', now - histttl)
  if not exempt then
    if tonumber(redis.call('HGET', ca, who) or '0') >= campmax then
      redis.call('ZREM', due, cid)
      return 'campaign_attempts', 0
    end
    local t = cap(hist, dayw, perday)
    if t then
      redis.call('ZADD', due, t, cid)
      return 'per_day', t
    end
    if marketing then
      t = cap(mkt, mktw, mktmax)
      if t then
        redis.call('ZADD', due, t, cid)
        return 'marketing_cap', t
      end
    end
  end
  redis.call('ZREM', due, cid)
  redis.call('SET', lock, attempt, 'EX', lockttl)
  redis.call('ZADD', hist, now, attempt)
  redis.call('EXPIRE', hist, histttl)
  if marketing then
    redis.call('ZREMRANGEBYSCORE', mkt, '-inf', now - histttl)
    redis.call('ZADD', mkt, now, attempt)
    redis.call('EXPIRE', mkt, histttl)
  end
  redis.call('HINCRBY', ca, who, 1)
  redis.call('EXPIRE', ca, histttl)
  return 'ok', 0
end

local out = {}
for i, c in ipairs(cjson.decode(ARGV[10])) do
  local k = 3 + 6 * (i - 1)
  local verdict, at = claim(k, c)
  if verdict ~= 'ok' and verdict ~= 'taken' then
    local final = '0'
    if verdict == 'dnc' or verdict == 'campaign_attempts' then
      final = '1'
      redis.call('HSET', KEYS[k + 5], 'state', 'refused', 'refusal', verdict)
    end
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'campaign', c[7],
      'contact', c[1], 'customer', c[8], 'reason', verdict, 'final', final, 'at', ARGV[1])
  end
  out[#out + 1] = verdict
  out[#out + 1] = tostring(at)
end
return out
"""

RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

UNCLAIM_LUA = """
if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('ZREM', KEYS[4], ARGV[4])
if redis.call('HINCRBY', KEYS[5], ARGV[3], -1) <= 0 then redis.call('HDEL', KEYS[5], ARGV[3]) end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
return 1
"""
"""Undo a claim whose Originate was never written (the AMI link was down):
the attempt leaves the history and counters and the contact is due again.
KEYS are :func:`claim_keys`; ARGV contact id, number, who, attempt id, due."""


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
    customer_id: str = ""


def claim_keys(args: ClaimArgs) -> list[str]:
    """The six ``{d}`` keys one claim touches."""
    return [
        keys.dialer_due_key(args.slot),
        keys.dialer_inflight_key(args.who),
        keys.dialer_history_key(args.who),
        keys.dialer_marketing_key(args.who),
        keys.dialer_campaign_attempts_key(args.campaign),
        keys.dialer_contact_key(args.contact_id),
    ]


def claim_batch(
    batch: Sequence[ClaimArgs], limits: ContactLimits, now: float
) -> tuple[list[str], list[str | int | float]]:
    """KEYS and ARGV of the claim script for a batch decided at ``now``."""
    script_keys = [keys.DNC, keys.DIALER_REFUSALS_STREAM]
    argv: list[str | int | float] = [
        repr(now),
        limits.day_window_s,
        limits.per_day,
        limits.marketing_window_s,
        limits.marketing_max,
        limits.campaign_attempts,
        keys.DIALER_INFLIGHT_TTL_S,
        keys.DIALER_HISTORY_TTL_S,
        keys.DIALER_STREAM_MAXLEN,
    ]
    items = []
    for a in batch:
        script_keys += claim_keys(a)
        items.append(
            [
                a.contact_id,
                a.number,
                a.who,
                a.attempt_id,
                int(a.marketing),
                int(a.exempt),
                a.campaign,
                a.customer_id,
            ]
        )
    argv.append(orjson.dumps(items).decode())
    return script_keys, argv
