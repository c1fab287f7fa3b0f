"""Every Redis key name and TTL Tierline uses.

Key families that one Lua script or MULTI touches share a hash tag
(``{c}``, ``{q}``), so each family lands on one Redis Cluster slot and the
scripts stay cluster-safe. The number index and the customer hashes share
``{c}`` because the lookup script reads both in one round trip.
"""

from __future__ import annotations

__all__ = [
    "AMI_LEADER_TTL_S",
    "CALLBACKS",
    "CALLERS_KEY_PREFIX",
    "CALLS_STREAM",
    "CALLS_STREAM_MAXLEN",
    "CUSTOMER_IDS",
    "CUSTOMER_ROOT",
    "CUSTOMER_VERSION",
    "DIALER_ATTEMPTS_STREAM",
    "DIALER_CALLBACK_GROUP",
    "DIALER_CAMPAIGNS",
    "DIALER_DUE_INDEX",
    "DIALER_HISTORY_TTL_S",
    "DIALER_INFLIGHT_TTL_S",
    "DIALER_PREFIX",
    "DIALER_REFUSALS_STREAM",
    "DIALER_STREAM_MAXLEN",
    "DNC",
    "FACTOR_LOCK_S",
    "FLOW_RECORDS_MAXLEN",
    "IMPORT_LEASE",
    "IMPORT_LEASE_TTL_MS",
    "IMPORT_LIVE",
    "IMPORT_STATE",
    "IVR_PATH_CAP",
    "IVR_PATH_INDEX",
    "IVR_PATH_TTL_S",
    "MASKED_SINCE",
    "OFFERS_STREAM",
    "QUEUE_INDEX",
    "QUEUE_KEY_PREFIX",
    "SURVEYS_STREAM",
    "WRITTEN_BUCKET_S",
    "ami_leader_key",
    "callback_key",
    "callers_key",
    "customer_key",
    "dialer_campaign_contacts_key",
    "dialer_contact_key",
    "dialer_due_key",
    "dialer_who_key",
    "factor_failures_key",
    "import_prefix",
    "ivr_path_key",
    "number_key",
    "queue_callers_key",
    "queue_key",
    "written_key",
]

PREFIX = "tl"

# Customer family: {c}
CUSTOMER_ROOT = f"{PREFIX}:{{c}}:"  # every customer-family key starts with this
CUSTOMER_IDS = f"{CUSTOMER_ROOT}ids"  # SET of every customer_id (export, counts)
CUSTOMER_VERSION = f"{CUSTOMER_ROOT}version"  # INCR by every write a reader can see

# A bulk import is staged under ``import_prefix(id)`` (the same keys below
# CUSTOMER_ROOT, e.g. ``tl:{c}:imp:<id>:num:<n>``), then published by
# setting IMPORT_LIVE to that prefix: lookups read the staged keys first
# until the importer has renamed them all onto the live ones.
IMPORT_STATE = f"{CUSTOMER_ROOT}import"  # HASH id, state (staging | published)
IMPORT_LEASE = f"{CUSTOMER_ROOT}import:lease"  # STRING id of the running importer
IMPORT_LEASE_TTL_MS = 30_000  # a killed importer's lease lapses after this
IMPORT_LIVE = f"{CUSTOMER_ROOT}import:live"  # STRING prefix of a published import


def import_prefix(import_id: str) -> str:
    """Where an import stages its keys before it is published."""
    return f"{CUSTOMER_ROOT}imp:{import_id}:"


def customer_key(customer_id: str) -> str:
    """HASH with the customer's fields; ``phones`` and ``offers`` are ';'-joined."""
    return f"{PREFIX}:{{c}}:cust:{customer_id}"


def number_key(normalised: str) -> str:
    """STRING: customer_id owning this normalised number."""
    return f"{PREFIX}:{{c}}:num:{normalised}"


# Live queue family: {q}
QUEUE_INDEX = f"{PREFIX}:{{q}}:queues"  # SET of known queue names
QUEUE_STATE_TTL_S = 24 * 3600  # state not refreshed for a day is stale
QUEUE_KEY_PREFIX = f"{PREFIX}:{{q}}:queue:"  # the snapshot script appends the queue name


def queue_key(queue: str) -> str:
    """HASH: agents_logged_in, agents_available, agents_paused, ewt, ..."""
    return f"{QUEUE_KEY_PREFIX}{queue}"


def queue_callers_key(queue: str) -> str:
    """HASH uniqueid -> JSON {tier, joined_at, priority} of waiting callers."""
    return f"{PREFIX}:{{q}}:waiting:{queue}"


# Call records and callbacks
CALLS_STREAM = f"{PREFIX}:calls"
CALLS_STREAM_MAXLEN = 5_000_000  # approximate trimming keeps ~months of a busy centre
CALLBACKS = f"{PREFIX}:callbacks"  # STREAM of callback requests (durable, ordered)


# IVR offers and surveys (router.flows.records): one entry per offer presented or
# accepted (a conversion) and per survey answer; the report reads them back.
OFFERS_STREAM = f"{PREFIX}:offers"
SURVEYS_STREAM = f"{PREFIX}:surveys"
FLOW_RECORDS_MAXLEN = 2_000_000


