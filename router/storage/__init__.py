"""Redis plumbing shared by every adapter: key names, clients, the embedded server.

All key names and TTLs live in ``keys``; ``client`` builds the call-path and
admin clients; ``embedded`` runs the bundled server when no URL is configured;
``callback_stream`` keeps callback requests in a stream.
"""

__all__: list[str] = []
