"""Tiered, queue-aware routing policy: pure, configured by one YAML file.

``load_routing(path)`` gives a frozen :class:`RoutingConfig`;
``TieredPolicy(config)`` implements ``router.types.RoutingPolicy``;
``policy.guard`` is the starvation guard the AMI listener applies on a timer;
``render_queues_conf(config)`` is the queues.conf ``tierline asterisk-conf``
writes, so lanes and dialplan come from the same file.
"""

from __future__ import annotations

from router.policy.aging import PriorityChange, StarvationGuard, WaitingCaller
from router.policy.config import RoutingConfig, load_routing, parse_routing
from router.policy.policy import TieredPolicy, load_policy
from router.policy.queues_conf import render_queues_conf

__all__ = [
    "PriorityChange",
    "RoutingConfig",
    "StarvationGuard",
    "TieredPolicy",
    "WaitingCaller",
    "load_policy",
    "load_routing",
    "parse_routing",
    "render_queues_conf",
]