def callback_key(request_id: str) -> str:
    return f"{PREFIX}:callback:{request_id}"


# The calls family: everything the AMI writer's one script touches lives in
# the slot of CALLS_STREAM itself (hash tag "{tl:calls}" hashes like the key
# "tl:calls"), so the script stays cluster-safe without renaming the stream.
_CALLS_TAG = f"{{{CALLS_STREAM}}}"

# IVR paths reported by the router before the call's hangup. Bounded twice:
# a TTL of the longest call we expect (queue wait + talk), and a cap on how
# many wait at once (oldest evicted first), so paths that no listener
# consumes cannot pile up (~730 bytes each).
IVR_PATH_TTL_S = 2 * 3600
IVR_PATH_CAP = 150_000  # ~145 MB at most (~950 B per path with its index entry)
IVR_PATH_INDEX = f"{_CALLS_TAG}:ivrpaths"  # ZSET path key -> time written


def ivr_path_key(uniqueid: str) -> str:
    """STRING: IVR path JSON the router reported for a call still in progress."""
    return f"{_CALLS_TAG}:ivrpath:{uniqueid}"


# Full calling numbers: the stream keeps them masked; HASH per UTC day of the
# record, stream id -> number, expiring with the records' retention.
CALLERS_KEY_PREFIX = f"{_CALLS_TAG}:callers:"
MASKED_SINCE = f"{_CALLS_TAG}:masked_since"  # first stream id written with a masked caller


def callers_key(day: str) -> str:
    """HASH stream id -> full calling number of the records of ``day`` (YYYYMMDD, UTC)."""
    return f"{CALLERS_KEY_PREFIX}{day}"


WRITTEN_BUCKET_S = 600  # a retry within 10-20 min of a lost reply is recognised


def written_key(bucket: int) -> str:
    """HASH uniqueid -> 1 for the records written in 10-minute ``bucket`` (kept 20 min).

    Makes the writer's retries idempotent: a batch Redis ran after the writer
    gave up waiting for it (write timeout) is not written twice.
    """
    return f"{_CALLS_TAG}:written:{bucket}"


# AMI listener election (one listener per Asterisk site)
AMI_LEADER_TTL_S = 15.0  # a dead leader is replaced within this


def ami_leader_key(site: str) -> str:
    """STRING: token of the router whose AMI listener serves ``site``."""
    return f"{PREFIX}:ami:leader:{site}"


# Outbound dialer ({d}: every key one dialer Lua script touches shares this tag)
DIALER_PREFIX = f"{PREFIX}:{{d}}:"  # scripts build per-customer keys from this prefix
DNC = f"{PREFIX}:{{d}}:dnc"  # SET of normalised numbers never to be called
DIALER_CAMPAIGNS = f"{PREFIX}:{{d}}:campaigns"  # HASH campaign -> state (running, paused, ...)
DIALER_ATTEMPTS_STREAM = f"{PREFIX}:{{d}}:attempts"  # STREAM: one entry per attempt outcome
DIALER_REFUSALS_STREAM = f"{PREFIX}:{{d}}:refusals"  # STREAM: every refusal, with its reason
DIALER_STREAM_MAXLEN = 1_000_000
DIALER_CALLBACK_GROUP = "dialer"  # consumer group on CALLBACKS
DIALER_INFLIGHT_TTL_S = 2 * 3600  # an in-flight lock outlives any call; a crash frees it
DIALER_HISTORY_TTL_S = 40 * 24 * 3600  # contact history kept beyond the longest cap window


def dialer_due_key(slot: str) -> str:
    """ZSET contact id -> due epoch second, one per ``campaign|lane|priority``."""
    return f"{DIALER_PREFIX}due:{slot}"


def dialer_contact_key(contact_id: str) -> str:
    """HASH of one contact: campaign, customer, number, attempts, state, JSON fields."""
    return f"{DIALER_PREFIX}contact:{contact_id}"


def dialer_campaign_contacts_key(campaign: str) -> str:
    """SET of the contact ids of one campaign (status, stop)."""
    return f"{DIALER_PREFIX}cc:{campaign}"


def dialer_who_key(who: str) -> str:
    """HASH of one customer (else number) across campaigns: the in-flight lock
    (``lock``, ``lock_at``), attempt times (``hist``, ``mkt``: space-separated
    epoch seconds) and attempts per campaign (``n:<campaign>``). One hash, so
    the claim script reads every history rule with one HMGET."""
    return f"{DIALER_PREFIX}who:{who}"


DIALER_DUE_INDEX = f"{PREFIX}:{{d}}:dueidx"  # SET of 'campaign|lane|prio' with a due ZSET


# Second-factor guessing guard (router.customers.factor_check): one counter per account.
FACTOR_LOCK_S = 15 * 60  # failures are forgotten this long after the last one


def factor_failures_key(customer_id: str) -> str:
    """STRING: failed second-factor attempts on one account (expires FACTOR_LOCK_S after)."""
    return f"{PREFIX}:factorfail:{customer_id}"
