"""asterisk_conf/: generated queues.conf in step, dialplan and AMI config checked.

extensions.conf is checked with asterisklint's dialplan checker (the same
checks ``asterisklint dialplan-check`` runs). asterisklint has no checker for
queues.conf or manager.conf, so those are parsed with its config parser and
checked by the strict rules below.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
from pathlib import Path

import pytest
from asterisklint import FileConfigParser, FileDialplanParser
from asterisklint.defines import MessageDefManager
from click.testing import CliRunner

from router.cli import cli
from router.policy import RoutingConfig, render_queues_conf
from tests.policy.conftest import CONF_DIR, ROOT, ROUTING

QUEUE_KEYS = {
    "strategy", "timeout", "retry", "weight", "wrapuptime", "maxlen", "servicelevel",
    "ringinuse", "setinterfacevar", "setqueuevar", "setqueueentryvar", "musicclass",
    "joinempty", "leavewhenempty",
}  # fmt: skip
GENERAL_KEYS = {"persistentmembers", "autofill", "shared_lastcall", "log_membername_as_agent"}


def lint_messages(path: Path, dialplan: bool) -> tuple[list[str], dict[str, dict[str, str]]]:
    """asterisklint messages for ``path`` and its sections as dicts."""
    MessageDefManager.reset()
    parser = FileDialplanParser() if dialplan else FileConfigParser()
    parser.include(str(path))
    sections: dict[str, dict[str, str]] = {}
    for item in parser:
        if dialplan:
            item.walk_jump_destinations()
        else:
            sections[item.name] = {v.variable: v.value for v in item}
    messages = [name for name, found in MessageDefManager.raised.items() if found]
    MessageDefManager.reset()
    return messages, sections


class TestQueuesConf:
    def test_committed_file_matches_generator(self, shipped: RoutingConfig) -> None:
        """asterisk_conf/queues.conf is exactly what the routing file generates."""
        assert (CONF_DIR / "queues.conf").read_text() == render_queues_conf(shipped)

    def test_cli_writes_and_checks(self, tmp_path: Path) -> None:
        """`tierline asterisk-conf` writes queues.conf and --check accepts it."""
        runner = CliRunner()
        args = ["asterisk-conf", "--routing", str(ROUTING), "--out", str(tmp_path)]
        assert runner.invoke(cli, args).exit_code == 0
        assert runner.invoke(cli, [*args, "--check"]).exit_code == 0
        (tmp_path / "queues.conf").write_text("; edited by hand\n")
        result = runner.invoke(cli, [*args, "--check"])
        assert result.exit_code == 1
        assert "out of date" in result.output

    def test_cli_reports_bad_routing_file(self, tmp_path: Path) -> None:
        """A bad routing file prints file:line problems and exits 2, writing nothing."""
        bad = tmp_path / "routing.yaml"
        bad.write_text(ROUTING.read_text().replace("default_queue: support", "default_queue: x"))
        result = CliRunner().invoke(cli, ["asterisk-conf", "--routing", str(bad), "--out",
                                          str(tmp_path)])  # fmt: skip
        assert result.exit_code == 2
        assert f"{bad}:" in result.output
        assert "unknown queue 'x'" in result.output
        assert not (tmp_path / "queues.conf").exists()

    def test_parses_cleanly_with_known_keys(self, shipped: RoutingConfig) -> None:
        """queues.conf parses without asterisklint messages; one section per lane."""
        messages, sections = lint_messages(CONF_DIR / "queues.conf", dialplan=False)
        assert messages == []
        assert list(sections) == ["general", *shipped.queues]
        assert set(sections["general"]) <= GENERAL_KEYS
        for name in shipped.queues:
            assert set(sections[name]) <= QUEUE_KEYS, name
            assert sections[name]["strategy"] == shipped.queues[name].strategy


class TestExtensionsConf:
    def test_asterisklint_clean(self) -> None:
        """asterisklint dialplan-check finds nothing in extensions.conf."""
        messages, _ = lint_messages(CONF_DIR / "extensions.conf", dialplan=True)
        assert messages == []

    def test_asterisklint_catches_a_broken_copy(self, tmp_path: Path) -> None:
        """The lint really runs: a misspelt app and a dangling Goto are reported."""
        text = (CONF_DIR / "extensions.conf").read_text()
        broken = text.replace("Queue(${TL_QUEUE}", "Qeueu(${TL_QUEUE}").replace(
            "?fallback,1)", "?nowhere,1)"
        )
        (tmp_path / "extensions.conf").write_text(broken)
        messages, _ = lint_messages(tmp_path / "extensions.conf", dialplan=True)
        assert "E_APP_MISSING" in messages
        assert "W_DP_GOTO_CONTEXT_NOEXTEN" in messages

    def test_fallback_tests_route_variable_not_agistatus(self) -> None:
        """No route = empty TIERLINE_QUEUE; AGISTATUS never decides a branch."""
        text = (CONF_DIR / "extensions.conf").read_text()
        code = [line.split(";")[0] for line in text.splitlines()]
        branches = [line for line in code if "GotoIf" in line or "ExecIf" in line]
        assert not [line for line in branches if "AGISTATUS" in line]
        assert any('"${TIERLINE_QUEUE}" = ""]?fallback' in line for line in branches)

    def test_agi_then_queue_with_priority(self) -> None:
        """The router is called by AGI, QUEUE_PRIO comes from TIERLINE_PRIO, then Queue()."""
        text = (CONF_DIR / "extensions.conf").read_text()
        assert "TIERLINE_AGI=agi://127.0.0.1:4573/inbound" in text
        assert "hagi://" in text
        agi = text.index("AGI(${TIERLINE_AGI},${TIERLINE_DNIS})")
        prio = text.index("Set(QUEUE_PRIO=${FILTER(0-9,${TIERLINE_PRIO})})")
        assert agi < prio < text.index("Queue(${TL_QUEUE},")

    def test_default_queue_in_step_with_routing(self, shipped: RoutingConfig) -> None:
        """The dialplan's fallback queue is the routing file's default_queue, at its priority."""
        text = (CONF_DIR / "extensions.conf").read_text()
        assert f"TIERLINE_DEFAULT_QUEUE={shipped.default_queue}\n" in text
        lowest = shipped.priorities[shipped.tiers[-1]]
        assert f"TIERLINE_DEFAULT_PRIO={lowest}\n" in text

    def test_router_variables_documented(self) -> None:
        """Every TIERLINE_ variable the dialplan reads is defined in docs/routing.md."""
        text = (CONF_DIR / "extensions.conf").read_text()
        docs = (ROOT / "docs" / "routing.md").read_text()
        used = set(re.findall(r"\$\{(TIERLINE_[A-Z_]+)\}", text)) - set(
            re.findall(r"^(TIERLINE_[A-Z_]+)=", text, re.MULTILINE)
        )
        assert used >= {"TIERLINE_QUEUE", "TIERLINE_PRIO", "TIERLINE_ACTION", "TIERLINE_TARGET"}
        for name in used | {"TIERLINE_CUSTOMER", "TIERLINE_TIER", "TIERLINE_LIST",
                            "TIERLINE_LIFECYCLE", "TIERLINE_OFFERS"}:  # fmt: skip
            assert f"`{name}`" in docs, name


def asterisk_filter(allowed: str, value: str) -> str:
    """FILTER(allowed,value) as func_strings.c reads ``allowed``: ``a-b`` ranges, else literal."""
    keep: set[str] = set()
    i = 0
    while i < len(allowed):
        if i + 2 < len(allowed) and allowed[i + 1] == "-":
            keep |= {chr(c) for c in range(ord(allowed[i]), ord(allowed[i + 2]) + 1)}
            i += 3
        else:
            keep.add(allowed[i])
            i += 1
    return "".join(c for c in value if c in keep)


def filter_of(variable: str, target: str) -> str:
    """The FILTER() character list the dialplan applies to ``${variable}`` into ``target``."""
    text = (CONF_DIR / "extensions.conf").read_text()
    found = re.search(rf"Set\({target}=\$\{{FILTER\(([^,]*),\$\{{{variable}\}}\)\}}\)", text)
    assert found, (variable, target)
    return found.group(1)


INJECTION = [",", "(", ")", "$", "{", "}", "|", "&", ";", '"', "'", "\n", "\r", " ", "`"]


class TestDialplanFilters:
    def test_transfer_to_extension_at_context_survives(self) -> None:
        """8000@electronics, +8613800138000 and *72#1 pass the transfer filter unchanged."""
        allowed = filter_of("TIERLINE_TARGET", "TL_TARGET")
        for target in ("8000@electronics", "8000@sales-east_2", "+8613800138000", "*72#1"):
            assert asterisk_filter(allowed, target) == target

    def test_transfer_filter_drops_dialplan_syntax(self) -> None:
        """No character that could add arguments or expressions survives the filter."""
        allowed = filter_of("TIERLINE_TARGET", "TL_TARGET")
        assert [c for c in INJECTION if asterisk_filter(allowed, c)] == []
        assert asterisk_filter(allowed, "8000,,tT(x)${EVIL}") == "8000tTxEVIL"

    def test_filtered_values_are_refused_not_mangled(self) -> None:
        """A target that lost characters goes to the fallback instead of being dialled."""
        text = (CONF_DIR / "extensions.conf").read_text()
        assert "${LEN(${TL_TARGET})} != ${LEN(${TIERLINE_TARGET})}]?fallback,1)" in text
        assert "Dial(Local/${TL_TARGET},${TL_RING})" in text  # extension@context
        assert "Dial(PJSIP/${TL_TARGET}@${TIERLINE_TRUNK},${TL_RING})" in text  # a number

    def test_ring_time_is_digits_only(self) -> None:
        """TIERLINE_DIALTIME keeps digits only, so it can add no Dial() option."""
        allowed = filter_of("TIERLINE_DIALTIME", "TL_RING")
        assert asterisk_filter(allowed, "20") == "20"
        assert [c for c in [*INJECTION, "t", "T", "g"] if asterisk_filter(allowed, c)] == []

    def test_resume_after_failed_dial(self) -> None:
        """BUSY, NOANSWER, CHANUNAVAIL and CONGESTION after a transfer resume the flow."""
        from router.flows.people import DIAL_RESUME_STATUSES

        text = (CONF_DIR / "extensions.conf").read_text()
        assert {"BUSY", "NOANSWER", "CHANUNAVAIL", "CONGESTION"} == DIAL_RESUME_STATUSES
        for status in DIAL_RESUME_STATUSES:
            assert f'$["${{DIALSTATUS}}" = "{status}"]?resume,1)' in text
        assert text.count("Goto(dialled,1)") == 2  # after both Dial() forms

    def test_resume_token_survives_and_nothing_else(self) -> None:
        """The router's resume token passes the filter; dialplan syntax does not."""
        allowed = filter_of("TIERLINE_RESUME", "TL_RESUME")
        token = "0123456789ab.1.tele-com_2.vip_lane"
        assert asterisk_filter(allowed, token) == token
        assert [c for c in [*INJECTION, "?", "=", "/", "@"] if asterisk_filter(allowed, c)] == []

    def test_resume_after_queue_gives_up(self) -> None:
        """TIMEOUT, FULL, LEAVEEMPTY and JOINEMPTY resume the flow; the AGI carries the token."""
        from router.flows.resume import RESUME_STATUSES

        text = (CONF_DIR / "extensions.conf").read_text()
        for status in RESUME_STATUSES:
            assert f'$["${{QUEUESTATUS}}" = "{status}"]?resume,1)' in text
        assert "AGI(${TIERLINE_AGI}?resume=${TL_RESUME},${TIERLINE_DNIS})" in text

    def test_dialled_number_reaches_the_router(self) -> None:
        """Both DID patterns pass ${EXTEN} into tierline-route, which hands it to the AGI."""
        text = (CONF_DIR / "extensions.conf").read_text()
        inbound = text[text.index("[tierline-inbound]") : text.index("[tierline-route]")]
        for pattern in ("_X.", "_+X."):
            start = inbound.index(f"exten => {pattern},1,")
            body = inbound[start : inbound.index("Hangup()", start)]
            assert "Gosub(tierline-route,s,1(${EXTEN}))" in body, pattern
        route = text[text.index("[tierline-route]") :]
        assert route.index("Set(TIERLINE_DNIS=") < route.index(
            "AGI(${TIERLINE_AGI},${TIERLINE_DNIS})"
        )

    def test_dialled_number_filter(self) -> None:
        """A DID with or without + passes unchanged; dialplan syntax does not pass at all."""
        allowed = filter_of("ARG1", "TIERLINE_DNIS")
        for number in ("4008202020", "+4008202020", "+864008202020"):
            assert asterisk_filter(allowed, number) == number
        assert [
            c for c in [*INJECTION, "?", "=", "/", "@", "-"] if asterisk_filter(allowed, c)
        ] == []
        text = (CONF_DIR / "extensions.conf").read_text()
        assert "$[${LEN(${TIERLINE_DNIS})} = ${LEN(${ARG1})}]?${TIERLINE_DNIS}:)" in text


