"""Mandarin and Cantonese readings: exact token sequences for the rules that matter."""

from __future__ import annotations

import pytest

from router.speech import spoken
from tests.speech.helpers import chinese

NUMBERS = [
    ("0", "零"),
    ("7", "七"),
    ("10", "十"),
    ("15", "十五"),
    ("20", "二十"),
    ("100", "一百"),
    ("105", "一百零五"),
    ("110", "一百一十"),
    ("115", "一百一十五"),
    ("1005", "一千零五"),
    ("1010", "一千零一十"),
    ("1050", "一千零五十"),
    ("1500", "一千五百"),
    ("10000", "一万"),
    ("10010", "一万零一十"),
    ("10500", "一万零五百"),
    ("15000", "一万五千"),
    ("100010", "十万零一十"),
    ("150000", "十五万"),
    ("1000100", "一百万零一百"),
    ("1150000", "一百一十五万"),
    ("10001000", "一千万一千"),
    ("100000000", "一亿"),
    ("100000500", "一亿零五百"),
    ("105000000", "一亿零五百万"),
    ("150000000", "一亿五千万"),
    ("1500000000", "十五亿"),
    ("1000000000000", "一万亿"),
    ("1000000010000", "一万亿零一万"),
    ("1200000000000", "一万两千亿"),
    ("999999999999999", "九百九十九万九千九百九十九亿九千九百九十九万九千九百九十九"),
]
TWOS = [
    ("2", "二"),
    ("12", "十二"),
    ("22", "二十二"),
    ("200", "两百"),
    ("2000", "两千"),
    ("2222", "两千两百二十二"),
    ("20000", "两万"),
    ("20002", "两万零二"),
    ("120000", "十二万"),
    ("220000", "二十二万"),
    ("200000000", "两亿"),
    ("2000000000000", "两万亿"),
]
DECIMALS = [
    ("-15", "负十五"),
    ("-0", "零"),
    ("+7", "七"),
    ("0.5", "零点五"),
    ("3.50", "三点五零"),
    ("10.25", "十点二五"),
    ("-0.05", "负零点零五"),
    ("-0.00", "零点零零"),
    (" 42 ", "四十二"),
]
MONEY = [
    ("105.50", "一百零五元五角"),
    ("105.5", "一百零五元五角"),
    ("105.05", "一百零五元零五分"),
    ("105.55", "一百零五元五角五分"),
    ("105", "一百零五元"),
    ("0.5", "五角"),
    ("0.05", "五分"),
    ("0.55", "五角五分"),
    ("0", "零元"),
    ("2", "两元"),
    ("2.22", "两元两角两分"),
    ("12", "十二元"),
    ("1000.05", "一千元零五分"),
    ("20000", "两万元"),
    ("-5", "负五元"),
    ("3.500", "三元五角"),
]
DATES = [
    ("2026-12-02", "二零二六年十二月二日"),
    ("2026-01-31", "二零二六年一月三十一日"),
    ("2000-10-10", "二零零零年十月十日"),
    ("1999-02-22", "一九九九年二月二十二日"),
    ("2026-12-02T14:05:00+08:00", "二零二六年十二月二日"),
]
TIMES = [
    ("14:05", "十四点零五分"),
    ("14:00", "十四点整"),
    ("14:10", "十四点十分"),
    ("14:30", "十四点三十分"),
    ("02:00", "两点整"),
    ("02:02", "两点零二分"),
    ("00:30", "零点三十分"),
    ("12:15", "十二点十五分"),
    ("22:45:59", "二十二点四十五分"),
    ("2026-12-02T09:07:00", "九点零七分"),
]


class TestMandarin:
    @pytest.mark.parametrize(("value", "heard"), NUMBERS)
    def test_numbers(self, value: str, heard: str) -> None:
        """Groups under 万/亿, one 零 per gap, 十X only at the start."""
        assert chinese(spoken("number", value, "zh")) == heard

    @pytest.mark.parametrize(("value", "heard"), TWOS)
    def test_liang_counts_er_elsewhere(self, value: str, heard: str) -> None:
        """两 before 百/千/万/亿, 二 for units and tens."""
        assert chinese(spoken("number", value, "zh")) == heard

    @pytest.mark.parametrize(("value", "heard"), DECIMALS)
    def test_signs_and_decimals(self, value: str, heard: str) -> None:
        """负 for negatives (never for zero), fraction read digit by digit after 点."""
        assert chinese(spoken("number", value, "zh")) == heard

    @pytest.mark.parametrize(("value", "heard"), MONEY)
    def test_money(self, value: str, heard: str) -> None:
        """元/角/分 with 零 for a missing 角 and no 元 for no yuan."""
        assert chinese(spoken("money", value, "zh")) == heard

    @pytest.mark.parametrize(("value", "heard"), DATES)
    def test_dates(self, value: str, heard: str) -> None:
        """Year digit by digit, month and day as numbers, 日."""
        assert chinese(spoken("date", value, "zh")) == heard

    @pytest.mark.parametrize(("value", "heard"), TIMES)
    def test_times(self, value: str, heard: str) -> None:
        """24-hour clock, 整 on the hour, 零 before minutes under ten."""
        assert chinese(spoken("time", value, "zh")) == heard

    def test_phone_digits_read_yao(self) -> None:
        """Digit strings read 1 as 幺, one token per digit, separators dropped."""
        assert chinese(spoken("digits", "138-0013 8000", "zh")) == "幺三八零零幺三八零零零"

    def test_exact_token_names(self) -> None:
        """The prompt names themselves, as the say step plays them."""
        assert spoken("money", "105.05", "zh") == (
            *("say_1", "say_hundred", "say_0", "say_5", "say_yuan"),
            *("say_0", "say_5", "say_fen"),
        )


YUE = [
    ("number", "25", "廿五"),
    ("number", "20", "二十"),
    ("number", "32", "卅二"),
    ("number", "30", "三十"),
    ("number", "45", "四十五"),
    ("number", "125", "一百廿五"),
    ("number", "2222", "两千两百廿二"),
    ("number", "220000", "廿二万"),
    ("number", "10500", "一万零五百"),
    ("number", "100010", "十万零一十"),
    ("number", "15", "十五"),
    ("money", "105.05", "一百零五元零五分"),
    ("money", "2.5", "两元五角"),
    ("date", "2026-12-02", "二零二六年十二月二號"),
    ("date", "2026-12-25", "二零二六年十二月廿五號"),
    ("date", "2026-03-31", "二零二六年三月卅一號"),
    ("time", "14:25", "十四点廿五分"),
    ("time", "02:00", "两点整"),
    ("digits", "13800138000", "一三八零零一三八零零零"),
]


class TestCantonese:
    @pytest.mark.parametrize(("kind", "value", "heard"), YUE)
    def test_readings(self, kind: str, value: str, heard: str) -> None:
        """Cantonese: 廿/卅 for 21-39, 號 for the day, 一 in phone numbers."""
        assert chinese(spoken(kind, value, "yue")) == heard  # type: ignore[arg-type]

    @pytest.mark.parametrize(("value", "_heard"), NUMBERS + TWOS + DECIMALS)
    def test_same_as_mandarin_without_tens_words(self, value: str, _heard: str) -> None:
        """Where no 21-39 is read, Cantonese numbers use the Mandarin tokens exactly."""
        zh = spoken("number", value, "zh")
        yue = spoken("number", value, "yue")
        if not {"say_ya", "say_sa"} & set(yue):
            assert yue == zh
