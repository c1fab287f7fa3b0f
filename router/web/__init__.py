"""What supervisors see: the wallboard, alerts, ``/metrics`` and health checks.

The web process only reads the live state the AMI listener keeps in Redis
(and the calls stream); it never sits on the call path, so a slow browser or
a stuck page cannot slow a routing decision. ``config`` and ``alerts`` and
``board`` are pure; ``source`` reads Redis; ``app`` is the Starlette edge.
"""

__all__: list[str] = []
