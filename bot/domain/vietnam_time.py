"""Vietnam's time zone: every "today", period boundary and deadline is a date in Vietnam."""

from __future__ import annotations

from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
