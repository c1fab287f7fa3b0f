"""Every word a planner reads in the report, in Chinese and English.

Planners circulate the report inside the centre, where Chinese is the
working language; developers read English. One table per language keeps
the page, the CSV headers and the chart axes saying the same thing, and a
missing label fails the tests instead of leaving a stray English word on a
Chinese page.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Mapping

__all__ = ["CJK_FONTS", "LANGS", "Labels", "default_lang", "labels"]

LANGS = ("zh", "en")
CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei")
"""Chart fonts for Chinese, first found wins (CI installs fonts-wqy-zenhei)."""

Labels = Mapping[str, str]

_EN: dict[str, str] = {
    "title": "Tierline capacity plan",
    "runs": "{replications} replications, seed {seed}.",
    "results": "Results per tier (mean ± 95 % interval)",
    "tier": "tier",
    "calls": "calls",
    "ivr_ended": "ended in IVR",
    "offered": "queued",
    "answered": "answered",
    "abandoned": "abandoned",
    "p_wait": "share waiting",
    "asa": "ASA (s)",
    "service_level": "service level",
    "abandon_rate": "abandonment",
    "targets": "Targets",
    "target": "target",
    "target_sl": "≥ {level:g} within {within:g} s",
    "cap": "cap",
    "verdict": "verdict",
    "missed_intervals": "intervals missed",
    "none": "none",
    "pass": "pass",
    "MISS": "MISS",
    "staffing": "Staffing (agents on the phones)",
    "from": "from",
    "charts": "Charts",
    "roster": "Roster (shifts)",
    "roster_note": "Shifts covering the plan after shrinkage, at least cost.",
    "roster_sum": "{queue}: {people} agents, {paid:,.1f} paid hours "
    "(interval minimum {floor:,.1f} h)",
    "queue": "queue",
    "shift": "shift",
    "start": "start",
    "end": "end",
    "break": "break",
    "agents": "agents",
    "paid_hours": "paid hours",
    "full": "full day",
    "part": "part time",
    "coverage": "Coverage: rostered / required on the phones",
    "coverage_note": "Required = the plan grossed up for shrinkage; a red cell is short.",
    "required": "required",
    "rostered": "rostered",
    "interval_start": "interval start",
    "cost": "cost",
    "cost_per_day": "cost per day",
    "frontier": "Cost against service level",
    "next_day": "(+1)",
}

_ZH: dict[str, str] = {
    "title": "Tierline 容量与排班计划",
    "runs": "{replications} 次独立仿真，随机种子 {seed}。",
    "results": "各客户等级结果（均值 ± 95% 置信区间）",
    "tier": "客户等级",
    "calls": "来电",
    "ivr_ended": "IVR 内结束",
    "offered": "进入队列",
    "answered": "接通",
    "abandoned": "放弃",
    "p_wait": "需等待比例",
    "asa": "平均应答时间（秒）",
    "service_level": "服务水平",
    "abandon_rate": "放弃率",
    "targets": "目标达成",
    "target": "目标",
    "target_sl": "≥ {level:g}，{within:g} 秒内接听",
    "cap": "上限",
    "verdict": "结论",
    "missed_intervals": "未达标时段",
    "none": "无",
    "pass": "达标",
    "MISS": "未达标",
    "staffing": "人员配置（在线坐席数）",
    "from": "时段",
    "charts": "图表",
    "roster": "排班表",
    "roster_note": "按成本最低排出的班次，已计入缺勤率（培训、休假、病假）。",
    "roster_sum": "{queue}：{people} 人，带薪工时 {paid:,.1f} 小时"
    "（按时段最低需求 {floor:,.1f} 小时）",
    "queue": "队列",
    "shift": "班次",
    "start": "上班",
    "end": "下班",
    "break": "休息",
    "agents": "人数",
    "paid_hours": "带薪工时",
    "full": "全天班",
    "part": "半天班",
    "coverage": "覆盖情况：排班在岗 / 需求",
    "coverage_note": "需求 = 计划人数按缺勤率折算后的排班人数；红色表示不足。",
    "required": "需求",
    "rostered": "在岗",
    "interval_start": "时段开始",
    "cost": "成本",
    "cost_per_day": "每日成本",
    "frontier": "成本与服务水平",
    "next_day": "（次日）",
}

_TABLES = {"en": _EN, "zh": _ZH}


def labels(lang: str) -> Labels:
    """The label table of ``lang`` (``zh`` or ``en``)."""
    if lang not in _TABLES:
        raise ValueError(f"unknown report language {lang!r}: use zh or en")
    return _TABLES[lang]


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """``zh`` or ``en`` from ``TIERLINE_LANG``, else the locale (``LC_ALL``, ``LANG``...).

    An unset or C/POSIX locale gives English: that is a server or CI, not a
    planner's desktop.
    """
    env = os.environ if environ is None else environ
    setting = env.get("TIERLINE_LANG", "").strip().lower()
    if setting in LANGS:
        return setting
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    if environ is None:
        code = locale.getlocale()[0] or ""
        return "zh" if code.lower().startswith("zh") else "en"
    return "en"
