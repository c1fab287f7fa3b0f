"""Shared builders for dialer tests."""

from __future__ import annotations

from router.dialer.config import DialerConfig, parse_config

ALWAYS = '{timezone: UTC, weekly: {mon-sun: "00:00-24:00"}}'

CONFIG = f"""
limits: {{per_day: 1, marketing_max: 1, campaign_attempts: 3, manager_lanes: {{alice: vip_desk}}}}
dial: {{customer_channel: "Local/{{number}}@callee", timeout_s: 30}}
callbacks:
  lane: outbound_q
  lanes: {{billing: outbound_q}}
  hours: {ALWAYS}
pacing:
  outbound_q:
    guards: [{{queue: vip, max_waiting: 0, max_longest_wait_s: 10, max_ewt_s: 20}}]
campaigns:
  promo:
    kind: telemarketing
    lane: outbound_q
    hours: {ALWAYS}
    retry: {{busy: {{count: 2, gap_minutes: 1}}, no_answer: {{count: 1, gap_minutes: 1}}}}
    max_attempts: 3
  remind:
    kind: payment_reminder
    lane: outbound_q
    hours: {ALWAYS}
    retry: {{busy: {{count: 2, gap_minutes: 1}}}}
"""


def config(text: str = CONFIG) -> DialerConfig:
    return parse_config(text, "dialer.yaml")
