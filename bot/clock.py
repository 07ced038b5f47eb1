"""The bot's one clock: which day it is, in China.

Facts are dated in China and China is ahead of most visitors' zones, so "today" is the date in Asia/Shanghai.
``BOT_TODAY=YYYY-MM-DD`` (``Settings.today``) fixes it, to see how the bot answers on another day
(``BOT_TODAY=2027-01-15 python -m bot ask ...``) and to test expiry without waiting for it.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import Settings

CHINA = ZoneInfo("Asia/Shanghai")


def today(settings: Settings | None = None) -> date:
    """``settings.today`` (``BOT_TODAY``) when set, else the current date in China. Without settings, the
    environment's (``Settings.from_env()``), so a module with no settings at hand still follows ``BOT_TODAY``."""
    fixed = (settings if settings is not None else Settings.from_env()).today
    return fixed if fixed is not None else datetime.now(CHINA).date()
