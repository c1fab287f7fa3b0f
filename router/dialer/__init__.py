"""The outbound dialer: callbacks and campaigns dialled through AMI Originate.

Pure core (no I/O): ``model`` (campaigns, contacts, results), ``rules`` (the
contact rules that protect customers), ``retry`` (when to try again),
``pacing`` (how many agents outbound may take without hurting inbound),
``tracker`` (an Originate followed through its AMI events), ``agents``
(queue members free or busy), ``rows`` and ``config`` (operator files).
Adapters: ``store`` (Redis state and the atomic rule check in Lua),
``link`` (the dialer's own AMI connection), ``callbacks`` (the callback
stream consumer), ``service`` (the dialling loop), ``report``.
"""

__all__: list[str] = []
