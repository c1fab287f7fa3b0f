"""English readings: exact token sequences."""

from __future__ import annotations

import pytest

from router.speech import spoken
from tests.speech.helpers import english

NUMBERS = [
    ("0", "0"),
    ("7", "7"),
    ("13", "13"),
    ("21", "20 1"),
    ("40", "40"),
    ("100", "1 hundred"),
    ("105", "1 hundred and 5"),
    ("999", "9 hundred and 90 9"),
    ("1005", "1 thousand and 5"),
    ("1100", "1 thousand 1 hundred"),
    ("521000", "5 hundred and 20 1 thousand"),
    ("1000105", "1 million 1 hundred and 5"),
    ("2000050", "2 million and 50"),
    ("1000000000000", "1 trillion"),
    ("-3.14", "minus 3 point 1 4"),
    ("0.50", "0 point 5 0"),
]
MONEY = [
    ("105.50", "1 hundred and 5 yuan 50 fen"),
    ("105.05", "1 hundred and 5 yuan 5 fen"),
    ("105", "1 hundred and 5 yuan"),
    ("0.5", "50 fen"),
    ("0.01", "1 fen"),
    ("0", "0 yuan"),
    ("1", "1 yuan"),
    ("-2.5", "minus 2 yuan 50 fen"),
]
DATES = [
    ("2026-12-02", "month_12 2nd 20 20 6"),
    ("2026-01-01", "month_1 1st 20 20 6"),
    ("2026-03-03", "month_3 3rd 20 20 6"),
    ("2026-05-11", "month_5 11th 20 20 6"),
    ("2026-05-12", "month_5 12th 20 20 6"),
    ("2026-05-13", "month_5 13th 20 20 6"),
    ("2026-05-21", "month_5 20 1st 20 20 6"),
    ("2026-05-22", "month_5 20 2nd 20 20 6"),
    ("2026-05-30", "month_5 30th 20 20 6"),
    ("2026-05-31", "month_5 30 1st 20 20 6"),
    ("2005-06-20", "month_6 20th 2 thousand and 5"),
    ("2000-06-20", "month_6 20th 2 thousand"),
    ("2010-06-20", "month_6 20th 20 10"),
    ("1999-06-20", "month_6 20th 19 90 9"),
    ("1905-06-20", "month_6 20th 19 oh 5"),
    ("1900-06-20", "month_6 20th 19 hundred"),
]
TIMES = [
    ("14:05", "2 oh 5 pm"),
    ("14:00", "2 pm"),
    ("14:30", "2 30 pm"),
    ("09:45", "9 40 5 am"),
    ("12:00", "12 noon"),
    ("00:00", "12 midnight"),
    ("12:30", "12 30 pm"),
    ("00:15", "12 15 am"),
    ("23:59:59", "11 50 9 pm"),
]


class TestEnglish:
    @pytest.mark.parametrize(("value", "heard"), NUMBERS)
    def test_numbers(self, value: str, heard: str) -> None:
        """Commonwealth "and" before a last part under a hundred, scales to trillions."""
        assert english(spoken("number", value, "en")) == heard

    @pytest.mark.parametrize(("value", "heard"), MONEY)
    def test_money(self, value: str, heard: str) -> None:
        """ "105 yuan 50 fen": jiao folded into fen, no yuan when there are none."""
        assert english(spoken("money", value, "en")) == heard

    @pytest.mark.parametrize(("value", "heard"), DATES)
    def test_dates(self, value: str, heard: str) -> None:
        """Month, ordinal day, year in pairs."""
        assert english(spoken("date", value, "en")) == heard

    @pytest.mark.parametrize(("value", "heard"), TIMES)
    def test_times(self, value: str, heard: str) -> None:
        """12-hour clock with a.m./p.m., noon and midnight named."""
        assert english(spoken("time", value, "en")) == heard

    def test_digits(self) -> None:
        """Digit strings read one by one, 0 as zero."""
        assert english(spoken("digits", "10086", "en")) == "1 0 0 8 6"
