"""Vietnamese number, percent and date formatting for the console's templates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.domain.stats.text import decimal, number, percent
from bot.domain.vietnam_time import VN_TZ
from storage.repositories.audit import aware


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return aware(moment).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def dmy(day: date | None) -> str:
    return "—" if day is None else f"{day:%d/%m/%Y}"


def num(value: int | None) -> str:
    return "—" if value is None else number(int(value))


FILTERS: dict[str, Any] = {
    "local_time": local_time,
    "dmy": dmy,
    "num": num,
    "pct": percent,
    "dec": decimal,
}
