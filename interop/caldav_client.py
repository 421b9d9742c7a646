#!/usr/bin/python3
"""Drives calbolt with Debian's python3-caldav (0.11): what a Python CalDAV
client does, from discovery on the bare server URL to sync tokens and
free-busy (the free-busy-query REPORT and the scheduling outbox).

Run by interop/run.sh, which starts the server and sets CALBOLT_URL; users
alice/alicesecret and bob/bobsecret must exist. Raw requests (through the
library's own session) cover what the library does not expose: conditional
PUT/DELETE, the exact sync-collection delta, isolation between users.
"""

import datetime as dt
import logging
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urljoin, urlparse

import caldav
import requests
from caldav.elements.base import BaseElement
from caldav.lib import error
from caldav.lib.namespace import ns

from checks import BASE_URL, Suite, require

logging.basicConfig(level=logging.ERROR)

ALICE = ("alice", "alicesecret")
BOB = ("bob", "bobsecret")
UTC = dt.timezone.utc
RUN = uuid.uuid4().hex[:8]
DAV = "{DAV:}"
CAL = "{urn:ietf:params:xml:ns:caldav}"

suite = Suite("pycaldav")
st = {}  # state handed from one check to the next


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def path_of(url):
    """The decoded path of a URL or href, for comparing the library's URLs with the server's hrefs."""
    return unquote(urlparse(str(url)).path)


def uid(name):
    # An '@' in the UID ends up %-encoded in the URL the library PUTs to.
    return f"interop-{RUN}-{name}@calbolt.test"


def vcalendar(*components):
    return "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calbolt//interop//EN", *components, "END:VCALENDAR", ""]
    )


def vevent(u, *lines):
    return "\r\n".join(["BEGIN:VEVENT", f"UID:{u}", "DTSTAMP:20300101T000000Z", *lines, "END:VEVENT"])


def vtodo(u, *lines):
    return "\r\n".join(["BEGIN:VTODO", f"UID:{u}", "DTSTAMP:20300101T000000Z", *lines, "END:VTODO"])


