"""Dates the way Hugo 0.168 prints them.

* `go_format(t, layout)`: Go's `time.Time.Format`, which is what `.Date.Format`
  is in a template (never localized).
* `hugo_format(t, layout, locale)`: Hugo's `time.Format` / `dateFormat`
  function: Go's layout, then English month and weekday names swapped for
  the locale's (only the long ones when the layout has `January`/`Monday`,
  only the short ones otherwise), or one of Hugo's `:date_full`,
  `:date_long`, `:date_medium`, `:date_short`, `:time_full` ... `:time_short`
  layouts. It first drops the zone's name and the fractions of a second
  ("MST" prints "+0900", not "JST").
  With `ja`: "January 2, 2006" gives "4月 13, 2025", ":date_long" gives
  "2025年4月13日", and "Jan 2, 2006" gives " 13, 2025" (Hugo's locale data
  has no short Japanese month names, so they print as nothing).
* `resolve_locale(locale, language_key, default_language)`: which CLDR
  locale Hugo ends up with (an exact CLDR id or English: "zh-CN" is English).
* `hugo_time(value, default_tz)`: a front matter date as Hugo reads it.
* `rfc3339`, `rfc1123z`: the layouts feeds and sitemaps use.

Locale data is CLDR through Babel, read the way Hugo's locale library reads
CLDR (format-context names, no alias resolution, short date years as two
digits, `a` as lower-case am/pm, pattern letters it does not know printed
as they are). Hugo bundles CLDR 48.1; Babel's CLDR can differ for a few
locales (Thai short time, Indonesian short date); ja and en are identical.

Pure: no I/O besides Babel's bundled CLDR data.
"""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from typing import Any

__all__ = [
    "UTC",
    "format_date",
    "go_format",
    "hugo_format",
    "hugo_time",
    "resolve_locale",
    "rfc1123z",
    "rfc3339",
    "zone_name",
]

UTC = UTC

