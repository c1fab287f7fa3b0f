"""The atomic contact-rule check: one Lua script for a whole batch (adapter).

One EVALSHA decides every history rule for each contact of a batch and,
for each that passes, records the attempt, so a check and its write can
never be split by another dialer: two processes racing for one customer
get one ``ok`` and one ``in_flight``. A batch of one is the single claim;
a batch of a thousand costs one round trip, under one per decision.

Why the script is shaped as it is (it was half the cost of a decision):
each ``redis.call`` from Lua costs more than the work it does, so the
batch-wide facts are read once (one ``SMISMEMBER`` for every number on the
DNC list, one ``ZMSCORE`` per due slot) and the due-set writes are made
once per slot at the end; everything one customer's rules need lives in
one hash (:func:`router.storage.keys.dialer_who_key`), read with one
``HMGET`` and written with one ``HSET``. The per-contact values travel as
one JSON argument (``cjson``), and due keys are declared once per slot.

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
    "RELEASE_LUA",
    "UNCLAIM_LUA",
    "ClaimArgs",
    "claim_batch",
    "unclaim_call",
]

CLAIM_LUA = """
local now, nows = tonumber(ARGV[1]), ARGV[1]
local dayw, perday = tonumber(ARGV[2]), tonumber(ARGV[3])
local mktw, mktmax = tonumber(ARGV[4]), tonumber(ARGV[5])
local campmax, lockttl, histttl = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local nslots = tonumber(ARGV[10])
local items = cjson.decode(ARGV[11])
local base = 2 + nslots

