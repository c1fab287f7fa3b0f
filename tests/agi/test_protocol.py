"""Pure protocol: env lines, quoting that round-trips through Asterisk's parsers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.agi.protocol import (
    encode_mset,
    format_command,
    parse_args,
    parse_env_block,
    parse_env_line,
    quote_arg,
    separate_app_args,
)
from router.errors import AGIProtocolError

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n\x00"))


class TestEnvironment:
    def test_value_is_kept_raw(self) -> None:
        """Quotes, commas and an empty value survive as sent (agi/11b, agi/01)."""
        assert parse_env_line('agi_calleridname: Doe, John; "JJ"') == (
            "agi_calleridname",
            'Doe, John; "JJ"',
        )
        assert parse_env_line("agi_accountcode: ") == ("agi_accountcode", "")

    @pytest.mark.parametrize("line", ["hello", "agi network: yes", "GET VARIABLE X", ": x"])
    def test_non_agi_line_is_refused(self, line: str) -> None:
        """Anything but ``agi_key: value`` is a protocol error."""
        with pytest.raises(AGIProtocolError):
            parse_env_line(line)

    @pytest.mark.parametrize(
        "lines",
        [
            ["agi_network: yes", "agi_callerid: 139", "agi_accountcode: "],
            ["agi_network: yes\r", "agi_custom_key: a: b"],
            ["agi_calleridname:no-space"],
        ],
    )
    def test_block_agrees_with_line_by_line(self, lines: list[str]) -> None:
        """The one-pass block parser gives what parse_env_line gives for each line."""
        expected = dict(parse_env_line(line.rstrip("\r")) for line in lines)
        assert parse_env_block("\n".join(lines), ordered=False) == expected

    @pytest.mark.parametrize("bad", ["agi_network", "agi_network: yes\nGET VARIABLE X", ""])
    def test_block_refuses_what_a_line_would(self, bad: str) -> None:
        """A known key without ``: ``, a command line or an empty line is refused."""
        with pytest.raises(AGIProtocolError):
            parse_env_block(bad)


class TestQuoting:
    @given(st.lists(TEXT, min_size=1, max_size=4))
    def test_args_round_trip_through_parse_args(self, args: list[str]) -> None:
        """Whatever the text, Asterisk's parse_args gives back exactly our arguments."""
        line = format_command("SET VARIABLE", *args).decode()
        assert line.count("\n") == 1
        assert parse_args(line[:-1]) == ["SET", "VARIABLE", *args]

    @given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True), TEXT))
    def test_mset_round_trips_through_both_parsers(self, values: dict[str, str]) -> None:
        """EXEC MSet data survives parse_args, then the comma split, then the '=' split."""
        if not values:
            return
        argv = parse_args(format_command("EXEC", "MSet", encode_mset(values)).decode()[:-1])
        pairs = [separate_app_args(p, "=", 2) for p in separate_app_args(argv[2])]
        assert dict((k, v) for k, v in pairs) == values

    def test_newline_never_reaches_the_wire(self) -> None:
        """CR/LF/NUL become spaces: one line, one command."""
        assert quote_arg("a\nGET VARIABLE X\r\x00") == '"a GET VARIABLE X  "'

    def test_matches_captured_exec_set(self) -> None:
        """agi/06's EXEC Set line parses to the value Asterisk stored."""
        argv = parse_args(r'EXEC Set "EXECVAR2=He said \"hi\", then left"')
        assert argv == ["EXEC", "Set", 'EXECVAR2=He said "hi", then left']

    def test_overlong_command_is_refused(self) -> None:
        """Over 2047 bytes Asterisk would run the tail as a new command: refuse."""
        with pytest.raises(AGIProtocolError):
            format_command("SET VARIABLE", "X", "y" * 2100)

    def test_bad_variable_name_is_refused(self) -> None:
        """MSet names are our constants; anything else is refused, not escaped."""
        with pytest.raises(AGIProtocolError):
            encode_mset({"A=B,C": "x"})