BERLIN = "\r\n".join(
    [
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "TZNAME:CEST",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "TZNAME:CET",
        "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]
)

# The calendar's contents. 2030-01-07 is a Monday.
OBJECTS = {
    "simple": vcalendar(
        vevent(uid("simple"), "SUMMARY:Interop simple", "DTSTART:20300109T140000Z", "DTEND:20300109T150000Z")
    ),
    # Weekly on Mondays 09:00-10:00Z, ten instances 2030-01-07 .. 2030-03-11, 2030-01-28 excluded.
    "weekly": vcalendar(
        vevent(
            uid("weekly"),
            "SUMMARY:Interop weekly standup",
            "DTSTART:20300107T090000Z",
            "DTEND:20300107T100000Z",
            "RRULE:FREQ=WEEKLY;COUNT=10",
            "EXDATE:20300128T090000Z",
        )
    ),
    # 10:00 in Berlin (CET, +01:00) is 09:00Z.
    "berlin": vcalendar(
        BERLIN,
        vevent(
            uid("berlin"),
            "SUMMARY:Interop Berlin",
            "DTSTART;TZID=Europe/Berlin:20300115T100000",
            "DTEND;TZID=Europe/Berlin:20300115T110000",
        ),
    ),
    "allday": vcalendar(
        vevent(uid("allday"), "SUMMARY:Interop all day", "DTSTART;VALUE=DATE:20300120", "DTEND;VALUE=DATE:20300121")
    ),
}
TODOS = {
    "todo-open": vcalendar(vtodo(uid("todo-open"), "SUMMARY:Interop open task", "DUE:20300110T170000Z")),
    "todo-na": vcalendar(vtodo(uid("todo-na"), "SUMMARY:Interop needs action", "STATUS:NEEDS-ACTION")),
    "todo-done": vcalendar(
        vtodo(uid("todo-done"), "SUMMARY:Interop done task", "STATUS:COMPLETED", "COMPLETED:20300102T120000Z")
    ),
}


def client(user):
    return caldav.DAVClient(url=BASE_URL, username=user[0], password=user[1])


def raw(user, method, url, body=None, headers=None):
    """One request with Basic auth and no redirects; returns the requests.Response."""
    return requests.request(
        method,
        urljoin(BASE_URL, str(url)),
        data=body.encode() if isinstance(body, str) else body,
        headers=headers or {},
        auth=user,
        allow_redirects=False,
        timeout=30,
    )


def propfind(user, url, props, depth="0"):
    body = (
        '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop>{props}</D:prop></D:propfind>"
    )
    return raw(user, "PROPFIND", url, body, {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"})


def responses(xml_bytes):
    """Maps each DAV:response's decoded href path to (status text or None, the response element)."""
    out = {}
    root = ET.fromstring(xml_bytes)
    for r in root.findall(f"{DAV}response"):
        href = path_of(r.findtext(f"{DAV}href"))
        status = r.findtext(f"{DAV}status")
        out[href] = (status, r)
    return out, root


def summary_of(obj):
    return str(obj.icalendar_component.get("SUMMARY"))


def uids_of(objs):
    return {str(o.icalendar_component.get("UID")) for o in objs}


# ---- discovery ---------------------------------------------------------------


def check_healthz():
    r = requests.get(urljoin(BASE_URL, "/healthz"), timeout=10)
    assert r.status_code == 200, f"GET /healthz = {r.status_code}, want 200"


def check_unauthenticated():
    r = requests.request("PROPFIND", urljoin(BASE_URL, "/dav/calendars/alice/"), headers={"Depth": "0"}, timeout=10)
    assert r.status_code == 401, f"PROPFIND without credentials = {r.status_code}, want 401"
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.lower().startswith("basic"), f"WWW-Authenticate = {challenge!r}, want a Basic challenge"
    r = raw(("alice", "wrong"), "PROPFIND", "/dav/calendars/alice/", headers={"Depth": "0"})
    assert r.status_code == 401, f"PROPFIND with a wrong password = {r.status_code}, want 401"


def check_well_known():
    r = raw(ALICE, "GET", "/.well-known/caldav")
    assert r.status_code in (301, 302, 303, 307, 308), f"GET /.well-known/caldav = {r.status_code}, want a redirect"
    assert r.headers.get("Location"), "the redirect has no Location"


def check_principal():
    c = client(ALICE)
    st["client"] = c
    p = c.principal()  # PROPFIND current-user-principal on the bare URL
    assert path_of(p.url) == "/dav/principals/alice/", f"principal URL = {p.url}, want /dav/principals/alice/"
    st["principal"] = p


def check_root_href():
    # python-caldav's discovery starts with PROPFIND Depth 0 on the URL it was
    # given and looks for a response about that URL (it logs "path handling
    # problem" otherwise); so do DAVx5 and others (RFC 4918 §9.1).
    r = propfind(ALICE, "/", "<D:current-user-principal/>")
    assert r.status_code == 207, f"PROPFIND / = {r.status_code}, want 207"
    hrefs = sorted(responses(r.content)[0])
    assert hrefs == ["/"], f"PROPFIND / Depth 0 answered for {hrefs}, want ['/']"


def check_dav_header():
    c = require(st.get("client"), "client")
    assert c.check_dav_support(), "OPTIONS: no DAV header"
    assert c.check_cdav_support(), f"OPTIONS: DAV header {c.check_dav_support()!r} lacks calendar-access"


def check_home_set():
    p = require(st.get("principal"), "principal")
    home = p.calendar_home_set
    assert path_of(home.url) == "/dav/calendars/alice/", f"calendar-home-set = {home.url}, want /dav/calendars/alice/"


def check_user_address_set():
    p = require(st.get("principal"), "principal")
    addrs = p.calendar_user_address_set()
    assert any(str(a).lower().startswith("mailto:") for a in addrs), f"calendar-user-address-set = {addrs}, want a mailto:"


def check_list_calendars():
    p = require(st.get("principal"), "principal")
    cals = p.calendars()
    paths = [path_of(c.url) for c in cals]
    assert "/dav/calendars/alice/personal/" in paths, f"calendars() = {paths}, want alice's personal calendar"


# ---- collections -------------------------------------------------------------


def check_make_calendar():
    p = require(st.get("principal"), "principal")
    cal_id = f"interop-{RUN}"
    cal = p.make_calendar(name="Interop Test", cal_id=cal_id, supported_calendar_component_set=["VEVENT", "VTODO"])
    assert path_of(cal.url) == f"/dav/calendars/alice/{cal_id}/", f"new calendar at {cal.url}"
    st["cal"] = cal
    st["cal_path"] = path_of(cal.url)
    paths = [path_of(c.url) for c in p.calendars()]
    assert st["cal_path"] in paths, f"calendars() after MKCALENDAR = {paths}, want {st['cal_path']}"


def check_calendar_props():
    cal = require(st.get("cal"), "calendar")
    name = cal.get_display_name()
    assert name == "Interop Test", f"displayname = {name!r}, want 'Interop Test'"
    comps = sorted(cal.get_supported_components())
    assert comps == ["VEVENT", "VTODO"], f"supported-calendar-component-set = {comps}, want VEVENT and VTODO"
    r = propfind(ALICE, cal.url, "<D:resourcetype/><D:sync-token/><D:current-user-privilege-set/>")
    assert r.status_code == 207, f"PROPFIND = {r.status_code}"
    resps, _ = responses(r.content)
    assert st["cal_path"] in resps, f"PROPFIND answered for {sorted(resps)}, want {st['cal_path']}"
    _, resp = resps[st["cal_path"]]
    assert resp.find(f".//{DAV}resourcetype/{CAL}calendar") is not None, "resourcetype lacks C:calendar"
    assert (resp.findtext(f".//{DAV}sync-token") or "").strip(), "no DAV:sync-token on the calendar"


def check_mkcalendar_exists():
    cal = require(st.get("cal"), "calendar")
    r = raw(ALICE, "MKCALENDAR", cal.url)
    assert r.status_code in (403, 405, 409), f"MKCALENDAR on an existing calendar = {r.status_code}, want 405 (or 403/409)"


def check_proppatch_displayname():
    cal = require(st.get("cal"), "calendar")
    cal.set_properties([caldav.elements.dav.DisplayName("Interop Renamed")])
    name = cal.get_display_name()
    assert name == "Interop Renamed", f"displayname after PROPPATCH = {name!r}"


# ---- objects -----------------------------------------------------------------


def check_save_events():
    cal = require(st.get("cal"), "calendar")
    objs = {}
    for name, data in OBJECTS.items():
        objs[name] = cal.save_event(data)
    for name, data in TODOS.items():
        objs[name] = cal.save_todo(data)
    st["objs"] = objs
    for name, o in objs.items():
        r = raw(ALICE, "GET", o.url)
        assert r.status_code == 200, f"GET {name} = {r.status_code}"
        assert uid(name) in r.text, f"GET {name}: body lacks its UID"
        assert r.headers.get("ETag"), f"GET {name}: no ETag"
        ctype = r.headers.get("Content-Type", "")
        assert ctype.startswith("text/calendar"), f"GET {name}: Content-Type {ctype!r}"


def check_events_listing():
    cal = require(st.get("cal"), "calendar")
    require(st.get("objs"), "objects")
    got = uids_of(cal.events())
    want = {uid(n) for n in OBJECTS}
    assert got == want, f"events() UIDs = {sorted(got)}, want {sorted(want)}"


def search_uids(start, end):
    cal = require(st.get("cal"), "calendar")
    require(st.get("objs"), "objects")
    return uids_of(cal.search(start=start, end=end, event=True))


def check_search_window(start, end, names):
    got = search_uids(start, end)
    want = {uid(n) for n in names}
    assert got == want, f"search [{start:%Y-%m-%dT%H:%MZ}, {end:%Y-%m-%dT%H:%MZ}) = {sorted(got)}, want {sorted(want)}"


def check_search_expanded():
    cal = require(st.get("cal"), "calendar")
    require(st.get("objs"), "objects")
    start, end = utc(2030, 1, 1), utc(2030, 2, 1)
    found = cal.search(start=start, end=end, event=True, expand=True)
    weekly = [o for o in found if str(o.icalendar_component.get("UID")) == uid("weekly")]
    rids = sorted(o.icalendar_component.get("RECURRENCE-ID").dt.astimezone(UTC) for o in weekly)
    want = [utc(2030, 1, 7, 9), utc(2030, 1, 14, 9), utc(2030, 1, 21, 9)]
    assert rids == want, f"expanded weekly instances in January = {[r.isoformat() for r in rids]}, want {[w.isoformat() for w in want]}"
    others = uids_of(o for o in found if o not in weekly)
    want_others = {uid("simple"), uid("berlin"), uid("allday")}
    assert others == want_others, f"other expanded objects = {sorted(others)}, want {sorted(want_others)}"


def check_search_summary():
    cal = require(st.get("cal"), "calendar")
    objs = require(st.get("objs"), "objects")
    # python-caldav 0.11 sends collation="i;octet": a case-sensitive substring match.
    got = uids_of(cal.search(summary="weekly standup", event=True))
    assert got == {uid("weekly")}, f"search(summary='weekly standup') = {sorted(got)}, want the weekly event"
    got = uids_of(cal.search(summary="WEEKLY STANDUP", event=True))
    assert not got, f"search(summary='WEEKLY STANDUP') with i;octet = {sorted(got)}, want nothing (case-sensitive)"
    # Without a collation attribute the default is i;ascii-casemap (RFC 4791 §9.7.5).
    body = (
        '<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        '<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        '<C:prop-filter name="SUMMARY"><C:text-match>WEEKLY STANDUP</C:text-match></C:prop-filter>'
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    )
    r = raw(ALICE, "REPORT", cal.url, body, {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
    assert r.status_code == 207, f"calendar-query = {r.status_code}, want 207"
    hrefs = set(responses(r.content)[0])
    assert hrefs == {path_of(objs["weekly"].url)}, f"text-match 'WEEKLY STANDUP' (default collation) = {sorted(hrefs)}, want the weekly event"


def check_search_todos():
    cal = require(st.get("cal"), "calendar")
    require(st.get("objs"), "objects")
    pending = uids_of(cal.search(todo=True))
    want = {uid("todo-open"), uid("todo-na")}
    assert pending == want, f"pending todos = {sorted(pending)}, want {sorted(want)}"
    every = uids_of(cal.search(todo=True, include_completed=True))
    want = {uid(n) for n in TODOS}
    assert every == want, f"all todos = {sorted(every)}, want {sorted(want)}"


def check_object_by_uid():
    cal = require(st.get("cal"), "calendar")
    objs = require(st.get("objs"), "objects")
    for name in ("simple", "todo-open"):
        o = cal.object_by_uid(uid(name))
        assert path_of(o.url) == path_of(objs[name].url), f"object_by_uid({name}) = {o.url}, want {objs[name].url}"
    try:
        cal.object_by_uid(uid("no-such-thing"))
    except error.NotFoundError:
        pass
    else:
        raise AssertionError("object_by_uid of an unknown UID found something")


def check_multiget():
    cal = require(st.get("cal"), "calendar")
    objs = require(st.get("objs"), "objects")
    urls = [objs["simple"].url, objs["todo-open"].url]
    got = {path_of(o.url): o for o in cal.calendar_multiget(urls)}
    want = {path_of(u) for u in urls}
    assert set(got) == want, f"calendar-multiget = {sorted(got)}, want {sorted(want)}"
    for o in got.values():
        assert o.data and "BEGIN:VCALENDAR" in o.data, f"calendar-multiget: no calendar-data for {o.url}"


# ---- sync tokens, edits, preconditions ---------------------------------------


def check_initial_sync():
    cal = require(st.get("cal"), "calendar")
    objs = require(st.get("objs"), "objects")
    coll = cal.objects_by_sync_token(load_objects=True)
    assert coll.sync_token, "sync-collection gave no sync-token"
    got = {path_of(o.url) for o in coll}
    want = {path_of(o.url) for o in objs.values()}
    assert got == want, f"initial sync = {sorted(got)}, want {sorted(want)}"
    st["sync"] = coll
    st["token"] = coll.sync_token


def check_modify():
    objs = require(st.get("objs"), "objects")
    ev = objs["simple"]
    before = raw(ALICE, "GET", ev.url)
    st["stale_etag"] = before.headers.get("ETag")
    ev.icalendar_component["SUMMARY"] = "Interop simple edited"  # no comma: it would come back escaped
    ev.save()
    after = raw(ALICE, "GET", ev.url)
    assert "Interop simple edited" in after.text, "GET after save: the edit is missing"
    assert after.headers.get("ETag") != st["stale_etag"], "ETag did not change after an edit"
    st["etag"] = after.headers.get("ETag")
    reloaded = st["cal"].event_by_url(ev.url)
    assert summary_of(reloaded) == "Interop simple edited", f"reloaded SUMMARY = {summary_of(reloaded)!r}"


def check_conditional_put():
    objs = require(st.get("objs"), "objects")
    stale = require(st.get("stale_etag"), "stale etag")
    url = objs["simple"].url
    body = OBJECTS["simple"].replace("SUMMARY:Interop simple", "SUMMARY:lost update")
    ct = {"Content-Type": "text/calendar; charset=utf-8"}
    r = raw(ALICE, "PUT", url, body, {**ct, "If-Match": stale})
    assert r.status_code == 412, f"PUT with a stale If-Match = {r.status_code}, want 412"
    r = raw(ALICE, "PUT", url, body, {**ct, "If-None-Match": "*"})
    assert r.status_code == 412, f"PUT If-None-Match: * on an existing object = {r.status_code}, want 412"
    r = raw(ALICE, "DELETE", url, None, {"If-Match": stale})
    assert r.status_code == 412, f"DELETE with a stale If-Match = {r.status_code}, want 412"
    r = raw(ALICE, "GET", url)
    assert "lost update" not in r.text and r.status_code == 200, "a failed precondition changed the object"
    # The current ETag is accepted: 204 on replace.
    cur = r.headers.get("ETag")
    body = OBJECTS["simple"].replace("SUMMARY:Interop simple", "SUMMARY:Interop simple edited twice")
    r = raw(ALICE, "PUT", url, body, {**ct, "If-Match": cur})
    assert r.status_code in (200, 204), f"PUT with the current If-Match = {r.status_code}, want 204"
    # A new object with If-None-Match: * is created: 201.
    new_uid = uid("conditional")
    body = vcalendar(vevent(new_uid, "SUMMARY:Interop conditional", "DTSTART:20300301T100000Z", "DURATION:PT30M"))
    new_url = urljoin(str(st["cal"].url), f"interop-{RUN}-conditional.ics")
    r = raw(ALICE, "PUT", new_url, body, {**ct, "If-None-Match": "*"})
    assert r.status_code == 201, f"PUT If-None-Match: * of a new object = {r.status_code}, want 201"
    st["conditional_url"] = new_url


def check_delete():
    objs = require(st.get("objs"), "objects")
    todo = objs["todo-na"]
    todo.delete()
    r = raw(ALICE, "GET", todo.url)
    assert r.status_code == 404, f"GET after DELETE = {r.status_code}, want 404"
    r = raw(ALICE, "DELETE", todo.url)
    assert r.status_code == 404, f"DELETE of a deleted object = {r.status_code}, want 404"


def check_sync_delta_library():
    coll = require(st.get("sync"), "initial sync")
    objs = st["objs"]
    updated, deleted = coll.sync()
    up = {path_of(o.url) for o in updated}
    de = {path_of(o.url) for o in deleted}
    want_up = {path_of(objs["simple"].url), path_of(st["conditional_url"])}
    want_de = {path_of(objs["todo-na"].url)}
    assert up == want_up, f"sync(): updated = {sorted(up)}, want {sorted(want_up)}"
    assert de == want_de, f"sync(): deleted = {sorted(de)}, want {sorted(want_de)}"
    updated, deleted = coll.sync()
    assert not updated and not deleted, f"a second sync() with nothing changed gave {len(updated)} updated, {len(deleted)} deleted"


def sync_report(token):
    cal = require(st.get("cal"), "calendar")
    body = (
        '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    return raw(ALICE, "REPORT", cal.url, body, {"Content-Type": "application/xml; charset=utf-8"})


def check_sync_delta_raw():
    token = require(st.get("token"), "initial sync token")
    objs = st["objs"]
    r = sync_report(token)
    assert r.status_code == 207, f"sync-collection with the initial token = {r.status_code}, want 207"
    resps, root = responses(r.content)
    # A changed member comes with a propstat, a removed one with a 404 status (RFC 6578 §3.5).
    changed = {h for h, (s, _) in resps.items() if not s or " 200" in s}
    gone = {h for h, (s, _) in resps.items() if s and " 404" in s}
    want_changed = {path_of(objs["simple"].url), path_of(st["conditional_url"])}
    want_gone = {path_of(objs["todo-na"].url)}
    assert changed == want_changed and gone == want_gone, (
        f"delta: changed {sorted(changed)}, gone {sorted(gone)}; want changed {sorted(want_changed)}, gone {sorted(want_gone)}"
    )
    new_token = root.findtext(f"{DAV}sync-token")
    assert new_token and new_token != token, f"the sync-token did not advance ({token!r} -> {new_token!r})"
    r = sync_report(new_token)
    resps, _ = responses(r.content)
    assert r.status_code == 207 and not resps, f"sync with the newest token = {r.status_code}, {len(resps)} responses, want 207 and none"


def check_sync_bad_token():
    cal = require(st.get("cal"), "calendar")
    r = sync_report(urljoin(str(cal.url), "no-such-token-" + RUN))
    assert r.status_code in (403, 409), f"sync-collection with an unknown token = {r.status_code}, want 403 (or 409)"
    assert "valid-sync-token" in r.text, "the error body lacks DAV:valid-sync-token"


# ---- isolation ---------------------------------------------------------------


def check_bob_principal():
    p = client(BOB).principal()
    assert path_of(p.url) == "/dav/principals/bob/", f"bob's principal = {p.url}"
    paths = [path_of(c.url) for c in p.calendars()]
    assert paths and all(x.startswith("/dav/calendars/bob/") for x in paths), f"bob's calendars = {paths}"


def check_bob_cannot_read():
    cal_path = require(st.get("cal_path"), "calendar")
    objs = require(st.get("objs"), "objects")
    ev = path_of(objs["simple"].url)
    for method, url, depth in (
        ("PROPFIND", "/dav/calendars/alice/", "1"),
        ("PROPFIND", "/dav/calendars/alice/personal/", "0"),
        ("PROPFIND", cal_path, "1"),
        ("GET", ev, None),
    ):
        r = raw(BOB, method, url, None, {"Depth": depth} if depth else {})
        assert r.status_code == 404, f"bob {method} {url} = {r.status_code}, want 404"
        assert uid("simple") not in r.text, f"bob {method} {url}: the body shows alice's data"
    q = (
        '<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        '<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
    )
    r = raw(BOB, "REPORT", cal_path, q, {"Depth": "1", "Content-Type": "application/xml"})
    assert r.status_code == 404, f"bob REPORT calendar-query on alice's calendar = {r.status_code}, want 404"


def check_bob_cannot_write():
    cal_path = require(st.get("cal_path"), "calendar")
    objs = require(st.get("objs"), "objects")
    ev = path_of(objs["simple"].url)
    intruder = cal_path + f"bob-{RUN}.ics"
    body = vcalendar(vevent(uid("bob"), "SUMMARY:from bob", "DTSTART:20300101T100000Z"))
    # To bob, alice's home does not exist: 404, or 409 for "no parent collection"
    # (RFC 4918 §9.3.1, §9.7.1), or 403; never a success.
    refused = (403, 404, 409)
    r = raw(BOB, "PUT", intruder, body, {"Content-Type": "text/calendar"})
    assert r.status_code in refused, f"bob PUT into alice's calendar = {r.status_code}, want 404 (or 409/403)"
    r = raw(BOB, "DELETE", ev)
    assert r.status_code in (403, 404), f"bob DELETE of alice's event = {r.status_code}, want 404 (or 403)"
    r = raw(BOB, "MKCALENDAR", f"/dav/calendars/alice/bob-{RUN}/")
    assert r.status_code in refused, f"bob MKCALENDAR in alice's home = {r.status_code}, want 404 (or 409/403)"
    assert raw(ALICE, "GET", intruder).status_code == 404, "bob's PUT created an object in alice's calendar"
    assert raw(ALICE, "GET", ev).status_code == 200, "bob's DELETE removed alice's event"
    assert raw(ALICE, "PROPFIND", f"/dav/calendars/alice/bob-{RUN}/", None, {"Depth": "0"}).status_code == 404, (
        "bob's MKCALENDAR created a calendar in alice's home"
    )


# ---- free-busy (RFC 4791 §7.10, RFC 6638 §5) -------------------------------
#
# alice owns three calendars with events whose summaries, locations,
# descriptions and UIDs are secret; bob, another user, asks for her busy time
# with the library's two free-busy calls: Calendar.freebusy_request (the
# free-busy-query REPORT) and Principal.freebusy_request (a VFREEBUSY REQUEST
# POSTed to his scheduling outbox). The window is 2031-03-04 and 03-05 UTC, a
# span no other check uses.

FB_START, FB_END = utc(2031, 3, 4), utc(2031, 3, 6)
FB_SECRET = f"fbsecret{RUN}"  # in every summary, location, description and UID
ALICE_ADDR = "mailto:alice@127.0.0.1"  # alice has no e-mail: name@host (the host clients use)
BOB_ADDR = "mailto:bob@127.0.0.1"
NOBODY_ADDR = f"mailto:nobody-{RUN}@example.invalid"


def fb_uid(name):
    return f"{FB_SECRET}-{name}@calbolt.test"


def secret_event(name, *lines):
    return vevent(
        fb_uid(name),
        f"SUMMARY:{FB_SECRET} summary {name}",
        f"LOCATION:{FB_SECRET} location",
        f"DESCRIPTION:{FB_SECRET} description",
        *lines,
    )


FB_OBJECTS = {
    "busy": vcalendar(secret_event("busy", "DTSTART:20310304T090000Z", "DTEND:20310304T100000Z")),
    # Overlaps the busy hour: BUSY wins where both are, the rest stays tentative.
    "tentative": vcalendar(
        secret_event("tentative", "DTSTART:20310304T093000Z", "DTEND:20310304T110000Z", "STATUS:TENTATIVE")
    ),
    "transparent": vcalendar(
        secret_event("transparent", "DTSTART:20310304T120000Z", "DTEND:20310304T130000Z", "TRANSP:TRANSPARENT")
    ),
    "cancelled": vcalendar(
        secret_event("cancelled", "DTSTART:20310304T140000Z", "DTEND:20310304T150000Z", "STATUS:CANCELLED")
    ),
    # Daily at 17:00 Berlin (CET, 16:00Z), three days from 03-03, 03-04 excluded:
    # only 03-05 16:00-16:30Z falls in the window.
    "berlin-daily": vcalendar(
        BERLIN,
        secret_event(
            "berlin-daily",
            "DTSTART;TZID=Europe/Berlin:20310303T170000",
            "DTEND;TZID=Europe/Berlin:20310303T173000",
            "RRULE:FREQ=DAILY;COUNT=3",
            "EXDATE;TZID=Europe/Berlin:20310304T170000",
        ),
    ),
}
FB_TODO = vcalendar(vtodo(fb_uid("todo"), f"SUMMARY:{FB_SECRET} task", "DUE:20310304T160000Z"))

# (FBTYPE, start, end) as the server must answer for the window.
FB_CAL_BUSY = [
    ("BUSY", "20310304T090000Z", "20310304T100000Z"),
    ("BUSY-TENTATIVE", "20310304T100000Z", "20310304T110000Z"),
    ("BUSY", "20310305T160000Z", "20310305T163000Z"),
]
FB_SIDE_BUSY = ("BUSY", "20310305T080000Z", "20310305T090000Z")
FB_HOME_BUSY = sorted(FB_CAL_BUSY + [FB_SIDE_BUSY], key=lambda p: p[1])


class ScheduleCalendarTransp(BaseElement):
    tag = ns("C", "schedule-calendar-transp")


class Transparent(BaseElement):
    tag = ns("C", "transparent")


def unfolded(ics):
    return ics.replace("\r\n", "\n").replace("\n ", "").replace("\n\t", "").split("\n")


def freebusy_periods(ics):
    """[(FBTYPE, start, end)] of the FREEBUSY lines of one iCalendar text, in
    order; a line with several periods gives several entries."""
    out = []
    for line in unfolded(ics):
        name, _, value = line.partition(":")
        prop, *params = name.split(";")
        if prop.upper() != "FREEBUSY":
            continue
        fbtype = "BUSY"  # RFC 5545 §3.2.9: the default
        for p in params:
            k, _, v = p.partition("=")
            if k.upper() == "FBTYPE":
                fbtype = v.upper()
        for period in value.split(","):
            start, _, end = period.partition("/")
            out.append((fbtype, start, end))
    return out


def prop_values(ics, prop):
    """The values of every line of a property in an iCalendar text."""
    out = []
    for line in unfolded(ics):
        name, _, value = line.partition(":")
        if name.split(";")[0].upper() == prop:
            out.append(value)
    return out


def assert_no_secret(what, text):
    assert FB_SECRET not in text, f"{what} leaks event details: {text[:600]!r}"
    for word in ("SUMMARY", "LOCATION", "DESCRIPTION", "VEVENT", "VTODO"):
        assert f"\n{word}" not in text.replace("\r\n", "\n"), f"{what} holds a {word} line: {text[:600]!r}"


def check_fb_setup():
    p = require(st.get("principal"), "principal")
    cal = p.make_calendar(name="Free-busy", cal_id=f"fb-{RUN}", supported_calendar_component_set=["VEVENT", "VTODO"])
    side = p.make_calendar(name="Free-busy side", cal_id=f"fb-side-{RUN}")
    hol = p.make_calendar(name="Free-busy holidays", cal_id=f"fb-hol-{RUN}")
    st["fb_cals"] = [cal, side, hol]
    for name, data in FB_OBJECTS.items():
        cal.save_event(data)
    cal.save_todo(FB_TODO)
    side.save_event(vcalendar(secret_event("side", "DTSTART:20310305T080000Z", "DTEND:20310305T090000Z")))
    hol.save_event(vcalendar(secret_event("holiday", "DTSTART:20310305T120000Z", "DTEND:20310305T130000Z")))
    # A calendar that does not count for free-busy (RFC 6638 §9.1), set with PROPPATCH.
    hol.set_properties([ScheduleCalendarTransp() + Transparent()])
    r = propfind(ALICE, hol.url, "<C:schedule-calendar-transp/>")
    _, resp = responses(r.content)[0][path_of(hol.url)]
    assert resp.find(f".//{CAL}schedule-calendar-transp/{CAL}transparent") is not None, (
        f"schedule-calendar-transp after PROPPATCH: {r.text[:400]}"
    )
    st["fb_cal"] = cal
    assert len(cal.events()) == len(FB_OBJECTS), f"the free-busy calendar holds {len(cal.events())} events"


def check_scheduling_discovery():
    c = client(BOB)
    p = c.principal()
    st["bob_client"], st["bob_principal"] = c, p
    outbox, inbox = p.schedule_outbox(), p.schedule_inbox()
    assert path_of(outbox.url) == "/dav/calendars/bob/outbox/", f"schedule_outbox() = {outbox.url}"
    assert path_of(inbox.url) == "/dav/calendars/bob/inbox/", f"schedule_inbox() = {inbox.url}"
    for box, rtype in ((outbox, "schedule-outbox"), (inbox, "schedule-inbox")):
        r = propfind(BOB, box.url, "<D:resourcetype/><D:current-user-privilege-set/>")
        assert r.status_code == 207, f"PROPFIND {box.url} = {r.status_code}"
        _, resp = responses(r.content)[0][path_of(box.url)]
        assert resp.find(f".//{DAV}resourcetype/{CAL}{rtype}") is not None, f"{box.url} resourcetype lacks C:{rtype}"
    _, resp = responses(propfind(BOB, outbox.url, "<D:current-user-privilege-set/>").content)[0][path_of(outbox.url)]
    assert resp.find(f".//{DAV}privilege/{CAL}schedule-send-freebusy") is not None, (
        "the outbox does not grant C:schedule-send-freebusy"
    )
    # The boxes live in the calendar home but are not calendars.
    paths = [path_of(x.url) for x in p.calendars()]
    assert paths and not any(x.rstrip("/").endswith(("/inbox", "/outbox")) for x in paths), (
        f"calendars() lists a scheduling box: {paths}"
    )
    # Another user's boxes look like missing resources.
    r = propfind(BOB, "/dav/calendars/alice/outbox/", "<D:resourcetype/>")
    assert r.status_code == 404, f"bob PROPFIND alice's outbox = {r.status_code}, want 404"


def check_scheduling_dav_header():
    c = require(st.get("bob_client"), "bob's client")
    dav = c.check_dav_support() or ""
    features = [f.strip() for f in dav.split(",")]
    assert "calendar-schedule" in features, f"DAV header {dav!r} lacks calendar-schedule"
    # calbolt does not deliver invitations, so it must not claim auto-scheduling;
    # the library's check_scheduling_support() looks for exactly that.
    assert not c.check_scheduling_support(), f"DAV header {dav!r} claims calendar-auto-schedule"


def check_vcal_address():
    p = require(st.get("bob_principal"), "bob's principal")
    addrs = p.calendar_user_address_set()
    assert addrs and addrs[0] == BOB_ADDR, f"bob's calendar-user-address-set = {addrs}, want {BOB_ADDR} first"
    addr = p.get_vcal_address()  # what the library puts in ORGANIZER
    assert str(addr) == BOB_ADDR, f"get_vcal_address() = {addr!r}"
    assert str(addr.params.get("cutype")) == "INDIVIDUAL", f"CUTYPE = {addr.params.get('cutype')!r}"
    a = require(st.get("principal"), "principal").calendar_user_address_set()
    assert a and a[0] == ALICE_ADDR, f"alice's calendar-user-address-set = {a}, want {ALICE_ADDR} first"


def bob_view(url):
    """A Calendar object for a URL of alice's, in bob's client."""
    c = require(st.get("bob_client"), "bob's client")
    return caldav.Calendar(client=c, url=url)


def check_fb_report_calendar():
    cal = require(st.get("fb_cal"), "free-busy calendar")
    fb = bob_view(cal.url).freebusy_request(FB_START, FB_END)  # REPORT free-busy-query, Depth 1
    comps = [c for c in fb.icalendar_instance.walk() if c.name == "VFREEBUSY"]
    assert len(comps) == 1, f"the answer holds {len(comps)} VFREEBUSY: {fb.data[:400]!r}"
    got = freebusy_periods(fb.data)
    assert got == FB_CAL_BUSY, f"bob's free-busy of alice's calendar = {got}, want {FB_CAL_BUSY}"
    assert prop_values(fb.data, "DTSTART") == ["20310304T000000Z"], f"DTSTART = {prop_values(fb.data, 'DTSTART')}"
    assert prop_values(fb.data, "DTEND") == ["20310306T000000Z"], f"DTEND = {prop_values(fb.data, 'DTEND')}"
    assert_no_secret("the free-busy-query answer", fb.data)
    st["fb_report"] = fb.data


def check_fb_report_home():
    require(st.get("fb_cals"), "free-busy calendars")
    fb = bob_view("/dav/calendars/alice/").freebusy_request(FB_START, FB_END)
    got = freebusy_periods(fb.data)
    assert got == FB_HOME_BUSY, f"bob's free-busy of alice's home (Depth 1) = {got}, want {FB_HOME_BUSY}"
    assert_no_secret("the free-busy-query answer on the home", fb.data)


def check_fb_report_not_calendar_query():
    # Free-busy is all bob gets: a calendar-query on the same calendar stays 404.
    cal = require(st.get("fb_cal"), "free-busy calendar")
    try:
        found = bob_view(cal.url).search(start=FB_START, end=FB_END, event=True)
    except error.NotFoundError:
        return
    raise AssertionError(f"bob's calendar-query on alice's calendar found {len(found)} objects, want 404")


def check_fb_outbox():
    require(st.get("fb_cals"), "free-busy calendars")
    c = require(st.get("bob_client"), "bob's client")
    p = require(st.get("bob_principal"), "bob's principal")
    sent = []
    post = c.post

    def recording_post(url, body, headers={}):
        resp = post(url, body, headers)
        sent.append((str(url), body, resp))
        return resp

    c.post = recording_post
    # python-caldav 0.11 reads the schedule-response as if it were a
    # multistatus and logs "Deviation from expectations"; the exchange is
    # judged from the raw answer below instead.
    lib_log = logging.getLogger("caldav")
    level = lib_log.level
    lib_log.setLevel(logging.CRITICAL)
    try:
        p.freebusy_request(FB_START, FB_END, [ALICE_ADDR, NOBODY_ADDR])
    finally:
        lib_log.setLevel(level)
        c.post = post
    assert len(sent) == 1, f"the library POSTed {len(sent)} times"
    url, body, resp = sent[0]
    body = body.decode() if isinstance(body, bytes) else str(body)
    assert path_of(url) == "/dav/calendars/bob/outbox/", f"POSTed to {url}"
    assert prop_values(body, "ORGANIZER") == [BOB_ADDR], f"the library's ORGANIZER = {prop_values(body, 'ORGANIZER')}"
    assert resp.status == 200, f"outbox POST = {resp.status}, want 200"
    ctype = resp.headers.get("Content-Type", "")
    assert "xml" in ctype, f"outbox POST Content-Type = {ctype!r}"
    raw_answer = resp.raw.decode() if isinstance(resp.raw, bytes) else resp.raw
    assert_no_secret("the schedule-response", raw_answer)
    root = ET.fromstring(raw_answer)
    assert root.tag == f"{CAL}schedule-response", f"root element {root.tag}, want C:schedule-response"
    got = {}
    for r in root.findall(f"{CAL}response"):
        got[(r.findtext(f"{CAL}recipient/{DAV}href") or "").strip()] = (
            (r.findtext(f"{CAL}request-status") or "").strip(),
            r.findtext(f"{CAL}calendar-data"),
        )
    assert set(got) == {ALICE_ADDR, NOBODY_ADDR}, f"recipients = {sorted(got)}, want alice and the unknown address"
    status, data = got[ALICE_ADDR]
    assert status.startswith("2.0"), f"alice's request-status = {status!r}, want 2.0"
    assert data, "no calendar-data for alice"
    periods = freebusy_periods(data)
    assert periods == FB_HOME_BUSY, f"alice's busy time via the outbox = {periods}, want {FB_HOME_BUSY}"
    assert prop_values(data, "METHOD") == ["REPLY"], f"METHOD = {prop_values(data, 'METHOD')}"
    assert prop_values(data, "ORGANIZER") == [BOB_ADDR], f"reply ORGANIZER = {prop_values(data, 'ORGANIZER')}"
    assert prop_values(data, "ATTENDEE") == [ALICE_ADDR], f"reply ATTENDEE = {prop_values(data, 'ATTENDEE')}"
    assert prop_values(data, "UID") == prop_values(body, "UID"), "the reply does not carry the request's UID"
    st["fb_outbox_data"] = data
    status, data = got[NOBODY_ADDR]
    assert status.startswith("3.7"), f"the unknown address's request-status = {status!r}, want 3.7"
    assert not (data or "").strip(), f"the unknown address got calendar-data: {data!r}"


def check_fb_same_answer():
    # One code path: the REPORT on the home, the outbox and GET /freebusy agree.
    data = require(st.get("fb_outbox_data"), "the outbox answer")
    q = "start=20310304T000000Z&end=20310306T000000Z"
    r = raw(BOB, "GET", f"/freebusy/alice?{q}")
    assert r.status_code == 200, f"GET /freebusy/alice = {r.status_code}"
    assert r.headers.get("Content-Type", "").startswith("text/calendar"), r.headers.get("Content-Type")
    assert freebusy_periods(r.text) == freebusy_periods(data), (
        f"GET /freebusy/alice = {freebusy_periods(r.text)}, the outbox said {freebusy_periods(data)}"
    )
    assert_no_secret("GET /freebusy/alice", r.text)
    r = raw(BOB, "GET", f"/freebusy/alice?{q}", headers={"Accept": "application/json"})
    assert r.status_code == 200 and "json" in r.headers.get("Content-Type", ""), (r.status_code, r.headers)
    assert FB_SECRET not in r.text, f"the JSON answer leaks event details: {r.text[:400]}"
    users = r.json()["users"]
    assert [u["user"] for u in users] == ["alice"], f"JSON users = {users}"

    def compact(t):  # 2031-03-05T16:00:00Z -> 20310305T160000Z
        return t.replace("-", "").replace(":", "")

    got = [(p.get("type") or "BUSY", compact(p["start"]), compact(p["end"])) for p in users[0]["busy"]]
    assert got == FB_HOME_BUSY, f"JSON busy = {got}, want {FB_HOME_BUSY}"
    assert users[0]["address"] == ALICE_ADDR, f"JSON address = {users[0]['address']!r}"


def check_fb_outbox_refusals():
    outbox = "/dav/calendars/bob/outbox/"
    ct = {"Content-Type": "text/calendar; charset=utf-8"}

    def request(organizer, *attendees):
        lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calbolt//interop//EN", "METHOD:REQUEST",
            "BEGIN:VFREEBUSY", f"UID:fb-refusal-{RUN}", "DTSTAMP:20310101T000000Z",
            "DTSTART:20310304T000000Z", "DTEND:20310306T000000Z", f"ORGANIZER:{organizer}",
            *[f"ATTENDEE:{a}" for a in attendees], "END:VFREEBUSY", "END:VCALENDAR", "",
        ]
        return "\r\n".join(lines)

    r = raw(BOB, "POST", outbox, request(ALICE_ADDR, ALICE_ADDR), ct)
    assert r.status_code == 403 and "organizer-allowed" in r.text, (
        f"bob posing as alice's ORGANIZER = {r.status_code} {r.text[:300]!r}, want 403 organizer-allowed"
    )
    r = raw(BOB, "POST", "/dav/calendars/alice/outbox/", request(BOB_ADDR, ALICE_ADDR), ct)
    assert r.status_code == 404, f"bob POST to alice's outbox = {r.status_code}, want 404"
    r = raw(BOB, "POST", "/dav/calendars/bob/inbox/", request(BOB_ADDR, ALICE_ADDR), ct)
    assert r.status_code == 405, f"POST to the inbox = {r.status_code}, want 405"
    r = requests.post(urljoin(BASE_URL, outbox), data=request(BOB_ADDR, ALICE_ADDR), headers=ct, timeout=10)
    assert r.status_code == 401, f"outbox POST without credentials = {r.status_code}, want 401"
    assert FB_SECRET not in r.text


def check_fb_teardown():
    cals = require(st.get("fb_cals"), "free-busy calendars")
    for cal in cals:
        cal.delete()
    fb = bob_view("/dav/calendars/alice/").freebusy_request(FB_START, FB_END)
    assert freebusy_periods(fb.data) == [], f"free-busy after deleting the calendars = {freebusy_periods(fb.data)}"


# ---- teardown ----------------------------------------------------------------


def check_delete_calendar():
    cal = require(st.get("cal"), "calendar")
    cal.delete()
    r = raw(ALICE, "PROPFIND", cal.url, None, {"Depth": "0"})
    assert r.status_code == 404, f"PROPFIND on a deleted calendar = {r.status_code}, want 404"
    r = raw(ALICE, "GET", require(st.get("objs"), "objects")["simple"].url)
    assert r.status_code == 404, f"GET of an object in a deleted calendar = {r.status_code}, want 404"
    paths = [path_of(c.url) for c in st["principal"].calendars()]
    assert st["cal_path"] not in paths, f"calendars() still lists the deleted calendar: {paths}"


def main():
    s = suite.check
    print(f"python3-caldav {getattr(caldav, '__version__', '?')} against {BASE_URL}")
    s("GET /healthz", check_healthz)
    s("401 with a Basic challenge without or with wrong credentials", check_unauthenticated)
    s("/.well-known/caldav redirects", check_well_known)
    s("principal() discovered from the bare server URL", check_principal)
    s("PROPFIND / answers for / itself", check_root_href)
    s("OPTIONS advertises calendar-access", check_dav_header)
    s("calendar-home-set", check_home_set)
    s("calendar-user-address-set has a mailto:", check_user_address_set)
    s("calendars() lists personal", check_list_calendars)
    s("make_calendar (MKCALENDAR) and list it", check_make_calendar)
    s("new calendar: displayname, components, resourcetype, sync-token", check_calendar_props)
    s("MKCALENDAR on an existing calendar fails", check_mkcalendar_exists)
    s("PROPPATCH displayname", check_proppatch_displayname)
    s("save_event / save_todo and GET them back", check_save_events)
    s("events() lists exactly the events", check_events_listing)
    w = check_search_window
    s("search: 01-13..01-27 holds weekly instances, the Berlin and the all-day event",
      w, utc(2030, 1, 13), utc(2030, 1, 27), ["weekly", "berlin", "allday"])
    s("search: a window holding only the EXDATE'd instance matches nothing", w, utc(2030, 1, 27), utc(2030, 2, 1), [])
    s("search: after the last instance (COUNT=10) nothing", w, utc(2030, 3, 12), utc(2030, 4, 1), [])
    s("search: the weekly event's 10th instance (03-11)", w, utc(2030, 3, 11), utc(2030, 3, 12), ["weekly"])
    s("search: a window equal to the event matches", w, utc(2030, 1, 9, 14), utc(2030, 1, 9, 15), ["simple"])
    s("search: a window ending at DTSTART does not match", w, utc(2030, 1, 9, 11), utc(2030, 1, 9, 14), [])
    s("search: a window starting at DTEND does not match", w, utc(2030, 1, 9, 15), utc(2030, 1, 9, 18), [])
    s("search: TZID=Europe/Berlin 10:00 is 09:00Z", w, utc(2030, 1, 15, 8, 30), utc(2030, 1, 15, 9, 30), ["berlin"])
    s("search: TZID=Europe/Berlin is not read as UTC", w, utc(2030, 1, 15, 10, 0), utc(2030, 1, 15, 11, 0), [])
    s("search: an all-day event", w, utc(2030, 1, 20, 12), utc(2030, 1, 20, 13), ["allday"])
    s("search(expand=True): 3 weekly instances in January, EXDATE honoured", check_search_expanded)
    s("text-match: i;octet is case-sensitive, the default i;ascii-casemap is not", check_search_summary)
    s("search(todo=True): pending vs completed (is-not-defined, negated text-match)", check_search_todos)
    s("object_by_uid", check_object_by_uid)
    s("calendar_multiget", check_multiget)
    s("objects_by_sync_token(): initial sync lists everything", check_initial_sync)
    s("modify an event (save) changes data and ETag", check_modify)
    s("If-Match / If-None-Match: 412 on stale, 204 on current, 201 on new", check_conditional_put)
    s("delete a todo", check_delete)
    s("sync(): the delta after edit + create + delete", check_sync_delta_library)
    s("sync-collection REPORT: exact delta and a fresh token", check_sync_delta_raw)
    s("sync-collection with an unknown token: valid-sync-token", check_sync_bad_token)
    s("bob discovers only his own calendars", check_bob_principal)
    s("bob cannot read alice's calendars (404)", check_bob_cannot_read)
    s("bob cannot write into alice's calendars", check_bob_cannot_write)
    s("free-busy: alice's busy, tentative, transparent, cancelled, recurring events in 3 calendars "
      "(one PROPPATCHed transparent)", check_fb_setup)
    s("free-busy: schedule_outbox() / schedule_inbox() discovered; boxes typed, not calendars(); alice's hidden from bob",
      check_scheduling_discovery)
    s("free-busy: DAV header has calendar-schedule, not calendar-auto-schedule", check_scheduling_dav_header)
    s("free-busy: calendar-user-address-set / get_vcal_address() start with mailto:<user>@127.0.0.1",
      check_vcal_address)
    s("free-busy: bob's Calendar.freebusy_request on alice's calendar: exact FBTYPEs and periods, nothing leaks",
      check_fb_report_calendar)
    s("free-busy: bob's free-busy-query on alice's home (Depth 1) merges opaque calendars only",
      check_fb_report_home)
    s("free-busy: bob still cannot calendar-query alice's calendar", check_fb_report_not_calendar_query)
    s("free-busy: bob's Principal.freebusy_request via his outbox: 2.0 + REPLY for alice, 3.7 for an unknown address",
      check_fb_outbox)
    s("free-busy: GET /freebusy/alice (iCalendar and JSON) agrees with the outbox", check_fb_same_answer)
    s("free-busy: outbox refuses another ORGANIZER (403), someone else's outbox (404), the inbox (405), no login (401)",
      check_fb_outbox_refusals)
    s("free-busy: delete the calendars; alice is free again", check_fb_teardown)
    s("delete the calendar", check_delete_calendar)
    suite.finish()


if __name__ == "__main__":
    main()
