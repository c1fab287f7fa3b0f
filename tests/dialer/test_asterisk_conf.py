"""The dialer's Asterisk files: linted like the rest, least privilege for originate."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.policy.conftest import CONF_DIR
from tests.policy.test_asterisk_conf import lint_messages

INCLUDE = '#include "extensions_outbound.conf"'


def with_include(tmp_path: Path, outbound: str | None = None) -> Path:
    main = tmp_path / "extensions.conf"
    main.write_text((CONF_DIR / "extensions.conf").read_text() + f"\n{INCLUDE}\n")
    text = outbound if outbound is not None else (CONF_DIR / "extensions_outbound.conf").read_text()
    (tmp_path / "extensions_outbound.conf").write_text(text)
    return main


class TestOutboundDialplan:
    def test_asterisklint_clean_when_included(self, tmp_path: Path) -> None:
        """extensions.conf plus the outbound contexts lint without a message."""
        messages, _ = lint_messages(with_include(tmp_path), dialplan=True)
        assert messages == []

    def test_lint_catches_a_broken_copy(self, tmp_path: Path) -> None:
        """The lint really reads the included file: a misspelt app is reported."""
        broken = (CONF_DIR / "extensions_outbound.conf").read_text().replace("Queue(", "Qeueu(")
        messages, _ = lint_messages(with_include(tmp_path, broken), dialplan=True)
        assert messages != []

    def test_contexts_match_the_dialer(self) -> None:
        """The contexts the Originate names exist, and values are filtered before use."""
        from router.dialer.originate import DialPlan

        text = (CONF_DIR / "extensions_outbound.conf").read_text()
        plan = DialPlan()
        for context in ("tierline-dial", plan.progressive_context, plan.preview_context):
            assert f"[{context}]" in text
        assert "${FILTER(-0-9A-Za-z_.,${TIERLINE_LANE})}" in text
        assert "Queue(${TL_QUEUE}" in text


class TestDialerManagerUser:
    def test_least_privilege(self, tmp_path: Path) -> None:
        """write=originate only; reads call, agent, cdr and dialplan; secret from a file."""
        shutil.copy(CONF_DIR / "manager_dialer.conf", tmp_path / "manager_dialer.conf")
        (tmp_path / "tierline-dialer-ami-secret.conf").write_text("secret=only-in-this-test\n")
        messages, sections = lint_messages(tmp_path / "manager_dialer.conf", dialplan=False)
        assert messages == []
        user = sections["tierline-dialer"]
        assert user["write"] == "originate"
        assert set(user["read"].split(",")) == {"call", "agent", "cdr", "dialplan"}
        assert user["deny"] == "0.0.0.0/0.0.0.0"
        assert user["secret"] == "only-in-this-test"
        text = (CONF_DIR / "manager_dialer.conf").read_text()
        assert not re.search(r"^\s*secret\s*=", text, re.MULTILINE)
