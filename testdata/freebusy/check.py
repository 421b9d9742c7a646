#!/usr/bin/python3
"""Recompute the free-busy golden cases with an implementation independent of calbolt.

Run from the repository root with Debian's Python (python3-icalendar 4.0,
python3-recurring-ical-events 2.0, python3-dateutil):

    /usr/bin/python3 testdata/freebusy/check.py [case ...]

It prints each case that disagrees with its .golden file and exits 1 if any
does. recurring-ical-events only supplies the recurrence instants; what it
gets wrong or lacks is redone here: wall times are resolved with zoneinfo
and fold=0 (RFC 5545 3.3.5: a skipped time takes the offset before the gap,
a repeated one its first occurrence), DURATION days are nominal, and
RANGE=THISANDFUTURE overrides are applied. The free-busy rules (TRANSP,
STATUS, PARTSTAT, VFREEBUSY, VAVAILABILITY by priority, type precedence)
are coded from RFC 4791 7.10 and RFC 7953 4, then evaluated on every
elementary interval between two boundaries.
"""

import datetime as dt
import glob
import os
import sys
import zoneinfo

import icalendar
import recurring_ical_events

UTC = dt.timezone.utc
HERE = os.path.dirname(os.path.abspath(__file__))
RANK = {"BUSY-TENTATIVE": 1, "BUSY-UNAVAILABLE": 2, "BUSY": 3}
NAME = {v: k for k, v in RANK.items()}
WINDOWS = {"W. Europe Standard Time": "Europe/Berlin", "Eastern Standard Time": "America/New_York"}


def fbtype(v):
    v = (v or "BUSY").strip().upper()
    if v == "FREE":
        return 0
    return RANK.get(v, 3)  # unknown values are BUSY (RFC 5545 3.2.9)