_LONG_MONTHS = (
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
_LONG_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _weekday(t: datetime) -> int:
    """Go's Weekday: Sunday is 0."""
    return (t.weekday() + 1) % 7


def zone_name(t: datetime) -> str:
    """Go's zone abbreviation: "UTC", "JST" ..., or "" for a bare offset
    (what Go gives a time parsed from "+09:00")."""
    tz = t.tzinfo
    if tz is None:
        return "UTC"
    if isinstance(tz, timezone):
        if tz is UTC:
            return "UTC"
        name = tz.tzname(t)
        offset = tz.utcoffset(t)
        # Python names an anonymous offset "UTC+09:00"; Go leaves it empty.
        return "" if name == timezone(offset).tzname(None) else (name or "")
    return tz.tzname(t) or ""


def _offset_seconds(t: datetime) -> int:
    off = t.utcoffset()
    return int(off.total_seconds()) if off is not None else 0


# --- Go's layout ------------------------------------------------------------------------
# Layout chunks, longest first where they share a prefix (Go's nextStdChunk).
_TZ_CHUNKS = ("-070000", "-07:00:00", "-0700", "-07:00", "-07", "Z070000", "Z07:00:00", "Z0700", "Z07:00", "Z07")


def _next_chunk(layout: str, i: int) -> tuple[str, int] | None:
    """The layout element starting at i and its length, or None for a literal."""
    rest = layout[i:]
    c = rest[0]
    if c == "J" and rest.startswith("Jan"):
        if rest.startswith("January"):
            return "January", 7
        if not rest[3:4].islower() or not rest[3:4].isascii():
            return "Jan", 3
    elif c == "M":
        if rest.startswith("Mon"):
            if rest.startswith("Monday"):
                return "Monday", 6
            if not (rest[3:4].islower() and rest[3:4].isascii()):
                return "Mon", 3
        if rest.startswith("MST"):
            return "MST", 3
    elif c == "0":
        if len(rest) >= 2 and "1" <= rest[1] <= "6":
            return rest[:2], 2
        if rest.startswith("002"):
            return "002", 3
    elif c == "1":
        return ("15", 2) if rest.startswith("15") else ("1", 1)
    elif c == "2":
        return ("2006", 4) if rest.startswith("2006") else ("2", 1)
    elif c == "_":
        if rest.startswith("_2"):
            if rest.startswith("_2006"):
                return None  # a literal "_" before the year
            return "_2", 2
        if rest.startswith("__2"):
            return "__2", 3
    elif c in "345":
        return c, 1
    elif c == "P" and rest.startswith("PM"):
        return "PM", 2
    elif c == "p" and rest.startswith("pm"):
        return "pm", 2
    elif c in "-Z":
        for chunk in _TZ_CHUNKS:
            if rest.startswith(chunk):
                return chunk, len(chunk)
    elif c in ".," and len(rest) > 1 and rest[1] in "09":
        j = 1
        while j < len(rest) and rest[j] == rest[1]:
            j += 1
        if not (j < len(rest) and rest[j].isdigit()):
            return rest[:j], j
    return None


def _zone_offset(t: datetime, chunk: str) -> str:
    offset = _offset_seconds(t)
    if offset == 0 and chunk[0] == "Z":
        return "Z"
    sign = "-" if offset < 0 else "+"
    offset = abs(offset)
    zone = offset // 60
    out = f"{sign}{zone // 60:02d}"
    if ":" in chunk:
        out += ":"
    if chunk not in ("-07", "Z07"):
        out += f"{zone % 60:02d}"
    if chunk in ("-070000", "-07:00:00", "Z070000", "Z07:00:00"):
        out += (":" if chunk.count(":") == 2 else "") + f"{offset % 60:02d}"
    return out


def _format_chunk(t: datetime, chunk: str) -> str:
    hour12 = t.hour % 12 or 12
    if chunk == "January":
        return _LONG_MONTHS[t.month - 1]
    if chunk == "Jan":
        return _LONG_MONTHS[t.month - 1][:3]
    if chunk == "Monday":
        return _LONG_DAYS[_weekday(t)]
    if chunk == "Mon":
        return _LONG_DAYS[_weekday(t)][:3]
    if chunk == "MST":
        name = zone_name(t)
        if name:
            return name
        offset = _offset_seconds(t) // 60
        return f"{'-' if offset < 0 else '+'}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    if chunk[0] in "-Z":
        return _zone_offset(t, chunk)
    if chunk[0] in ".,":
        digits = f"{t.microsecond * 1000:09d}"[: len(chunk) - 1]
        if chunk[1] == "9":
            digits = digits.rstrip("0")
            return chunk[0] + digits if digits else ""
        return chunk[0] + digits
    yday = t.timetuple().tm_yday
    return {
        "2006": f"{t.year:04d}",
        "06": f"{t.year % 100:02d}",
        "1": str(t.month),
        "01": f"{t.month:02d}",
        "2": str(t.day),
        "02": f"{t.day:02d}",
        "_2": f"{t.day:2d}",
        "__2": f"{yday:3d}",
        "002": f"{yday:03d}",
        "15": f"{t.hour:02d}",
        "3": str(hour12),
        "03": f"{hour12:02d}",
        "4": str(t.minute),
        "04": f"{t.minute:02d}",
        "5": str(t.second),
        "05": f"{t.second:02d}",
        "PM": "PM" if t.hour >= 12 else "AM",
        "pm": "pm" if t.hour >= 12 else "am",
    }[chunk]


def _aware(t: date | datetime) -> datetime:
    """Naive times and plain dates are taken as UTC (never as local time)."""
    if not isinstance(t, datetime):
        t = datetime.combine(t, time())
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def go_format(t: date | datetime, layout: str) -> str:
    """Go's `time.Time.Format` (a template's `.Date.Format`): English names."""
    t = _aware(t)
    out: list[str] = []
    i = 0
    while i < len(layout):
        found = _next_chunk(layout, i)
        if found is None:
            out.append(layout[i])
            i += 1
        else:
            chunk, width = found
            out.append(_format_chunk(t, chunk))
            i += width
    return "".join(out)


def rfc3339(t: date | datetime) -> str:
    """Go's time.RFC3339 ("2006-01-02T15:04:05Z07:00"), as in sitemaps and Atom."""
    return go_format(t, "2006-01-02T15:04:05Z07:00")


def rfc1123z(t: date | datetime) -> str:
    """Go's time.RFC1123Z ("Mon, 02 Jan 2006 15:04:05 -0700"), as in RSS."""
    return go_format(t, "Mon, 02 Jan 2006 15:04:05 -0700")


# --- CLDR, read like Hugo's locale library ------------------------------------------------
@cache
def _raw_locale(name: str) -> dict[str, Any] | None:
    """One locale's own CLDR data (no inheritance, aliases left unresolved)."""
    from babel import localedata

    if not localedata.exists(name):
        return None
    with open(localedata.resolve_locale_filename(name), "rb") as f:
        return pickle.load(f)


def inherited(locale: str, key: str) -> Any:
    """A CLDR locale's top-level `key` (e.g. "plural_form") from the locale or the nearest parent
    that has it, as Babel's merged data gives it, without merging all of the locale's data."""
    for data in _chain(locale):
        if key in data:
            return data[key]
    return None


def _parent(name: str) -> str | None:
    from babel import localedata
    from babel.core import get_global

    if name == "root":
        return None
    parent = get_global("parent_exceptions").get(name)
    if parent:
        return parent
    non_likely_script = getattr(localedata, "_is_non_likely_script", None)
    if non_likely_script is not None and non_likely_script(name):
        return "root"  # e.g. zh_Hant does not inherit from zh
    return name.rsplit("_", 1)[0] if "_" in name else "root"


@cache
def _chain(name: str) -> tuple[dict[str, Any], ...]:
    chain: list[dict[str, Any]] = []
    current: str | None = name
    while current:
        data = _raw_locale(current)
        if data is not None:
            chain.append(data)
        current = _parent(current)
    return tuple(chain)


_MISSING = object()


def _walk(data: Any, path: tuple[Any, ...]) -> Any:
    """The value at `path`, None when absent, _MISSING when an alias (which
    Hugo's library does not follow) is on the way."""
    for key in path:
        if not isinstance(data, dict):
            return _MISSING
        if key not in data:
            return None
        data = data[key]
    return data


def _lookup(chain: tuple[dict[str, Any], ...], *path: Any) -> Any:
    """First value along the inheritance chain, None past an alias."""
    for data in chain:
        node = _walk(data, path)
        if node is _MISSING:
            return None
        if isinstance(node, (str, dict)) or hasattr(node, "pattern"):
            return node
        if node is not None:  # an alias object
            return None
    return None


def _names(chain: tuple[dict[str, Any], ...], kind: str, width: str, keys: range) -> tuple[str, ...]:
    """Month (1..12) or day (0=Monday..6) names, merged key by key along the
    chain; a name first met as an alias (ja's short months) stays empty."""
    out = []
    for key in keys:
        value = ""
        for data in chain:
            node = _walk(data, (kind, "format", width))
            if node is None:
                continue
            if not isinstance(node, dict):
                break
            if key in node:
                value = node[key]
                break
        out.append(value)
    return tuple(out)


@cache
def _known_locales() -> dict[str, str]:
    from babel import localedata

    return {name.lower(): name for name in localedata.locale_identifiers()}


def resolve_locale(*candidates: str) -> str:
    """The CLDR locale Hugo formats dates with: the first candidate that *is*
    a CLDR locale id (any case, `-` or `_`; no likely-subtag guessing, so
    "zh-CN" and "zh-TW" are not, "zh-Hans-CN" and "ja-JP" are), else English.
    Hugo tries the language's `locale` (or `languageCode`), then the
    language key, then `defaultContentLanguage`."""
    known = _known_locales()
    for candidate in candidates:
        name = known.get(candidate.strip().replace("-", "_").lower()) if candidate else None
        if name:
            return name
    return "en"


class _LocaleData:
    def __init__(self, key: str):
        chain = _chain(key)
        self.months_wide = _names(chain, "months", "wide", range(1, 13))
        self.months_abbr = _names(chain, "months", "abbreviated", range(1, 13))
        # Babel numbers days from Monday; Go from Sunday.
        wide = _names(chain, "days", "wide", range(7))
        abbr = _names(chain, "days", "abbreviated", range(7))
        self.days_wide = (wide[6],) + wide[:6]
        self.days_abbr = (abbr[6],) + abbr[:6]
        self.patterns: dict[str, str] = {}
        for kind in ("date", "time"):
            for length in ("full", "long", "medium", "short"):
                value = _lookup(chain, f"{kind}_formats", length)
                pattern = getattr(value, "pattern", value) or ""
                if kind == "date" and length == "short":
                    pattern = _two_digit_year(pattern)
                self.patterns[f"{kind}_{length}"] = pattern


@cache
def _locale_data(locale: str) -> _LocaleData:
    return _LocaleData(resolve_locale(locale))


def _two_digit_year(pattern: str) -> str:
    """Hugo's library prints short dates with two-digit years ('y' -> 'yy')."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            j = pattern.find("'", i + 1)
            j = len(pattern) if j < 0 else j + 1
            out.append(pattern[i:j])
            i = j
            continue
        if c == "y":
            j = i
            while j < len(pattern) and pattern[j] == "y":
                j += 1
            out.append("yy" if j - i == 1 else pattern[i:j])
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _cldr_format(t: datetime, pattern: str, data: _LocaleData) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            i += 1
            if i < len(pattern) and pattern[i] == "'":
                out.append("'")
                i += 1
                continue
            j = pattern.find("'", i)
            j = len(pattern) if j < 0 else j
            out.append(pattern[i:j])
            i = j + 1
            continue
        if not (c.isascii() and c.isalpha()):
            out.append(c)
            i += 1
            continue
        j = i
        while j < len(pattern) and pattern[j] == c:
            j += 1
        n = j - i
        i = j
        hour12 = t.hour % 12 or 12
        if c == "y":
            out.append(f"{t.year % 100:02d}" if n == 2 else str(t.year))
        elif c == "M":
            out.append(
                data.months_wide[t.month - 1]
                if n >= 4
                else data.months_abbr[t.month - 1]
                if n == 3
                else f"{t.month:02d}"
                if n == 2
                else str(t.month)
            )
        elif c == "d":
            out.append(f"{t.day:02d}" if n >= 2 else str(t.day))
        elif c == "E":
            out.append(data.days_wide[_weekday(t)] if n >= 4 else data.days_abbr[_weekday(t)])
        elif c in "Hhms":
            value = {"H": t.hour, "h": hour12, "m": t.minute, "s": t.second}[c]
            out.append(f"{value:02d}" if n >= 2 else str(value))
        elif c == "a":
            out.append("am" if t.hour < 12 else "pm")
        elif c == "z":
            # Long names need a named zone, which hugo_format never has.
            out.append(zone_name(t))
        else:
            out.append(c * n)
    return "".join(out)


def hugo_format(t: date | datetime, layout: str, locale: str = "en") -> str:
    """Hugo's `time.Format LAYOUT T` in `locale` (see resolve_locale for
    how Hugo picks it; an unknown id formats in English)."""
    if not layout:
        return ""
    # Hugo passes the time through an RFC 3339 string first: zone names
    # (other than UTC) and fractions of a second are lost.
    t = _bare_offset(_aware(t).replace(microsecond=0))
    data = _locale_data(locale)
    if layout[0] == ":" and layout[1:].lower() in data.patterns:
        return _cldr_format(t, data.patterns[layout[1:].lower()], data)
    s = go_format(t, layout)
    month, day = t.month - 1, _weekday(t)
    if "January" in layout:
        s = s.replace(_LONG_MONTHS[month], data.months_wide[month])
    elif "Jan" in layout:
        s = s.replace(_LONG_MONTHS[month][:3], data.months_abbr[month])
    if "Monday" in layout:
        s = s.replace(_LONG_DAYS[day], data.days_wide[day])
    elif "Mon" in layout:
        s = s.replace(_LONG_DAYS[day][:3], data.days_abbr[day])
    return s


# --- front matter dates -----------------------------------------------------------------------
# Hugo's layouts with English month names (Go's RFC1123Z, RFC822Z, "02 Jan 2006"); ISO 8601 is tried first.
_NAMED_LAYOUTS = ("%a, %d %b %Y %H:%M:%S %z", "%d %b %y %H:%M %z", "%d %b %Y")


def hugo_time(value: str | date | datetime, default_tz: tzinfo = UTC) -> datetime:
    """A front matter date as Hugo holds it: a date, or a time without an
    offset, is in the site's time zone (`timeZone`, UTC by default) and keeps
    its name ("JST"); an explicit offset stays a bare offset without a name,
    except a zero offset, which is UTC. Raises ValueError for anything else."""
    if isinstance(value, str):
        value = _parse_time(value.strip())
    if not isinstance(value, date):
        raise ValueError(f"not a date: {value!r}")
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        return value.replace(tzinfo=default_tz)
    return _bare_offset(value)


def _parse_time(text: str) -> datetime | date:
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    for layout in _NAMED_LAYOUTS:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def _bare_offset(t: datetime) -> datetime:
    offset = t.utcoffset() or timedelta(0)
    return t.astimezone(UTC if offset == timedelta(0) else timezone(offset))


# The name the page assembly uses for Hugo's `time.Format`.
format_date = hugo_format
