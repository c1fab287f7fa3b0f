"""``tierline flows check|trace|graph`` on the shipped flows and a broken copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from router.cli import cli

SHIPPED = Path(__file__).resolve().parents[2] / "ivr_flows"
QUEUES = ["--queues", "vip,red_desk,billing,tech,sales,retention,general,restricted,english"]


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["flows", *args])


class TestCheck:
    def test_shipped_flows_pass(self) -> None:
        """The shipped flows compile cleanly: exit 0."""
        result = invoke("check", str(SHIPPED), *QUEUES)
        assert result.exit_code == 0, result.output
        assert "telecom" in result.output

    def test_broken_copy_fails_with_location(self, tmp_path: Path) -> None:
        """A typo in a copy exits 1 and prints file:line."""
        target = tmp_path / "flows"
        shutil.copytree(SHIPPED, target)
        text = (target / "telecom.yaml").read_text()
        (target / "telecom.yaml").write_text(text.replace("goto: red_desk", "goto: red_dsk"))
        result = invoke("check", str(target), *QUEUES)
        assert result.exit_code == 1
        assert "telecom.yaml:" in result.output
        assert "did you mean 'red_desk'?" in result.output

    def test_queues_from_routing_yaml(self, tmp_path: Path) -> None:
        """Without --queues, service names come from routing.yaml."""
        target = tmp_path / "flows"
        shutil.copytree(SHIPPED, target)
        routing = yaml.safe_load((target / "routing.yaml").read_text())
        del routing["services"]["tech"]
        (target / "routing.yaml").write_text(yaml.safe_dump(routing))
        result = invoke("check", str(target))
        assert result.exit_code == 1
        assert "unknown queue 'tech'" in result.output

    def test_unreadable_file_is_located_and_lock_files_ignored(self, tmp_path: Path) -> None:
        """A non-UTF-8 flow is reported at its path and byte; an editor's lock link is skipped."""
        target = tmp_path / "flows"
        shutil.copytree(SHIPPED, target)
        (target / ".#telecom.yaml").symlink_to(target / "user@host.99:1700000000")
        (target / "latin1.yaml").write_bytes(b"# caf\xe9\nflow: latin1\n")
        result = invoke("check", str(target), *QUEUES)
        assert result.exit_code == 1, result.output
        assert "latin1.yaml:1:6: not UTF-8 text (byte 0xe9)" in result.output
        assert ".#telecom" not in result.output
        assert "Traceback" not in result.output
        (target / "latin1.yaml").unlink()
        assert invoke("check", str(target), *QUEUES).exit_code == 0


class TestSchemaCommand:
    def test_schema_command_prints_the_committed_schema(self) -> None:
        """tierline flows schema prints exactly ivr_flows/flow.schema.json."""
        result = invoke("schema")
        assert result.exit_code == 0, result.output
        assert result.output == (SHIPPED / "flow.schema.json").read_text(encoding="utf-8")


class TestTraceGraph:
    def test_trace_after_hours_callback(self) -> None:
        """New Year's Eve 22:00 ends in the after-hours callback."""
        result = invoke(
            "trace",
            "telecom",
            "--caller",
            "13800138000",
            "--at",
            "2026-12-31T22:00+08:00",
            "--dir",
            str(SHIPPED),
            *QUEUES,
        )
        assert result.exit_code == 0, result.output
        assert "telecom:after_hours" in result.output
        assert "=> callback" in result.output

    def test_trace_red_list(self) -> None:
        """A red-listed caller goes straight to the red desk."""
        result = invoke("trace", "telecom", "--list", "red", "--dir", str(SHIPPED), *QUEUES)
        assert "=> queue {'service': 'red_desk'" in result.output

    def test_graph_formats(self) -> None:
        """graph prints Mermaid and DOT with the flow's edges."""
        mermaid = invoke("graph", "telecom", "--dir", str(SHIPPED), *QUEUES).output
        assert mermaid.startswith("flowchart TD")
        assert 'main_menu -->|"1"| billing' in mermaid
        dot = invoke("graph", "telecom", "--format", "dot", "--dir", str(SHIPPED), *QUEUES).output
        assert dot.startswith('digraph "telecom"')
        assert '"main_menu" -> "billing"' in dot
