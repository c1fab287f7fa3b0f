"""A fake Asterisk that answers each Originate by replaying a real capture.

``routes`` maps the dial string the dialer sends (``Local/<number>@callee``)
to a capture segment; the segment is replayed with only the ActionID and
the client's ChannelId/OtherChannelId substituted (see ``captures``).
``hold`` lets a test stop the replay after the ack (the call then stays in
flight) to cut the link mid-call.
"""

from __future__ import annotations

from tests.ami.fake_ami import FakeAMI
from tests.dialer.captures import Segment, as_sent_to


class ReplayAMI(FakeAMI):
    def __init__(self, routes: dict[str, Segment], secret: str = "s3cret") -> None:
        super().__init__(secret)
        self.routes = routes
        self.hold = False

    def originates(self) -> list[dict[str, str]]:
        return [a for a in self.actions if a.get("Action") == "Originate"]

    def _reply(self, action: dict[str, str]) -> bytes:
        if action.get("Action") != "Originate":
            return super()._reply(action)
        seg = self.routes.get(action.get("Channel", ""))
        if seg is None:
            return (
                f"Response: Error\r\nActionID: {action.get('ActionID', '')}\r\n"
                "Message: Invalid channel\r\n\r\n"
            ).encode()
        data = as_sent_to(seg, action)
        if self.hold:
            return data[: data.index(b"\r\n\r\n") + 4]
        return data
