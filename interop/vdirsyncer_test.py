#!/usr/bin/python3
"""Drives calbolt with Debian's vdirsyncer: two-way sync between carol's
calendars and a local folder of .ics files, edits and deletes on both sides,
a conflict, metadata sync (PROPPATCH) and a calendar created from the local
side (extended MKCOL).

Run by interop/run.sh, which starts the server and sets CALBOLT_URL and
CALBOLT_WORK; user carol/carolsecret must exist with her "personal" calendar.
HOME and the XDG folders point into a temporary folder, so nothing leaks.
"""

import os
import subprocess
import tempfile
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import requests

from checks import BASE_URL, Suite, require

CAROL = ("carol", "carolsecret")
RUN = uuid.uuid4().hex[:8]
HOME_PATH = "/dav/calendars/carol/"

suite = Suite("vdirsyncer")
st = {}

work = Path(tempfile.mkdtemp(prefix="vdirsyncer-", dir=os.environ.get("CALBOLT_WORK")))
local = work / "local"
config = work / "config"
env = dict(os.environ)
env.update(
    HOME=str(work / "home"),
    XDG_CONFIG_HOME=str(work / "home/.config"),
    XDG_DATA_HOME=str(work / "home/.local/share"),
    XDG_CACHE_HOME=str(work / "home/.cache"),
    VDIRSYNCER_CONFIG=str(config),
)


def write_config(collections='["from a"]', conflict=""):
    config.write_text(
        f"""[general]
status_path = "{work}/status/"

[pair carol]
a = "carol_remote"
b = "carol_local"
collections = {collections}
metadata = ["displayname"]
{conflict}

[storage carol_remote]
type = "caldav"
url = "{BASE_URL}"
username = "{CAROL[0]}"
password = "{CAROL[1]}"

[storage carol_local]
type = "filesystem"
path = "{local}/"
fileext = ".ics"

# A one-way window: only January 2030's events (calendar-query with a time-range).
[pair window]
a = "carol_window_remote"
b = "carol_window_local"
collections = ["personal"]
conflict_resolution = "a wins"

[storage carol_window_remote]
type = "caldav"
url = "{BASE_URL}"
username = "{CAROL[0]}"
password = "{CAROL[1]}"
item_types = ["VEVENT"]
start_date = "datetime(2030, 1, 1)"
end_date = "datetime(2030, 2, 1)"

[storage carol_window_local]
type = "filesystem"
path = "{work}/window/"
fileext = ".ics"
"""
    )