class TestManagerConf:
    @pytest.fixture
    def sections(self, tmp_path: Path) -> dict[str, dict[str, str]]:
        shutil.copy(CONF_DIR / "manager.conf", tmp_path / "manager.conf")
        (tmp_path / "tierline-ami-secret.conf").write_text("secret=only-in-this-test\n")
        messages, found = lint_messages(tmp_path / "manager.conf", dialplan=False)
        assert messages == []
        return found

    def test_secret_comes_from_include(self, sections: dict[str, dict[str, str]]) -> None:
        """The AMI secret is read from the included file, never written in the repo."""
        assert sections["tierline"]["secret"] == "only-in-this-test"
        repo_text = (CONF_DIR / "manager.conf").read_text()
        assert not re.search(r"^\s*secret\s*=", repo_text, re.MULTILINE)

    def test_missing_secret_file_is_reported(self) -> None:
        """Without the secret file the include is flagged (Asterisk refuses to load)."""
        messages, _ = lint_messages(CONF_DIR / "manager.conf", dialplan=False)
        assert messages == ["W_PP_INCLUDE_MISSING"]

    def test_least_privilege(self, sections: dict[str, dict[str, str]]) -> None:
        """Read call,agent only; no write class (the actions we send need none)."""
        user = sections["tierline"]
        assert user["read"] == "call,agent"
        assert user["write"] == ""
        assert user["deny"] == "0.0.0.0/0.0.0.0"
        assert ipaddress.ip_network(user["permit"].replace("/255.0.0.0", "/8")).is_private

    def test_bound_to_private_address(self, sections: dict[str, dict[str, str]]) -> None:
        """The AMI listens on a private address and not on the web port."""
        general = sections["general"]
        assert ipaddress.ip_address(general["bindaddr"]).is_private
        assert general["webenabled"] == "no"
        assert set(sections) == {"general", "tierline"}
