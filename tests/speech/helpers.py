"""Test-side readers: token sequences rendered as text, and parsed back to values.

These are written independently of the rules under test (a different
algorithm: a left-to-right accumulator rather than grouping), so a round
trip through them checks the rules rather than restating them.
"""

from __future__ import annotations

import re

CHINESE = {
    "say_0": "零",
    "say_1": "一",
    "say_2": "二",
    "say_3": "三",
    "say_4": "四",
    "say_5": "五",
    "say_6": "六",
    "say_7": "七",
    "say_8": "八",
    "say_9": "九",
    "say_10": "十",
    "say_hundred": "百",
    "say_thousand": "千",
    "say_wan": "万",
    "say_yi": "亿",
    "say_liang": "两",
    "say_yao": "幺",
    "say_minus": "负",
    "say_point": "点",
    "say_yuan": "元",
    "say_jiao": "角",
    "say_fen": "分",
    "say_year": "年",
    "say_month": "月",
    "say_day": "日",
    "say_zheng": "整",
    "say_hou": "號",
    "say_ya": "廿",
    "say_sa": "卅",
}
_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "幺": 1}
_SMALL_UNIT = {"十": 10, "百": 100, "千": 1000}
_TENS_WORD = {"廿": 20, "卅": 30}


def chinese(tokens: tuple[str, ...]) -> str:
    """The characters a Chinese listener hears, for readable expectations."""
    return "".join(CHINESE[t] for t in tokens)


def english(tokens: tuple[str, ...]) -> str:
    """Token names without the ``say_`` prefix, space separated."""
    return " ".join(t.removeprefix("say_") for t in tokens)


def chinese_integer(text: str) -> int:
    """Parse a Chinese whole number back (十五, 一万零五百, 两万亿零一十, 廿五)."""
    total = section = digit = 0
    for ch in text:
        if ch in _DIGIT:
            digit = _DIGIT[ch]
        elif ch in _TENS_WORD:
            section += _TENS_WORD[ch]
        elif ch in _SMALL_UNIT:
            section += (digit or (1 if ch == "十" else 0)) * _SMALL_UNIT[ch]
            digit = 0
        elif ch == "万":
            section = (section + digit) * 10**4
            digit = 0
        elif ch == "亿":
            total = (total + section + digit) * 10**8
            section = digit = 0
        else:
            raise ValueError(f"not a number character: {ch!r} in {text!r}")
    return total + section + digit


def chinese_money(text: str) -> int:
    """Parse 一百零五元零五分 back to fen."""
    sign = -1 if text.startswith("负") else 1
    fen = 0
    for amount, unit in re.findall(r"([^元角分]+?)(元|角|分)", text.removeprefix("负")):
        count = chinese_integer(amount.lstrip("零") or "零")
        fen += count * {"元": 100, "角": 10, "分": 1}[unit]
    return sign * fen


_EN_SMALL = {
    **{str(i): i for i in range(20)},
    **{str(t): t for t in range(20, 100, 10)},
}
_EN_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}


def english_integer(words: list[str]) -> int:
    """Parse "1 hundred and 20 1 thousand" (token names) back to 121000."""
    total = current = 0
    for word in words:
        if word == "and":
            continue
        if word == "hundred":
            current *= 100
        elif word in _EN_SCALE:
            total += current * _EN_SCALE[word]
            current = 0
        else:
            current += _EN_SMALL[word]
    return total + current