def utc(s):
    return dt.datetime.strptime(s, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def zone_of(d, floating):
    tz = d.tzinfo
    if tz is None:
        return floating
    name = getattr(tz, "zone", None) or str(tz)
    name = WINDOWS.get(name, name)
    if name == "UTC":
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except Exception:
        return None  # a zone built from a VTIMEZONE: keep its own offset


def resolve(d, floating):
    """The instant of a DATE or DATE-TIME value read per RFC 5545."""
    if not isinstance(d, dt.datetime):
        d = dt.datetime(d.year, d.month, d.day)
        return d.replace(tzinfo=floating, fold=0).astimezone(UTC)
    z = zone_of(d, floating)
    if z is None:
        return d.astimezone(UTC)
    return d.replace(tzinfo=None).replace(tzinfo=z, fold=0).astimezone(UTC)


def add_nominal(d, delta, floating):
    """d + delta, days in the wall clock of d's zone and the rest exactly."""
    days = dt.timedelta(days=delta.days)
    rest = delta - days
    if isinstance(d, dt.datetime):
        wall = d + days  # pytz/aware arithmetic keeps the wall clock fields
    else:
        wall = d + days
    return resolve(wall, floating) + rest


def span(c, floating, orig=None):
    """Start and end instants of one event instance as recurring-ical-events
    gives it; orig is the component it comes from (the library adds a DTEND
    to instances of components that have none)."""
    if orig is None:
        orig = c
    s = c["DTSTART"].dt
    start = resolve(s, floating)
    if "DURATION" in orig:
        return start, add_nominal(s, orig["DURATION"].dt, floating)
    if "DTEND" in orig:
        e = c["DTEND"].dt
        if not isinstance(s, dt.datetime):
            return start, resolve(e, floating)
        return start, start + (resolve(e, floating) - start)
    if not isinstance(s, dt.datetime):
        return start, add_nominal(s, dt.timedelta(days=1), floating)
    return start, start


def event_type(c, addresses):
    if str(c.get("TRANSP", "")).strip().upper() == "TRANSPARENT":
        return 0
    status = str(c.get("STATUS", "")).strip().upper()
    if status == "CANCELLED":
        return 0
    t = 1 if status == "TENTATIVE" else 3
    atts = c.get("ATTENDEE", [])
    if not isinstance(atts, list):
        atts = [atts]
    for a in atts:
        if str(a).strip().lower() in addresses:
            ps = str(a.params.get("PARTSTAT", "")).upper()
            if ps == "DECLINED":
                return 0
            if ps == "TENTATIVE":
                t = 1
    return t


def futures(cal, floating):
    """THISANDFUTURE overrides per UID: (rid instant, rid wall, component)."""
    out = {}
    for c in cal.walk("VEVENT"):
        rid = c.get("RECURRENCE-ID")
        if rid is not None and str(rid.params.get("RANGE", "")).upper() == "THISANDFUTURE":
            out.setdefault(str(c["UID"]), []).append((resolve(rid.dt, floating), rid.dt, c))
    for v in out.values():
        v.sort(key=lambda x: x[0])
    return out


def instances(cal, ws, we, floating):
    """(start, end, component) of each VEVENT instance, THISANDFUTURE applied."""
    fut = futures(cal, floating)
    out = []
    origs = {}
    for c in cal.walk("VEVENT"):
        rid = c.get("RECURRENCE-ID")
        origs[(str(c["UID"]), resolve(rid.dt, floating) if rid is not None else None)] = c
        # recurring-ical-events 2.0 cannot read RDATE;VALUE=PERIOD: take
        # those values out and make their instances here.
        rdates = c.get("RDATE", [])
        if not isinstance(rdates, list):
            rdates = [rdates]
        keep = []
        for r in rdates:
            if str(r.params.get("VALUE", "")).upper() == "PERIOD":
                for v in r.dts:
                    a, b = v.dt
                    b = a + b if isinstance(b, dt.timedelta) else b
                    out.append((resolve(a, floating), resolve(b, floating), c))
            else:
                keep.append(r)
        if len(keep) != len(rdates):
            del c["RDATE"]
            for r in keep:
                c.add("RDATE", r)
    pad = dt.timedelta(days=40)
    for c in recurring_ical_events.of(cal).between(ws - pad, we + pad):
        rid = c.get("RECURRENCE-ID")
        orig = origs.get((str(c["UID"]), resolve(rid.dt, floating) if rid is not None else None))
        start, end = span(c, floating, orig)
        f = None
        if c.get("RECURRENCE-ID") is None:
            for rid_abs, rid_wall, fc in fut.get(str(c["UID"]), []):
                if rid_abs < start:
                    f = (rid_wall, fc)
        if f is not None:
            rid_wall, fc = f
            shift = fc["DTSTART"].dt.replace(tzinfo=None) - rid_wall.replace(tzinfo=None)
            moved = c["DTSTART"].dt + shift
            fstart, fend = span(fc, floating)
            start = resolve(moved, floating)
            end = start + (fend - fstart)
            c = fc
        out.append((start, end, c))
    return out


def expand_available(cal, vav, ws, we, floating):
    sub = icalendar.Calendar()
    for tz in cal.walk("VTIMEZONE"):
        sub.add_component(tz)
    for a in vav.subcomponents:
        if a.name == "AVAILABLE":
            ev = icalendar.Event()
            for k, v in a.items():
                ev[k] = v
            sub.add_component(ev)
    return [(s, e) for s, e, _ in instances(sub, ws, we, floating)]


def compute(path):
    text = open(path).read()
    # icalendar 4.0 reads a FREEBUSY value list as one bad PERIOD: give it
    # one property per value, which means the same (RFC 5545 3.8.2.6).
    lines = []
    for line in text.split("\n"):
        if line.startswith("FREEBUSY") and "," in line:
            head, _, vals = line.partition(":")
            lines += [head + ":" + v for v in vals.split(",")]
        else:
            lines.append(line)
    text = "\n".join(lines)
    cals = icalendar.Calendar.from_ical(text, multiple=True)
    first = cals[0]
    ws, we = (utc(x) for x in str(first["X-CALBOLT-WINDOW"]).split("/"))
    floating = UTC
    if "X-CALBOLT-FLOATING" in first:
        floating = zoneinfo.ZoneInfo(str(first["X-CALBOLT-FLOATING"]))
    addr = first.get("X-CALBOLT-ADDRESS", [])
    if not isinstance(addr, list):
        addr = [addr]
    addresses = {str(a).strip().lower() for a in addr}

    periods = []  # (start, end, rank)
    avails = []  # (rank of priority, start, end, busy rank, [available spans])
    for cal in cals:
        for s, e, c in instances(cal, ws, we, floating):
            t = event_type(c, addresses)
            if t and e > s:
                periods.append((s, e, t))
        for fb in cal.walk("VFREEBUSY"):
            props = fb.get("FREEBUSY", [])
            if not isinstance(props, list):
                props = [props]
            for p in props:
                t = fbtype(p.params.get("FBTYPE"))
                if not t:
                    continue
                periods.append((p.start.astimezone(UTC), p.end.astimezone(UTC), t))
        for vav in cal.walk("VAVAILABILITY"):
            prio = int(str(vav.get("PRIORITY", "0")))
            order = 0 if prio == 0 else 10 - prio
            s = resolve(vav["DTSTART"].dt, floating) if "DTSTART" in vav else None
            e = None
            if "DTEND" in vav:
                e = resolve(vav["DTEND"].dt, floating)
            elif "DURATION" in vav:
                e = s + vav["DURATION"].dt
            busy = fbtype(str(vav.get("BUSYTYPE", "BUSY-UNAVAILABLE")))
            avails.append((order, s, e, busy, expand_available(cal, vav, ws, we, floating)))

    bounds = {ws, we}
    for s, e, _ in periods:
        bounds |= {s, e}
    for _, s, e, _, av in avails:
        bounds |= {x for x in (s, e) if x is not None}
        for a, b in av:
            bounds |= {a, b}
    pts = sorted(b for b in bounds if ws <= b <= we)
    out = []
    for a, b in zip(pts, pts[1:]):
        m = a + (b - a) / 2
        t = 0
        for order in sorted({x[0] for x in avails}):
            group = [x for x in avails if x[0] == order]
            inside = [x for x in group if (x[1] is None or x[1] <= m) and (x[2] is None or m < x[2])]
            for x in inside:
                t = x[3]
            for x in inside:
                if any(s <= m < e for s, e in x[4]):
                    t = 0
        for s, e, pt in periods:
            if s <= m < e:
                t = max(t, pt)
        if not t:
            continue
        if out and out[-1][1] == a and out[-1][2] == t:
            out[-1][1] = b
        else:
            out.append([a, b, t])
    return ["%s/%s %s" % (s.strftime("%Y%m%dT%H%M%SZ"), e.strftime("%Y%m%dT%H%M%SZ"), NAME[t]) for s, e, t in out]


def main():
    names = sys.argv[1:] or sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(HERE, "*.ics")))
    bad = 0
    for name in names:
        got = compute(os.path.join(HERE, name + ".ics"))
        want = open(os.path.join(HERE, name + ".golden")).read().split("\n")
        want = [w for w in want if w]
        if got != want:
            bad += 1
            print("%s: check.py disagrees with the golden file" % name)
            print("  check.py:\n    " + "\n    ".join(got))
            print("  golden:\n    " + "\n    ".join(want))
    print("%d cases, %d disagree" % (len(names), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
