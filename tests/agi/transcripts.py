"""Read the Asterisk 22 AGI captures (format: ../shared/asterisk-22/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from router.agi.double import CallerScript

_LINE = re.compile(r"^([AS])> (\S+) ?(.*)$")
_DTMF = re.compile(r"^#\s+\+([\d.]+) DTMFEnd .*\| Digit: (\S)")
_VARSET = re.compile(r"^#\s+-[\d.]+ VarSet .*\| Variable: (\S+) \| Value: (.*)$")
_HANGUP_NOTE = re.compile(r"^# note: AMI Hangup .* sent at ([\d.]+) ms")


@dataclass
class Transcript:
    name: str
    header: list[str] = field(default_factory=list)
    lines: list[tuple[str, float, str]] = field(default_factory=list)

    @property
    def env(self) -> list[str]:
        out = []
        for who, _t, text in self.lines:
            if who != "A":
                break
            out.append(text)
            if text == "":
                break
        return out

    @property
    def exchange(self) -> list[tuple[str, float, str]]:
        """Everything after the environment."""
        return self.lines[len(self.env) :]

    def asterisk_lines(self) -> list[str]:
        return [t for who, _, t in self.exchange if who == "A" and t != "<EOF>"]

    def script(self) -> CallerScript:
        digits, hangup, variables = [], None, {}
        for line in self.header:
            if m := _DTMF.match(line):
                digits.append((float(m.group(1)), m.group(2)))
            elif m := _VARSET.match(line):
                variables[m.group(1)] = m.group(2)
            elif m := _HANGUP_NOTE.match(line):
                hangup = float(m.group(1))
        answered = any("Answer()" in h for h in self.header if h.startswith("# dialplan-context"))
        return CallerScript(
            digits=digits, hangup_at_ms=hangup, answered=answered, variables=variables
        )

    def server_writes(self) -> list[tuple[float, list[str]]]:
        """Server lines grouped into writes: consecutive S lines < 5 ms apart."""
        writes: list[tuple[float, list[str]]] = []
        last_who = ""
        for who, t, text in self.exchange:
            if who == "S" and text != "<close>":
                if last_who == "S" and writes and t - writes[-1][0] < 5:
                    writes[-1][1].append(text)
                else:
                    writes.append((t, [text]))
            last_who = who
        return writes

    def close_at(self) -> float | None:
        return next((t for who, t, text in self.exchange if text == "<close>"), None)


def load(path: Path) -> Transcript:
    tr = Transcript(path.stem)
    for raw in path.read_text(encoding="utf-8").splitlines():
        if m := _LINE.match(raw):
            tr.lines.append((m.group(1), float(m.group(2)), m.group(3)))
        elif raw.startswith("#"):
            tr.header.append(raw)
    return tr


def all_transcripts(shared: Path) -> list[Transcript]:
    return [load(p) for p in sorted((shared / "agi").glob("*.txt"))]
