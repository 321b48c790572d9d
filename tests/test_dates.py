"""Unit tests of execblog.hugo.dates. Every expected string was printed by Hugo
0.168.0: `time.Format LAYOUT .Date` (localized) and `.Date.Format LAYOUT`
(Go's, never localized), for front matter dates and `time.AsTime` values, in
sites whose language `locale` is the one given."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from execblog.hugo.dates import UTC, go_format, hugo_format, hugo_time, resolve_locale, rfc1123z, rfc3339, zone_name

# (time, layout, locale, what Hugo's time.Format printed)
HUGO_FORMAT_CASES = [
    ("2025-04-13T10:00:00+09:00", "January 2, 2006", "ja", "4月 13, 2025"),
    ("2025-04-13T10:00:00+09:00", "Jan 2, 2006", "ja", " 13, 2025"),
    ("2025-04-13T10:00:00+09:00", "Monday, January 2, 2006", "ja", "日曜日, 4月 13, 2025"),
    ("2025-04-13T10:00:00+09:00", "Mon Jan 2 2006", "ja", "日  13 2025"),
    ("2025-04-13T10:00:00+09:00", "3:04 PM MST", "ja", "10:00 AM +0900"),
    ("2025-04-13T10:00:00+09:00", "3:04pm", "ja", "10:00am"),
    ("2025-04-13T10:00:00+09:00", "January Jan Monday Mon", "ja", "4月 Apr 日曜日 Sun"),
    ("2025-04-13T10:00:00+09:00", "_2 Jan 06 15:04:05.000 MST", "ja", "13  25 10:00:00.000 +0900"),
    ("2025-04-13T10:00:00+09:00", ":date_full", "ja", "2025年4月13日日曜日"),
    ("2025-04-13T10:00:00+09:00", ":DATE_LONG", "ja", "2025年4月13日"),
    ("2025-04-13T10:00:00+09:00", ":date_medium", "ja", "2025/04/13"),
    ("2025-04-13T10:00:00+09:00", ":date_short", "ja", "25/04/13"),
    ("2025-04-13T10:00:00+09:00", ":time_full", "ja", "10時00分00秒 "),
    ("2025-04-13T10:00:00+09:00", ":time_long", "ja", "10:00:00 "),
    ("2025-04-13T10:00:00+09:00", ":time_medium", "ja", "10:00:00"),
    ("2025-04-13T10:00:00+09:00", ":time_short", "ja", "10:00"),
    ("2025-04-13T10:00:00+09:00", "January 2, 2006", "en", "April 13, 2025"),
    ("2025-04-13T10:00:00+09:00", "Jan 2, 2006", "en", "Apr 13, 2025"),
    ("2025-04-13T10:00:00+09:00", "Monday, January 2, 2006", "en", "Sunday, April 13, 2025"),
    ("2025-04-13T10:00:00+09:00", "Mon Jan 2 2006", "en", "Sun Apr 13 2025"),
    ("2025-04-13T10:00:00+09:00", "3:04 PM MST", "en", "10:00 AM +0900"),
    ("2025-04-13T10:00:00+09:00", "3:04pm", "en", "10:00am"),
    ("2025-04-13T10:00:00+09:00", "January Jan Monday Mon", "en", "April Apr Sunday Sun"),
    ("2025-04-13T10:00:00+09:00", "_2 Jan 06 15:04:05.000 MST", "en", "13 Apr 25 10:00:00.000 +0900"),
    ("2025-04-13T10:00:00+09:00", ":date_full", "en", "Sunday, April 13, 2025"),
    ("2025-04-13T10:00:00+09:00", ":DATE_LONG", "en", "April 13, 2025"),
    ("2025-04-13T10:00:00+09:00", ":date_medium", "en", "Apr 13, 2025"),
    ("2025-04-13T10:00:00+09:00", ":date_short", "en", "4/13/25"),
    ("2025-04-13T10:00:00+09:00", ":time_full", "en", "10:00:00\u202fam "),
    ("2025-04-13T10:00:00+09:00", ":time_long", "en", "10:00:00\u202fam "),
    ("2025-04-13T10:00:00+09:00", ":time_medium", "en", "10:00:00\u202fam"),
    ("2025-04-13T10:00:00+09:00", ":time_short", "en", "10:00\u202fam"),
    ("2025-06-30T12:30:00-07:00", ":time_full", "ja", "12時30分00秒 "),
    ("2025-06-30T12:30:00-07:00", "_2 Jan 06 15:04:05.000 MST", "en", "30 Jun 25 12:30:00.000 -0700"),
    ("2025-05-03", ":date_short", "en", "5/3/25"),
    ("2025-05-03", "Jan 2, 2006", "ja", " 3, 2025"),
    ("2003-02-09T13:01:02+05:30", ":time_medium", "ja", "13:01:02"),
    ("2025-06-30T12:30:00-07:00", ":date_medium", "en", "Jun 30, 2025"),
    ("2024-12-31T00:00:00", ":DATE_LONG", "en", "December 31, 2024"),
    ("2025-09-17T08:00:00+02:00", "January 2, 2006", "en", "September 17, 2025"),
    ("2025-06-30T12:30:00-07:00", "3:04 PM MST", "en", "12:30 PM -0700"),
    ("2024-12-31T00:00:00", "January 2, 2006", "ja", "12月 31, 2024"),
    ("2025-06-30T12:30:00-07:00", ":date_short", "en", "6/30/25"),
    ("2025-01-06T23:05:09Z", "Mon Jan 2 2006", "ja", "月  6 2025"),
    ("2024-12-31T00:00:00", ":date_full", "en", "Tuesday, December 31, 2024"),
    ("2025-09-17T08:00:00+02:00", "Monday, January 2, 2006", "ja", "水曜日, 9月 17, 2025"),
    ("2025-05-03", ":time_long", "en", "12:00:00\u202fam UTC"),
    ("2025-06-30T12:30:00-07:00", ":date_short", "ja", "25/06/30"),
    ("2025-06-30T12:30:00-07:00", "Jan 2, 2006", "ja", " 30, 2025"),
    ("2003-02-09T13:01:02+05:30", "Mon Jan 2 2006", "en", "Sun Feb 9 2003"),
    ("2025-05-03", ":date_medium", "en", "May 3, 2025"),
    ("2025-05-03", ":time_full", "en", "12:00:00\u202fam UTC"),
    ("2003-02-09T13:01:02+05:30", ":DATE_LONG", "en", "February 9, 2003"),
    ("2025-01-06T23:05:09Z", "3:04pm", "en", "11:05pm"),
    ("2025-09-17T08:00:00+02:00", "Mon Jan 2 2006", "en", "Wed Sep 17 2025"),
    ("2025-05-03", "January Jan Monday Mon", "ja", "5月 5月 土曜日 Sat"),
    ("2003-02-09T13:01:02+05:30", "January 2, 2006", "en", "February 9, 2003"),
    ("2025-09-17T08:00:00+02:00", "Monday, January 2, 2006", "en", "Wednesday, September 17, 2025"),
    ("2025-09-17T08:00:00+02:00", ":date_full", "en", "Wednesday, September 17, 2025"),
    ("2025-05-03", "3:04pm", "en", "12:00am"),
    ("2025-01-06T23:05:09Z", "Mon Jan 2 2006", "en", "Mon Jan 6 2025"),
    ("2003-02-09T13:01:02+05:30", "3:04 PM MST", "en", "1:01 PM +0530"),
]


@pytest.mark.parametrize(("value", "layout", "locale", "expected"), HUGO_FORMAT_CASES)
def test_hugo_format(value: str, layout: str, locale: str, expected: str):
    assert hugo_format(hugo_time(value), layout, locale) == expected


# Month and weekday names (layouts "January", "Jan", "Monday", "Mon" over a
# year and a week) and Hugo's CLDR layouts for 2025-04-13T15:04:05Z.
LOCALES: dict[str, dict[str, Any]] = {
    "de": {
        "months": [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        "mabbr": ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."],
        "days": ["Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
        "dabbr": ["So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."],
        "fmt": {
            ":date_full": "Sonntag, 13. April 2025",
            ":date_long": "13. April 2025",
            ":date_medium": "13.04.2025",
            ":date_short": "13.04.25",
            ":time_full": "15:04:05 UTC",
            ":time_long": "15:04:05 UTC",
            ":time_medium": "15:04:05",
            ":time_short": "15:04",
        },
    },
    "en": {
        "months": [
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
        ],
        "mabbr": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        "days": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        "dabbr": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
        "fmt": {
            ":date_full": "Sunday, April 13, 2025",
            ":date_long": "April 13, 2025",
            ":date_medium": "Apr 13, 2025",
            ":date_short": "4/13/25",
            ":time_full": "3:04:05\u202fpm UTC",
            ":time_long": "3:04:05\u202fpm UTC",
            ":time_medium": "3:04:05\u202fpm",
            ":time_short": "3:04\u202fpm",
        },
    },
    "en-GB": {
        "months": [
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
        ],
        "mabbr": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"],
        "days": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        "dabbr": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
        "fmt": {
            ":date_full": "Sunday, 13 April 2025",
            ":date_long": "13 April 2025",
            ":date_medium": "13 Apr 2025",
            ":date_short": "13/04/25",
            ":time_full": "15:04:05 UTC",
            ":time_long": "15:04:05 UTC",
            ":time_medium": "15:04:05",
            ":time_short": "15:04",
        },
    },
    "fr": {
        "months": [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        "mabbr": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "dabbr": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "fmt": {
            ":date_full": "dimanche 13 avril 2025",
            ":date_long": "13 avril 2025",
            ":date_medium": "13 avr. 2025",
            ":date_short": "13/04/25",
            ":time_full": "15:04:05 UTC",
            ":time_long": "15:04:05 UTC",
            ":time_medium": "15:04:05",
            ":time_short": "15:04",
        },
    },
    "ja": {
        "months": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
        "mabbr": ["", "", "", "", "", "", "", "", "", "", "", ""],
        "days": ["日曜日", "月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日"],
        "dabbr": ["日", "月", "火", "水", "木", "金", "土"],
        "fmt": {
            ":date_full": "2025年4月13日日曜日",
            ":date_long": "2025年4月13日",
            ":date_medium": "2025/04/13",
            ":date_short": "25/04/13",
            ":time_full": "15時04分05秒 UTC",
            ":time_long": "15:04:05 UTC",
            ":time_medium": "15:04:05",
            ":time_short": "15:04",
        },
    },
    "ko": {
        "months": ["1월", "2월", "3월", "4월", "5월", "6월", "7월", "8월", "9월", "10월", "11월", "12월"],
        "mabbr": ["", "", "", "", "", "", "", "", "", "", "", ""],
        "days": ["일요일", "월요일", "화요일", "수요일", "목요일", "금요일", "토요일"],
        "dabbr": ["일", "월", "화", "수", "목", "금", "토"],
        "fmt": {
            ":date_full": "2025년 4월 13일 일요일",
            ":date_long": "2025년 4월 13일",
            ":date_medium": "2025. 4. 13.",
            ":date_short": "25. 4. 13.",
            ":time_full": "pm 3시 4분 5초 UTC",
            ":time_long": "pm 3시 4분 5초 UTC",
            ":time_medium": "pm 3:04:05",
            ":time_short": "pm 3:04",
        },
    },
    # Configured as locale "zh-CN" under the language key "zh": not a CLDR id,
    # so Hugo used the key (see test_resolve_locale).
    "zh": {
        "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
        "mabbr": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "dabbr": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        "fmt": {
            ":date_full": "2025年4月13日星期日",
            ":date_long": "2025年4月13日",
            ":date_medium": "2025年4月13日",
            ":date_short": "25/4/13",
            ":time_full": "UTC 15:04:05",
            ":time_long": "UTC 15:04:05",
            ":time_medium": "15:04:05",
            ":time_short": "15:04",
        },
    },
}


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_locale_names_and_cldr_layouts(locale: str):
    data = LOCALES[locale]
    for month in range(12):
        t = hugo_time(f"2025-{month + 1:02d}-01T00:00:00Z")
        assert hugo_format(t, "January", locale) == data["months"][month]
        assert hugo_format(t, "Jan", locale) == data["mabbr"][month]
    for day in range(7):  # 2025-06-01 is a Sunday
        t = hugo_time(f"2025-06-{day + 1:02d}T00:00:00Z")
        assert hugo_format(t, "Monday", locale) == data["days"][day]
        assert hugo_format(t, "Mon", locale) == data["dabbr"][day]
    t = hugo_time("2025-04-13T15:04:05Z")
    for layout, expected in data["fmt"].items():
        assert hugo_format(t, layout, locale) == expected


def test_japanese_specifics():
    t = hugo_time("2025-04-13T10:00:00+09:00")
    assert hugo_format(t, "January 2, 2006", "ja") == "4月 13, 2025"
    assert hugo_format(t, ":date_long", "ja") == "2025年4月13日"
    # Hugo's ja data has no short month names: "Jan" prints as nothing.
    assert hugo_format(t, "Jan 2, 2006", "ja") == " 13, 2025"
    assert hugo_format(t, "3:04 PM", "ja") == "10:00 AM"  # AM/PM is never translated
    assert hugo_format(t, "Jan 2", "ja-JP") == " 13"


# (front matter date as written, site timeZone, Hugo's
#  [.Date.Format "2006-01-02T15:04:05.999999999 MST -07:00",
#   time.Format ":time_full" (ja), time.Format ":time_long" (ja),
#   .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700"])
FRONT_MATTER_DATES = [
    (
        "2025-04-13T10:00:00+09:00",
        "",
        ["2025-04-13T10:00:00 +0900 +09:00", "10時00分00秒 ", "10:00:00 ", "Sun, 13 Apr 2025 10:00:00 +0900"],
    ),
    (
        "2025-01-06T23:05:09Z",
        "",
        ["2025-01-06T23:05:09 UTC +00:00", "23時05分09秒 UTC", "23:05:09 UTC", "Mon, 06 Jan 2025 23:05:09 +0000"],
    ),
    (
        "2024-12-31T23:30:00",
        "",
        ["2024-12-31T23:30:00 UTC +00:00", "23時30分00秒 UTC", "23:30:00 UTC", "Tue, 31 Dec 2024 23:30:00 +0000"],
    ),
    (
        "2025-02-28",
        "",
        ["2025-02-28T00:00:00 UTC +00:00", "0時00分00秒 UTC", "0:00:00 UTC", "Fri, 28 Feb 2025 00:00:00 +0000"],
    ),
    (
        "2025-07-04T12:00:00+00:00",
        "",
        ["2025-07-04T12:00:00 UTC +00:00", "12時00分00秒 UTC", "12:00:00 UTC", "Fri, 04 Jul 2025 12:00:00 +0000"],
    ),
    (
        "2025-07-04T12:00:00-04:00",
        "",
        ["2025-07-04T12:00:00 -0400 -04:00", "12時00分00秒 ", "12:00:00 ", "Fri, 04 Jul 2025 12:00:00 -0400"],
    ),
    (
        "2025-01-04T12:00:00-05:00",
        "",
        ["2025-01-04T12:00:00 -0500 -05:00", "12時00分00秒 ", "12:00:00 ", "Sat, 04 Jan 2025 12:00:00 -0500"],
    ),
    (
        "2025-03-09T01:30:00",
        "",
        ["2025-03-09T01:30:00 UTC +00:00", "1時30分00秒 UTC", "1:30:00 UTC", "Sun, 09 Mar 2025 01:30:00 +0000"],
    ),
    (
        '"2025-05-05T05:05:05+09:00"',
        "",
        ["2025-05-05T05:05:05 +0900 +09:00", "5時05分05秒 ", "5:05:05 ", "Mon, 05 May 2025 05:05:05 +0900"],
    ),
    (
        "2025-05-05 05:05:05",
        "",
        ["2025-05-05T05:05:05 UTC +00:00", "5時05分05秒 UTC", "5:05:05 UTC", "Mon, 05 May 2025 05:05:05 +0000"],
    ),
    (
        "2025-06-01T10:00:00.123456+02:00",
        "",
        ["2025-06-01T10:00:00.123456 +0200 +02:00", "10時00分00秒 ", "10:00:00 ", "Sun, 01 Jun 2025 10:00:00 +0200"],
    ),
    (
        "2025-04-13T10:00:00+09:00",
        "Asia/Tokyo",
        ["2025-04-13T10:00:00 +0900 +09:00", "10時00分00秒 ", "10:00:00 ", "Sun, 13 Apr 2025 10:00:00 +0900"],
    ),
    (
        "2025-01-06T23:05:09Z",
        "Asia/Tokyo",
        ["2025-01-06T23:05:09 UTC +00:00", "23時05分09秒 UTC", "23:05:09 UTC", "Mon, 06 Jan 2025 23:05:09 +0000"],
    ),
    (
        "2024-12-31T23:30:00",
        "Asia/Tokyo",
        ["2024-12-31T23:30:00 JST +09:00", "23時30分00秒 ", "23:30:00 ", "Tue, 31 Dec 2024 23:30:00 +0900"],
    ),
    (
        "2025-02-28",
        "Asia/Tokyo",
        ["2025-02-28T00:00:00 JST +09:00", "0時00分00秒 ", "0:00:00 ", "Fri, 28 Feb 2025 00:00:00 +0900"],
    ),
    (
        "2025-07-04T12:00:00+00:00",
        "Asia/Tokyo",
        ["2025-07-04T12:00:00 UTC +00:00", "12時00分00秒 UTC", "12:00:00 UTC", "Fri, 04 Jul 2025 12:00:00 +0000"],
    ),
    (
        "2025-07-04T12:00:00-04:00",
        "Asia/Tokyo",
        ["2025-07-04T12:00:00 -0400 -04:00", "12時00分00秒 ", "12:00:00 ", "Fri, 04 Jul 2025 12:00:00 -0400"],
    ),
    (
        "2025-01-04T12:00:00-05:00",
        "Asia/Tokyo",
        ["2025-01-04T12:00:00 -0500 -05:00", "12時00分00秒 ", "12:00:00 ", "Sat, 04 Jan 2025 12:00:00 -0500"],
    ),
    (
        "2025-03-09T01:30:00",
        "Asia/Tokyo",
        ["2025-03-09T01:30:00 JST +09:00", "1時30分00秒 ", "1:30:00 ", "Sun, 09 Mar 2025 01:30:00 +0900"],
    ),
    (
        '"2025-05-05T05:05:05+09:00"',
        "Asia/Tokyo",
        ["2025-05-05T05:05:05 +0900 +09:00", "5時05分05秒 ", "5:05:05 ", "Mon, 05 May 2025 05:05:05 +0900"],
    ),
    (
        "2025-05-05 05:05:05",
        "Asia/Tokyo",
        ["2025-05-05T05:05:05 JST +09:00", "5時05分05秒 ", "5:05:05 ", "Mon, 05 May 2025 05:05:05 +0900"],
    ),
    (
        "2025-06-01T10:00:00.123456+02:00",
        "Asia/Tokyo",
        ["2025-06-01T10:00:00.123456 +0200 +02:00", "10時00分00秒 ", "10:00:00 ", "Sun, 01 Jun 2025 10:00:00 +0200"],
    ),
    (
        "2025-04-13T10:00:00+09:00",
        "America/New_York",
        ["2025-04-13T10:00:00 +0900 +09:00", "10時00分00秒 ", "10:00:00 ", "Sun, 13 Apr 2025 10:00:00 +0900"],
    ),
    (
        "2025-01-06T23:05:09Z",
        "America/New_York",
        ["2025-01-06T23:05:09 UTC +00:00", "23時05分09秒 UTC", "23:05:09 UTC", "Mon, 06 Jan 2025 23:05:09 +0000"],
    ),
    (
        "2024-12-31T23:30:00",
        "America/New_York",
        ["2024-12-31T23:30:00 EST -05:00", "23時30分00秒 ", "23:30:00 ", "Tue, 31 Dec 2024 23:30:00 -0500"],
    ),
    (
        "2025-02-28",
        "America/New_York",
        ["2025-02-28T00:00:00 EST -05:00", "0時00分00秒 ", "0:00:00 ", "Fri, 28 Feb 2025 00:00:00 -0500"],
    ),
    (
        "2025-07-04T12:00:00+00:00",
        "America/New_York",
        ["2025-07-04T12:00:00 UTC +00:00", "12時00分00秒 UTC", "12:00:00 UTC", "Fri, 04 Jul 2025 12:00:00 +0000"],
    ),
    (
        "2025-07-04T12:00:00-04:00",
        "America/New_York",
        ["2025-07-04T12:00:00 -0400 -04:00", "12時00分00秒 ", "12:00:00 ", "Fri, 04 Jul 2025 12:00:00 -0400"],
    ),
    (
        "2025-01-04T12:00:00-05:00",
        "America/New_York",
        ["2025-01-04T12:00:00 -0500 -05:00", "12時00分00秒 ", "12:00:00 ", "Sat, 04 Jan 2025 12:00:00 -0500"],
    ),
    (
        "2025-03-09T01:30:00",
        "America/New_York",
        ["2025-03-09T01:30:00 EST -05:00", "1時30分00秒 ", "1:30:00 ", "Sun, 09 Mar 2025 01:30:00 -0500"],
    ),
    (
        '"2025-05-05T05:05:05+09:00"',
        "America/New_York",
        ["2025-05-05T05:05:05 +0900 +09:00", "5時05分05秒 ", "5:05:05 ", "Mon, 05 May 2025 05:05:05 +0900"],
    ),
    (
        "2025-05-05 05:05:05",
        "America/New_York",
        ["2025-05-05T05:05:05 EDT -04:00", "5時05分05秒 ", "5:05:05 ", "Mon, 05 May 2025 05:05:05 -0400"],
    ),
    (
        "2025-06-01T10:00:00.123456+02:00",
        "America/New_York",
        ["2025-06-01T10:00:00.123456 +0200 +02:00", "10時00分00秒 ", "10:00:00 ", "Sun, 01 Jun 2025 10:00:00 +0200"],
    ),
]


@pytest.mark.parametrize(("written", "site_zone", "expected"), FRONT_MATTER_DATES)
def test_front_matter_dates(written: str, site_zone: str, expected: list[str]):
    value = yaml.safe_load(f"date: {written}")["date"]
    t = hugo_time(value, ZoneInfo(site_zone) if site_zone else UTC)
    assert [
        go_format(t, "2006-01-02T15:04:05.999999999 MST -07:00"),
        hugo_format(t, ":time_full", "ja"),
        hugo_format(t, ":time_long", "ja"),
        go_format(t, "Mon, 02 Jan 2006 15:04:05 -0700"),
    ] == expected


def test_go_layouts():
    t = datetime(2025, 1, 6, 23, 5, 9, 120000, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert go_format(t, "2006-01-02T15:04:05Z07:00") == "2025-01-06T23:05:09+05:30"
    assert go_format(t, "Mon Jan _2 15:04:05 MST 2006") == "Mon Jan  6 23:05:09 +0530 2025"
    assert go_format(t, "03:04:05.000 pm -07 Z0700 .999") == "11:05:09.120 pm +05 +0530 .12"
    assert go_format(t, "__2 002 06 1/2") == "  6 006 25 1/6"
    assert go_format(t, "Monday January Jan Mon") == "Monday January Jan Mon"
    assert go_format(t.astimezone(UTC), "15:04 MST Z07:00") == "17:35 UTC Z"
    assert go_format(t, "Janet Month") == "Janet Month"  # "Jan"/"Mon" before a lower-case letter are literal


def test_feed_layouts():
    t = hugo_time("2025-04-13T10:00:00+09:00")
    assert rfc3339(t) == "2025-04-13T10:00:00+09:00"
    assert rfc1123z(t) == "Sun, 13 Apr 2025 10:00:00 +0900"
    assert rfc3339(hugo_time("2025-02-28")) == "2025-02-28T00:00:00Z"


def test_zone_names():
    assert zone_name(hugo_time("2025-01-06T23:05:09Z")) == "UTC"
    assert zone_name(hugo_time("2025-04-13T10:00:00+09:00")) == ""
    assert zone_name(hugo_time("2024-12-31T23:30:00", ZoneInfo("Asia/Tokyo"))) == "JST"


@pytest.mark.parametrize(
    ("candidates", "resolved"),
    [
        # (language locale, language key, defaultContentLanguage) -> what Hugo used
        (("xx-YY", "ja", "ja"), "ja"),
        (("zh-CN", "zh", "ja"), "zh"),
        (("zh-CN", "zz", "ja"), "ja"),
        (("zh-CN", "l5", "l0"), "en"),
        (("zh-TW", "ko", "ja"), "ko"),
        (("fr-CA", "fr", "ja"), "fr_CA"),
        (("zh-Hant-TW", "l2", "l0"), "zh_Hant_TW"),
        (("ja-JP", "l15", "l0"), "ja_JP"),
        (("", "de", "ja"), "de"),
    ],
)
def test_resolve_locale(candidates: tuple[str, str, str], resolved: str):
    assert resolve_locale(*candidates) == resolved


def test_unknown_locale_formats_in_english():
    t = hugo_time("2025-04-13T15:04:05Z")
    assert hugo_format(t, ":date_full", resolve_locale("zh-CN", "l5", "l0")) == "Sunday, April 13, 2025"
    assert hugo_format(t, ":date_full", "zh-Hant") == "2025年4月13日 星期日"
