"""The round-trip budget of the call path, on the shipped flows and a real Redis: exact counts.

Counted from the environment to the route reaching Asterisk (the ``MSet``
with ``TIERLINE_QUEUE``) by ``benchmarks/round_trips.py``, which prints the
same table.
"""

from __future__ import annotations

from benchmarks.round_trips import measure

# sample path: (AGI commands before the route, Redis round trips and commands before it,
#               Redis round trips after it: the IVR path, through the ami store's capped index
#               in a redis-py pipeline, which checks its script first: SCRIPT EXISTS + EVALSHA)
EXPECTED = {
    # The goal: one AGI command (the route) and one Redis round trip (lookup and queue
    # snapshot pipelined) for a caller routed at once.
    "telecom, red-list caller routed at once": (["EXEC MSet"], 1, 2, 2),
    "no flow, known caller": (["EXEC MSet"], 1, 2, 0),
    "no flow, anonymous caller": (["EXEC MSet"], 1, 1, 0),
    # ANSWER only just before the first prompt; the set node's variables ride on the route.
    "telecom, black-list caller through one menu": (["ANSWER", "GET DATA", "EXEC MSet"], 1, 2, 2),
    # Gone before we read anything: no read at all.
    "caller gone with the environment": ([], 0, 0, 0),
    # NOSCRIPT after a Redis restart: the same pipeline again as EVAL.
    "red-list caller, Redis just restarted": (["EXEC MSet"], 2, 4, 3),
}


class TestRoundTripBudget:
    async def test_every_sample_path_keeps_its_budget(self, redis_url: str) -> None:
        """Each sample path's exact AGI and Redis round trips before and after the route."""
        counted = await measure(redis_url)
        got = {
            name: (b.agi, b.redis_round_trips, b.redis_commands, b.after_route_redis_round_trips)
            for name, b in counted.items()
        }
        assert got == EXPECTED
