"""PHP-style ``date()`` formatting for ``@date(format)``.

TuskLang's docs describe ``@date`` with PHP format letters (``Y-m-d H:i:s``). Each letter below
is replaced by a field of the datetime; a backslash makes the next character literal; every
other character is copied. A format holding ``%`` is taken as a C ``strftime`` format instead.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime, timedelta

DEFAULT_FORMAT = "Y-m-d H:i:s"

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _offset(dt: datetime) -> timedelta:
    return dt.utcoffset() or timedelta(0)


def _offset_text(dt: datetime, colon: bool) -> str:
    seconds = int(_offset(dt).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def _suffix(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _twelve_hour(dt: datetime) -> int:
    return dt.hour % 12 or 12


def _timezone_id(dt: datetime) -> str:
    # A ZoneInfo knows its IANA key ("Europe/Berlin"); a fixed offset only has a name.
    key = getattr(dt.tzinfo, "key", None)
    if isinstance(key, str):
        return key
    return dt.tzname() or "UTC"


def _swatch(dt: datetime) -> str:
    # Swatch Internet time: thousandths of a day in UTC+1.
    utc = dt - _offset(dt)
    seconds = ((utc.hour + 1) % 24) * 3600 + utc.minute * 60 + utc.second
    return f"{int(seconds / 86.4) % 1000:03d}"


def _epoch(dt: datetime) -> int:
    return calendar.timegm((dt - _offset(dt)).timetuple())


_LETTERS: dict[str, Callable[[datetime], str]] = {
    # day
    "d": lambda dt: f"{dt.day:02d}",
    "D": lambda dt: _DAY_NAMES[dt.weekday()][:3],
    "j": lambda dt: str(dt.day),
    "l": lambda dt: _DAY_NAMES[dt.weekday()],
    "N": lambda dt: str(dt.isoweekday()),
    "S": lambda dt: _suffix(dt.day),
    "w": lambda dt: str(dt.isoweekday() % 7),
    "z": lambda dt: str(dt.timetuple().tm_yday - 1),
    # week
    "W": lambda dt: f"{dt.isocalendar()[1]:02d}",
    # month
    "F": lambda dt: _MONTH_NAMES[dt.month - 1],
    "m": lambda dt: f"{dt.month:02d}",
    "M": lambda dt: _MONTH_NAMES[dt.month - 1][:3],
    "n": lambda dt: str(dt.month),
    "t": lambda dt: str(calendar.monthrange(dt.year, dt.month)[1]),
    # year
    "L": lambda dt: "1" if calendar.isleap(dt.year) else "0",
    "o": lambda dt: str(dt.isocalendar()[0]),
    "Y": lambda dt: f"{dt.year:04d}",
    "y": lambda dt: f"{dt.year % 100:02d}",
    # time
    "a": lambda dt: "am" if dt.hour < 12 else "pm",
    "A": lambda dt: "AM" if dt.hour < 12 else "PM",
    "B": _swatch,
    "g": lambda dt: str(_twelve_hour(dt)),
    "G": lambda dt: str(dt.hour),
    "h": lambda dt: f"{_twelve_hour(dt):02d}",
    "H": lambda dt: f"{dt.hour:02d}",
    "i": lambda dt: f"{dt.minute:02d}",
    "s": lambda dt: f"{dt.second:02d}",
    "u": lambda dt: f"{dt.microsecond:06d}",
    "v": lambda dt: f"{dt.microsecond // 1000:03d}",
    # timezone
    "e": _timezone_id,
    "I": lambda dt: "1" if dt.dst() else "0",
    "O": lambda dt: _offset_text(dt, colon=False),
    "P": lambda dt: _offset_text(dt, colon=True),
    "p": lambda dt: "Z" if not _offset(dt) else _offset_text(dt, colon=True),
    "T": lambda dt: dt.tzname() or "UTC",
    "Z": lambda dt: str(int(_offset(dt).total_seconds())),
    # full date/time
    "c": lambda dt: format_php_date("Y-m-d\\TH:i:sP", dt),
    "r": lambda dt: format_php_date("D, d M Y H:i:s O", dt),
    "U": lambda dt: str(_epoch(dt)),
}


def format_php_date(fmt: str, dt: datetime) -> str:
    """Format ``dt`` with PHP ``date()`` letters; ``\\x`` is a literal ``x``."""
    out: list[str] = []
    escaped = False
    for ch in fmt:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            field = _LETTERS.get(ch)
            out.append(field(dt) if field is not None else ch)
    if escaped:  # a trailing backslash stands for itself
        out.append("\\")
    return "".join(out)


def format_date(fmt: str, dt: datetime) -> str:
    """``%``-formats go to ``strftime``; anything else is a PHP ``date()`` format."""
    if "%" in fmt:
        return dt.strftime(fmt)
    return format_php_date(fmt, dt)
