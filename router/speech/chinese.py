"""Chinese readings (Mandarin ``zh`` and Cantonese ``yue``) as token prompts.

Both read numbers the same written way, so one set of rules serves both and
a :class:`Dialect` holds what differs. The rules, each one tested:

* Groups of four digits under 万 and 亿 (万亿 for 10^12); a run of zeros
  between two spoken digits is one 零 (10500 一万零五百, 100010 十万零一十,
  1005 一千零五), trailing zeros are silent.
* 10-19 at the very start read 十X (十五, 十五万); inside a number 一十X
  (一百一十五, 一万零一十).
* 两 vs 二: 两 where 2 counts something - 两百, 两千, 两万, 两亿, and a
  count of exactly 2 before a measure word (两元, 两角, 两分, 两点 in times);
  二 everywhere else (二, 十二, 二十, 二月, 二日, and the digits of a year or
  after a decimal point). Everyday speech; 二百/二千 are also correct and
  would need different recordings only.
* Digits one by one: Mandarin reads 1 as 幺 (yāo), as on the phone, so 1 and 7
  are not confused; Cantonese keeps 一 (jat1).
* Money in 元/角/分: a zero 角 between yuan and fen is 零 (105.05
  一百零五元零五分), no 元 when there are no yuan (0.5 五角).
* Dates 二零二六年十二月二日 (the year digit by digit; a written zero there is
  said 零, one recording).
* Times on the 24-hour clock, 十四点零五分 and 十四点整, because an IVR
  cannot see whether 两点 meant afternoon.

Cantonese differences: 日 becomes 號 (十二月二號), and 21-29 / 31-39 read
廿X / 卅X (廿五, 一百卅二), as Cantonese is spoken; 20 and 30 alone stay
二十 / 三十. Money stays 元/角/分 (a bill's words) rather than the
colloquial 蚊/毫/仙, so the same token names serve both dialects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from router.speech.values import Money, WrittenNumber

__all__ = ["CANTONESE", "MANDARIN", "Dialect"]

DIGIT = tuple(f"say_{d}" for d in range(10))
TEN, HUNDRED, THOUSAND = "say_10", "say_hundred", "say_thousand"
WAN, YI, LIANG = "say_wan", "say_yi", "say_liang"
MINUS, POINT = "say_minus", "say_point"  # 负 / 點, also the 点 of a time
YUAN, JIAO, FEN = "say_yuan", "say_jiao", "say_fen"  # 分 is also a time's minutes
YEAR, MONTH, WHOLE = "say_year", "say_month", "say_zheng"  # 年 月 整

Tokens = list[str]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What Mandarin and Cantonese read differently; the rest is shared."""

    day: str  # 日 / 號
    one_digit: str  # 1 read alone in a digit string: 幺 / 一
    tens: tuple[tuple[int, str], ...] = ()  # 廿 / 卅: tens digits with their own word

    def vocabulary(self) -> frozenset[str]:
        """Every token these rules can emit."""
        common = {TEN, HUNDRED, THOUSAND, WAN, YI, LIANG, MINUS, POINT, YUAN, JIAO, FEN}
        common |= {YEAR, MONTH, WHOLE, self.day, self.one_digit}
        return frozenset(DIGIT) | common | {word for _, word in self.tens}

    def number(self, value: WrittenNumber) -> tuple[str, ...]:
        """负, the whole part, then 点 and the fraction digit by digit (3.50 三点五零)."""
        out = [MINUS] if value.negative else []
        out += self.integer(value.integer)
        if value.fraction:
            out += [POINT, *(DIGIT[int(d)] for d in value.fraction)]
        return tuple(out)

    def digits(self, text: str) -> tuple[str, ...]:
        """One token per digit, 1 in the dialect's phone-number reading."""
        return tuple(self.one_digit if d == "1" else DIGIT[int(d)] for d in text)

    def money(self, value: Money) -> tuple[str, ...]:
        """元, 角, 分 with the zeros rules (105.05 一百零五元零五分, 0.5 五角, 0 零元)."""
        jiao, fen = divmod(value.fen, 10)
        out = [MINUS] if value.negative else []
        if value.yuan or not value.fen:
            out += [*self.counted(value.yuan), YUAN]
        if jiao:
            out += [*self.counted(jiao), JIAO]
        elif fen and value.yuan:
            out.append(DIGIT[0])
        if fen:
            out += [*self.counted(fen), FEN]
        return tuple(out)

    def date(self, day: date) -> tuple[str, ...]:
        """Year digit by digit (二〇二六年), then month and day as numbers."""
        year = [DIGIT[int(d)] for d in f"{day.year:04d}"]
        return (*year, YEAR, *self.integer(day.month), MONTH, *self.integer(day.day), self.day)

    def time(self, when: time) -> tuple[str, ...]:
        """24-hour clock: 十四点零五分, 两点整, 零点三十分."""
        out = [*self.counted(when.hour), POINT]
        if not when.minute:
            return (*out, WHOLE)
        if when.minute < 10:
            out.append(DIGIT[0])
        return (*out, *self.integer(when.minute), FEN)

    def counted(self, n: int) -> Tokens:
        """A count before a measure word: exactly 2 is 两 (两元, 两点), else the number."""
        return [LIANG] if n == 2 else self.integer(n)

    def integer(self, n: int, *, leading: bool = True) -> Tokens:
        """Whole numbers, grouped under 万 and 亿, with one 零 per gap."""
        if n < 10**4:
            return self._group(n, leading) if n else [DIGIT[0]]
        base, unit = (10**8, YI) if n >= 10**8 else (10**4, WAN)
        high, low = divmod(n, base)
        out = [LIANG] if high == 2 else self.integer(high, leading=leading)
        out.append(unit)
        if low:
            if low < base // 10:  # a zero digit right below the unit
                out.append(DIGIT[0])
            out += self.integer(low, leading=False)
        return out

    def _group(self, n: int, leading: bool) -> Tokens:
        """1-9999 with inner zeros; ``leading``: first group of the number (十五, not 一十五)."""
        out: Tokens = []
        gap = False
        for place, unit in ((1000, THOUSAND), (100, HUNDRED), (10, TEN), (1, "")):
            d = n // place % 10
            if not d:
                gap = bool(out)
                continue
            if gap:
                out.append(DIGIT[0])
                gap = False
            out += self._place(d, unit, leading and not out, n % 10)
        return out

    def _place(self, d: int, unit: str, first: bool, units: int) -> Tokens:
        if unit == TEN:
            word = dict(self.tens).get(d) if units else None
            if word:
                return [word]  # 廿五: the word stands for the tens digit and 十 together
            if d == 1 and first:
                return [TEN]  # 十五 at the start
        if d == 2 and unit in (HUNDRED, THOUSAND):
            return [LIANG, unit]
        return [DIGIT[d], unit] if unit else [DIGIT[d]]


MANDARIN = Dialect(day="say_day", one_digit="say_yao")
CANTONESE = Dialect(day="say_hou", one_digit=DIGIT[1], tens=((2, "say_ya"), (3, "say_sa")))