def vdirsyncer(*args, answer_yes=False, want_ok=True):
    """Runs vdirsyncer; returns (exit code, combined output). Prints the output when it failed."""
    p = subprocess.run(
        ["vdirsyncer", *args],
        env=env,
        input="y\n" * 20 if answer_yes else "",
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = p.stdout + p.stderr
    if want_ok and p.returncode != 0:
        print(f"--- vdirsyncer {' '.join(args)} exited {p.returncode}:\n{out}--- end")
        raise AssertionError(f"vdirsyncer {' '.join(args)} exited {p.returncode}")
    return p.returncode, out


def http(method, path, body=None, headers=None):
    return requests.request(
        method,
        urljoin(BASE_URL, path),
        data=body.encode() if isinstance(body, str) else body,
        headers=headers or {},
        auth=CAROL,
        allow_redirects=False,
        timeout=30,
    )


def ics(u, summary, start="20300110T100000Z"):
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//calbolt//interop vdirsyncer//EN",
            "BEGIN:VEVENT",
            f"UID:{u}",
            "DTSTAMP:20300101T000000Z",
            f"DTSTART:{start}",
            "DURATION:PT1H",
            f"SUMMARY:{summary}",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def uid(name):
    return f"vds-{RUN}-{name}"


def local_file(collection, u):
    """The local .ics file that holds UID u, or None."""
    d = local / collection
    if not d.is_dir():
        return None
    for f in d.glob("*.ics"):
        if f"UID:{u}" in f.read_text():
            return f
    return None


def remote_hrefs(collection):
    """Maps the UID of every object in carol's collection to its href (PROPFIND Depth 1, then GET)."""
    r = http("PROPFIND", HOME_PATH + collection + "/", "", {"Depth": "1"})
    assert r.status_code == 207, f"PROPFIND {collection} = {r.status_code}"
    out = {}
    for resp in ET.fromstring(r.content).findall("{DAV:}response"):
        href = resp.findtext("{DAV:}href")
        path = urlparse(href).path
        if unquote(path).rstrip("/") == (HOME_PATH + collection).rstrip("/"):
            continue
        g = http("GET", path)
        for line in g.text.splitlines():
            if line.startswith("UID:"):
                out[line[4:].strip()] = path
    return out


def remote_get(collection, u):
    href = remote_hrefs(collection).get(u)
    if href is None:
        return None, None
    r = http("GET", href)
    assert r.status_code == 200, f"GET {href} = {r.status_code}"
    return href, r


def quiet(out):
    """True when a sync transferred nothing."""
    return not any(w in out for w in ("Copying", "Deleting", "Updating", "uploading", "downloading"))


# ---- checks ------------------------------------------------------------------


def check_discover():
    write_config()
    vdirsyncer("discover", "carol", answer_yes=True)
    assert (local / "personal").is_dir(), f"discover made no local 'personal' folder (have {sorted(p.name for p in local.iterdir()) if local.is_dir() else 'nothing'})"


def check_initial_sync():
    vdirsyncer("sync", "carol")
    st["synced"] = True


def check_local_create():
    require(st.get("synced"), "initial sync")
    u = uid("local")
    (local / "personal" / f"{u}.ics").write_text(ics(u, "made locally"))
    vdirsyncer("sync", "carol")
    href, r = remote_get("personal", u)
    assert href, f"after sync the server has no object with UID {u}"
    assert "made locally" in r.text, "the uploaded object lost its SUMMARY"


def check_remote_create():
    require(st.get("synced"), "initial sync")
    for name in ("remote", "conflict"):
        u = uid(name)
        r = http("PUT", f"{HOME_PATH}personal/{u}.ics", ics(u, f"made on the server ({name})"),
                 {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"})
        assert r.status_code == 201, f"PUT {name} = {r.status_code}, want 201"
    vdirsyncer("sync", "carol")
    for name in ("remote", "conflict"):
        f = local_file("personal", uid(name))
        assert f is not None, f"after sync no local file holds UID {uid(name)}"


def check_second_sync_quiet():
    require(st.get("synced"), "initial sync")
    _, out = vdirsyncer("sync", "carol")
    assert quiet(out), f"a sync with nothing changed still transferred items (unstable ETags?):\n{out}"


def check_remote_edit():
    u = uid("remote")
    href, r = remote_get("personal", u)
    assert href, "the server-made object is missing"
    etag = r.headers.get("ETag")
    assert etag, "GET gave no ETag"
    r = http("PUT", href, ics(u, "edited on the server"),
             {"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag})
    assert r.status_code in (200, 204), f"PUT with If-Match = {r.status_code}, want 204"
    vdirsyncer("sync", "carol")
    f = local_file("personal", u)
    assert f is not None and "edited on the server" in f.read_text(), "the server edit did not reach the local file"


def check_local_edit():
    u = uid("local")
    f = local_file("personal", u)
    assert f is not None, "the locally made file is missing"
    f.write_text(ics(u, "edited locally"))
    vdirsyncer("sync", "carol")
    href, r = remote_get("personal", u)
    assert href and "edited locally" in r.text, "the local edit did not reach the server"


def check_remote_delete():
    u = uid("remote")
    href, r = remote_get("personal", u)
    assert href, "the server-made object is missing"
    d = http("DELETE", href, None, {"If-Match": r.headers.get("ETag", "")})
    assert d.status_code in (200, 204), f"DELETE with If-Match = {d.status_code}, want 204"
    vdirsyncer("sync", "carol")
    assert local_file("personal", u) is None, "the server delete did not remove the local file"


def check_local_delete():
    u = uid("local")
    f = local_file("personal", u)
    assert f is not None, "the locally made file is missing"
    href = remote_hrefs("personal").get(u)
    f.unlink()
    vdirsyncer("sync", "carol")
    assert u not in remote_hrefs("personal"), "the local delete did not remove the object on the server"
    if href:
        r = http("GET", href)
        assert r.status_code == 404, f"GET of the deleted object = {r.status_code}, want 404"


def check_conflict():
    u = uid("conflict")
    f = local_file("personal", u)
    assert f is not None, "the conflict object is missing locally"
    href, r = remote_get("personal", u)
    assert href, "the conflict object is missing on the server"
    f.write_text(ics(u, "conflict: local side"))
    p = http("PUT", href, ics(u, "conflict: server side"),
             {"Content-Type": "text/calendar; charset=utf-8", "If-Match": r.headers.get("ETag", "")})
    assert p.status_code in (200, 204), f"server-side edit = {p.status_code}"
    # Without conflict_resolution vdirsyncer refuses and changes nothing.
    code, out = vdirsyncer("sync", "carol", want_ok=False)
    assert code != 0, f"a sync with both sides edited exited 0:\n{out}"
    assert "conflict" in out.lower() or "both" in out.lower(), f"no conflict reported:\n{out}"
    assert "conflict: local side" in f.read_text(), "the local side changed in a refused sync"
    _, r = remote_get("personal", u)
    assert "conflict: server side" in r.text, "the server side changed in a refused sync"
    # With "a wins" the server's version replaces the local one.
    write_config(conflict='conflict_resolution = "a wins"')
    vdirsyncer("sync", "carol")
    f = local_file("personal", u)
    assert f is not None and "conflict: server side" in f.read_text(), "with 'a wins' the local file did not take the server's version"
    _, r = remote_get("personal", u)
    assert "conflict: server side" in r.text, "with 'a wins' the server's version changed"
    write_config()


def check_metasync():
    body = ('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
            "<D:displayname>Carol from server</D:displayname></D:prop></D:set></D:propertyupdate>")
    r = http("PROPPATCH", HOME_PATH + "personal/", body, {"Content-Type": "application/xml; charset=utf-8"})
    assert r.status_code == 207, f"PROPPATCH displayname = {r.status_code}, want 207"
    vdirsyncer("metasync", "carol")
    name = local / "personal" / "displayname"
    assert name.is_file() and name.read_text().strip() == "Carol from server", (
        f"local displayname = {name.read_text().strip() if name.is_file() else None!r}, want 'Carol from server'"
    )
    name.write_text("Carol from disk")
    vdirsyncer("metasync", "carol")
    r = http("PROPFIND", HOME_PATH + "personal/",
             '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>',
             {"Depth": "0"})
    assert "Carol from disk" in r.text, f"the local displayname did not reach the server:\n{r.text}"


def check_from_b():
    require(st.get("synced"), "initial sync")
    coll = f"work-{RUN}"
    (local / coll).mkdir()
    u = uid("work")
    (local / coll / f"{u}.ics").write_text(ics(u, "in a calendar made locally"))
    write_config(collections='["from a", "from b"]')
    vdirsyncer("discover", "carol", answer_yes=True)
    r = http("PROPFIND", f"{HOME_PATH}{coll}/", '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>', {"Depth": "0"})
    assert r.status_code == 207, f"PROPFIND on the calendar vdirsyncer created (extended MKCOL) = {r.status_code}"
    assert "calendar" in r.text, "the created collection is not a calendar"
    vdirsyncer("sync", "carol")
    href, g = remote_get(coll, u)
    assert href and "in a calendar made locally" in g.text, "the event in the locally made calendar did not reach the server"


def check_time_window():
    ct = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
    puts = {
        "jan": ics(uid("jan"), "inside the window", "20300115T120000Z"),
        "mar": ics(uid("mar"), "outside the window", "20300315T120000Z"),
        "task": ics(uid("task"), "a task", "20300115T120000Z").replace("VEVENT", "VTODO").replace("DURATION:PT1H\r\n", ""),
    }
    for name, body in puts.items():
        r = http("PUT", f"{HOME_PATH}personal/{uid(name)}.ics", body, ct)
        assert r.status_code == 201, f"PUT {name} = {r.status_code}, want 201"
    vdirsyncer("discover", "window", answer_yes=True)
    vdirsyncer("sync", "window")
    got = {n for n in puts if (work / "window" / "personal").is_dir() and any(
        f"UID:{uid(n)}" in f.read_text() for f in (work / "window" / "personal").glob("*.ics"))}
    assert got == {"jan"}, f"the January-2030 VEVENT window synced {sorted(got)}, want ['jan']"


def main():
    p = subprocess.run(["vdirsyncer", "--version"], capture_output=True, text=True, env=env)
    print(f"{(p.stdout or p.stderr).strip()} against {BASE_URL}; working in {work}")
    s = suite.check
    s("discover carol's calendars from the bare URL", check_discover)
    s("initial sync", check_initial_sync)
    s("a local new event reaches the server", check_local_create)
    s("server-made events reach the local folder", check_remote_create)
    s("a second sync transfers nothing", check_second_sync_quiet)
    s("a server edit (PUT If-Match) reaches the local file", check_remote_edit)
    s("a local edit reaches the server", check_local_edit)
    s("a server delete (DELETE If-Match) removes the local file", check_remote_delete)
    s("a local delete removes the server object", check_local_delete)
    s("a conflict is refused, then resolved with 'a wins'", check_conflict)
    s("metasync of displayname both ways (PROPFIND/PROPPATCH)", check_metasync)
    s("a local folder becomes a server calendar (extended MKCOL)", check_from_b)
    s("a final sync transfers nothing", check_second_sync_quiet)
    s("start_date/end_date + item_types: only the window's events (calendar-query)", check_time_window)
    suite.finish()


if __name__ == "__main__":
    main()