local function mcall(cmd, key, list)  -- a call per 1000 items (Lua's unpack limit; even)
  local out = {}
  for i = 1, #list, 1000 do
    local part = redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    if type(part) == 'table' then
      for _, v in ipairs(part) do out[#out + 1] = v end
    end
  end
  return out
end

local numbers, byslot = {}, {}
for i, c in ipairs(items) do
  numbers[i] = c[2]
  local s = byslot[c[3]]
  if not s then s = {}; byslot[c[3]] = s end
  s[#s + 1] = i
end
local dnc = mcall('SMISMEMBER', KEYS[1], numbers)
local present, zrem, zadd = {}, {}, {}
for slot, idx in pairs(byslot) do
  local ids = {}
  for j, i in ipairs(idx) do ids[j] = items[i][1] end
  local scores = mcall('ZMSCORE', KEYS[2 + slot], ids)
  for j, i in ipairs(idx) do present[i] = scores[j] end
  zrem[slot], zadd[slot] = {}, {}
end

local function times(text)  -- kept attempt times: strings as written, ascending
  local out = {}
  if text then
    for t in string.gmatch(text, '%S+') do
      if tonumber(t) > now - histttl then out[#out + 1] = t end
    end
  end
  table.sort(out, function(a, b) return tonumber(a) < tonumber(b) end)
  return out
end

local function cap(list, window, max)  -- when the cap lifts, or nil when it does not hold
  local recent = {}
  for _, t in ipairs(list) do
    if tonumber(t) >= now - window then recent[#recent + 1] = tonumber(t) end
  end
  if #recent >= max then return recent[#recent - max + 1] + window end
  return nil
end

local function later(c, at)
  local z = zadd[c[3]]
  z[#z + 1] = at
  z[#z + 1] = c[1]
  return at
end

local function drop(c) zrem[c[3]][#zrem[c[3]] + 1] = c[1] end

local function record(who, c, h, hist, camp)
  drop(c)
  hist[#hist + 1] = nows
  local fields = {'lock', c[4], 'lock_at', nows, 'hist', table.concat(hist, ' '), camp,
    tostring(tonumber(h[5] or '0') + 1)}
  if c[5] == 1 then
    local mkt = times(h[4])
    mkt[#mkt + 1] = nows
    fields[#fields + 1] = 'mkt'
    fields[#fields + 1] = table.concat(mkt, ' ')
  end
  redis.call('HSET', who, unpack(fields))
  redis.call('EXPIRE', who, histttl)
  return 'ok', 0
end

local seen = {}
local function claim(i, c)
  if not present[i] or seen[c[1]] then return 'taken', 0 end
  seen[c[1]] = true
  local exempt = c[6] == 1
  if not exempt and dnc[i] == 1 then drop(c); return 'dnc', 0 end
  local who, camp = KEYS[base + 2 * i - 1], 'n:' .. c[7]
  local h = redis.call('HMGET', who, 'lock', 'lock_at', 'hist', 'mkt', camp)
  if h[1] and tonumber(h[2] or '0') + lockttl > now then return 'in_flight', later(c, now + 60) end
  local hist = times(h[3])
  if not exempt then
    if tonumber(h[5] or '0') >= campmax then drop(c); return 'campaign_attempts', 0 end
    local t = cap(hist, dayw, perday)
    if t then return 'per_day', later(c, t) end
    if c[5] == 1 then
      t = cap(times(h[4]), mktw, mktmax)
      if t then return 'marketing_cap', later(c, t) end
    end
  end
  return record(who, c, h, hist, camp)
end

local out = {}
for i, c in ipairs(items) do
  local verdict, at = claim(i, c)
  if verdict ~= 'ok' and verdict ~= 'taken' then
    local final = '0'
    if verdict == 'dnc' or verdict == 'campaign_attempts' then
      final = '1'
      redis.call('HSET', KEYS[base + 2 * i], 'state', 'refused', 'refusal', verdict)
    end
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[9], '*', 'campaign', c[7],
      'contact', c[1], 'customer', c[8], 'reason', verdict, 'final', final, 'at', nows)
  end
  out[#out + 1] = verdict
  out[#out + 1] = tostring(at)
end
for slot, ids in pairs(zrem) do
  if #ids > 0 then mcall('ZREM', KEYS[2 + slot], ids) end
  if #zadd[slot] > 0 then mcall('ZADD', KEYS[2 + slot], zadd[slot]) end
end
return out
"""

RELEASE_LUA = """
if redis.call('HGET', KEYS[1], 'lock') == ARGV[1] then
  return redis.call('HDEL', KEYS[1], 'lock', 'lock_at')
end
return 0
"""
"""Free a customer's lock only if it is still this attempt's (KEYS who; ARGV attempt id)."""

UNCLAIM_LUA = """
local h = redis.call('HMGET', KEYS[2], 'lock', 'hist', 'mkt', 'n:' .. ARGV[2])
if h[1] == ARGV[3] then redis.call('HDEL', KEYS[2], 'lock', 'lock_at') end
local function without(text)
  local out, gone = {}, false
  for t in string.gmatch(text or '', '%S+') do
    if t == ARGV[4] and not gone then gone = true else out[#out + 1] = t end
  end
  return table.concat(out, ' ')
end
redis.call('HSET', KEYS[2], 'hist', without(h[2]), 'mkt', without(h[3]))
local n = tonumber(h[4] or '0') - 1
if n <= 0 then redis.call('HDEL', KEYS[2], 'n:' .. ARGV[2])
else redis.call('HSET', KEYS[2], 'n:' .. ARGV[2], n) end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
return 1
"""
"""Undo a claim whose Originate was never written (the AMI link was down):
the attempt leaves the history and counters and the contact is due again.
KEYS due slot, who; ARGV contact id, campaign, attempt id, claim time, due."""


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


def claim_batch(
    batch: Sequence[ClaimArgs], limits: ContactLimits, now: float
) -> tuple[list[str], list[str | int | float]]:
    """KEYS and ARGV of the claim script for a batch decided at ``now``."""
    slots: dict[str, int] = {}
    for a in batch:
        slots.setdefault(a.slot, len(slots) + 1)
    script_keys = [keys.DNC, keys.DIALER_REFUSALS_STREAM]
    script_keys += [keys.dialer_due_key(s) for s in slots]
    who_key, contact_key = keys.dialer_who_key, keys.dialer_contact_key
    items = []
    for a in batch:
        script_keys.append(who_key(a.who))
        script_keys.append(contact_key(a.contact_id))
        items.append(
            (
                a.contact_id,
                a.number,
                slots[a.slot],
                a.attempt_id,
                int(a.marketing),
                int(a.exempt),
                a.campaign,
                a.customer_id,
            )
        )
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
        len(slots),
        orjson.dumps(items).decode(),
    ]
    return script_keys, argv


def unclaim_call(args: ClaimArgs) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of the unclaim script for one claim (``repr(now)`` as the claim wrote it)."""
    return (
        [keys.dialer_due_key(args.slot), keys.dialer_who_key(args.who)],
        [args.contact_id, args.campaign, args.attempt_id, repr(args.now), repr(args.now)],
    )
