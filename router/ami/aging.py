"""Starvation-guard timer: apply the policy's priority changes over AMI.

Asterisk reads ``QUEUE_PRIO`` once, at join. The routing policy owns the
rule (``router.policy.StarvationGuard.due_changes``: pure, given the
waiting callers and the time); this task only runs it every
``interval_s`` and sends, per change::

    Action: QueueChangePriorityCaller
    Queue: <queue>
    Caller: <channel>
    Priority: <priority>
    Immediate: yes

After ``Response: Success`` the new priority is stored in the live state,
so each step is sent once. A failed action (the caller left meanwhile) is
dropped, and nothing is sent while AMI is down: the next tick recomputes
from the resynced state.

Aging must never lower a priority, so it only acts on callers whose real
queue priority is known (``QUEUE_PRIO``/``TIERLINE_PRIO`` on the join, or a
``QueueEntry``). For the others, e.g. a caller the dialplan fallback queued
with ``QUEUE_PRIO=10`` and no TIERLINE_PRIO, it asks Asterisk
(``QueueStatus`` for that queue) and leaves them alone until the answer is in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from router.ami.listener import AMIListener
from router.errors import AMIError
from router.logs import get_logger
from router.types import WaitingCaller

__all__ = ["PriorityAger", "Rule"]

Rule = Callable[[Sequence[WaitingCaller], float], Iterable[Sequence[Any]]]
"""``(waiting callers, now) -> [(channel, queue, new_priority, ...), ...]``."""

_log = get_logger(__name__)


class PriorityAger:
    """Runs ``rule`` on a timer and sends its changes through ``listener``."""

    def __init__(
        self,
        listener: AMIListener,
        rule: Rule,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._listener = listener
        self._rule = rule
        self._interval = interval_s
        self._clock = clock

    async def run(self) -> None:
        """Tick forever (start it with ``listener.supervise("ami-aging", ager.run)``)."""
        while True:
            await asyncio.sleep(self._interval)
            if self._listener.connected:
                await self.tick()

    async def tick(self) -> int:
        """Send the changes due now; returns how many Asterisk accepted."""
        state = self._listener.state
        if state.priority_unknown:
            unknown = state.priority_unknown
            await self._ask_priorities(
                {w.queue for w in state.waiting_calls() if w.uniqueid in unknown}
            )
        # Read after the await: the answer may already have replaced the entries.
        waiting = [w for w in state.waiting_calls() if w.uniqueid not in state.priority_unknown]
        if not waiting:
            return 0
        sent = 0
        for change in self._rule(waiting, self._clock()):
            channel, queue, priority = str(change[0]), str(change[1]), int(change[2])
            if await self._send(channel, queue, priority):
                sent += 1
        return sent

    async def _ask_priorities(self, queues: Iterable[str]) -> None:
        """QueueStatus per queue: its QueueEntry events carry each caller's priority."""
        for queue in sorted(queues):
            try:
                await self._listener.action({"Action": "QueueStatus", "Queue": queue})
            except AMIError as exc:
                _log.info("ami_priority_query_failed", queue=queue, error=str(exc))

    async def _send(self, channel: str, queue: str, priority: int) -> bool:
        fields = {
            "Action": "QueueChangePriorityCaller",
            "Queue": queue,
            "Caller": channel,
            "Priority": str(priority),
            "Immediate": "yes",
        }
        try:
            await self._listener.action(fields)
        except AMIError as exc:
            _log.info("ami_priority_change_dropped", queue=queue, error=str(exc))
            return False
        live = self._listener.state.queues.get(queue)
        if live is not None:
            for uid, call in list(live.waiting.items()):
                if call.channel == channel:
                    live.waiting[uid] = replace(call, priority=priority)
        self._listener.mark_dirty(queue)
        return True
