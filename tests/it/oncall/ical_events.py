"""Reads an iCalendar file with the independent Python `icalendar` parser,
as a calendar application would, and prints its events as JSON.

Used by tests/it/oncall.rs, which compares every event with what
`liveops oncall who` says at its start and just before its end.
Usage: ical_events.py FILE.ics
"""

import json
import sys
from datetime import timedelta, timezone

import icalendar

STAMP = "%Y-%m-%dT%H:%M:%SZ"


def utc(value):
    return value.astimezone(timezone.utc)


with open(sys.argv[1], "rb") as f:
    calendar = icalendar.Calendar.from_ical(f.read())

events = []
for event in calendar.walk("VEVENT"):
    start = utc(event.decoded("DTSTART"))
    end = utc(event.decoded("DTEND"))
    events.append(
        {
            "uid": str(event["UID"]),
            "dtstamp": utc(event.decoded("DTSTAMP")).strftime(STAMP),
            "summary": str(event["SUMMARY"]),
            "description": str(event.get("DESCRIPTION", "")),
            "start": start.strftime(STAMP),
            "end": end.strftime(STAMP),
            "last_second": (end - timedelta(seconds=1)).strftime(STAMP),
        }
    )
print(json.dumps({"version": str(calendar["VERSION"]), "events": events}))
