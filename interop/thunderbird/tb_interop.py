#!/usr/bin/env python3
"""Drives the real Thunderbird (Debian's `thunderbird`, headless) against calbolt.

Started by interop/thunderbird/run.sh, which builds the binary; see README.md.
Self-contained: its own temporary directory, data directory, server, user,
profile and proxy, all on loopback.

  1. seed two events (one weekly) with curl PUT; start Thunderbird with a fresh
     profile whose user.js registers alice's calendar (cached, short refresh),
     the login stored beforehand; wait until its cache.sqlite holds both.
  2. change the calendar behind its back (modify with If-Match, delete with
     If-Match, add one); wait for its next refresh (sync-collection with a
     token) and check the cache shows all three changes.
  3. make Thunderbird write through its own calendar API (over Marionette, the
     remote-control protocol built into Thunderbird): create, edit and delete
     an event, and check the server's copy after each step.
  4. free-busy, as the attendee availability grid asks it: bob (a second user
     Thunderbird never logs in as) has events PUT with curl; over Marionette
     cal.freeBusyService.getFreeBusyIntervals("mailto:bob@127.0.0.1", ...)
     must give exactly his busy time, which Thunderbird gets by POSTing a
     VFREEBUSY REQUEST to alice's scheduling outbox (found through OPTIONS on
     the home and the principal's schedule-outbox-URL); an unknown address
     gets 3.7 and no intervals; alice's own row shows her busy time.
  5. judge the traffic: the server's request log (no 5xx, OPTIONS on the home
     answered 200) and what the forwarding proxy saw (sync-collection,
     calendar-multiget, conditional writes, one challenge per path).

Thunderbird reaches the network only through a proxy in this script that
forwards requests for the server and refuses everything else (recorded as
"blocked"); user.js also turns off every outside service it knows of.

Environment: CALBOLT_BIN (required), THUNDERBIRD_BIN (default
/usr/lib/thunderbird/thunderbird-bin), TB_TIMEOUT (overall limit in seconds,
default 240), KEEP=1 keeps the temporary directory, TB_VERBOSE=1 prints
Thunderbird's output at the end. Prints one line per check, then
"RESULT thunderbird passed=N failed=N" and last "thunderbird: N passed, N failed";
exits non-zero if any check failed.
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
CALBOLT_BIN = os.environ.get("CALBOLT_BIN", "")
TB_BIN = os.environ.get("THUNDERBIRD_BIN", "/usr/lib/thunderbird/thunderbird-bin")
TB_DIR = os.path.dirname(os.path.realpath(TB_BIN))
TOTAL_TIMEOUT = int(os.environ.get("TB_TIMEOUT", "240"))
KEEP = os.environ.get("KEEP") == "1"
VERBOSE = os.environ.get("TB_VERBOSE") == "1"

USER = "alice"
PASSWORD = "alice-tb-secret"  # calbolt wants at least 8 characters
# Another user of the same server, whose free-busy time alice's Thunderbird
# asks for (through alice's scheduling outbox); Thunderbird never logs in as bob.
OTHER = "bob"
OTHER_PASSWORD = "bob-tb-secret"
REALM = "calbolt"  # WWW-Authenticate: Basic realm="calbolt"
CAL_ID = "calbolt"  # the calendar's id in Thunderbird's registry (cal_id in cache.sqlite)
REFRESH_MINUTES = "0.2"  # a string pref: Thunderbird multiplies it by 60000 ms -> 12 s
QUIET_SECONDS = 4.0

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"

# The seeded events and what the server-side change turns them into.
WEEKLY_UID = "weekly-standup@calbolt.test"
SINGLE_UID = "dentist@calbolt.test"
THIRD_UID = "added-later@calbolt.test"


def ics(uid, summary, start, end, extra=(), seq=0):
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calbolt//thunderbird interop//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{summary}",
        f"SEQUENCE:{seq}",
        *extra,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


# bob's events on 2026-11-24 (a Tuesday): what free-busy must make of them.
# Summaries, locations and UIDs carry FB_SECRET, which must never reach alice.
FB_SECRET = "bobsecret"
FB_DAY = ("20261124T000000Z", "20261125T000000Z")


def bob_events():
    def ev(name, start, end, *extra):
        return ics(f"{FB_SECRET}-{name}@calbolt.test", f"{FB_SECRET} {name}", start, end,
                   [f"LOCATION:{FB_SECRET} room", *extra])
    return {
        "weekly": ev("weekly", "20261117T080000Z", "20261117T083000Z",
                     "RRULE:FREQ=WEEKLY;COUNT=3"),  # 11-17, 11-24, 12-01
        "busy": ev("busy", "20261124T100000Z", "20261124T110000Z"),
        "tentative": ev("tentative", "20261124T130000Z", "20261124T140000Z", "STATUS:TENTATIVE"),
        "transparent": ev("transparent", "20261124T150000Z", "20261124T160000Z",
                          "TRANSP:TRANSPARENT"),
        "cancelled": ev("cancelled", "20261124T170000Z", "20261124T180000Z", "STATUS:CANCELLED"),
    }


# What Thunderbird's free-busy service must report for bob on FB_DAY:
# (calIFreeBusyInterval type, start, end); the transparent and the cancelled
# event are free, so absent.
BOB_BUSY = [
    ("BUSY", "20261124T080000Z", "20261124T083000Z"),
    ("BUSY", "20261124T100000Z", "20261124T110000Z"),
    ("BUSY_TENTATIVE", "20261124T130000Z", "20261124T140000Z"),
]


def resource_name(uid):
    """Thunderbird's naming rule for new objects: the UID with @ replaced by _."""
    return uid.replace("@", "_") + ".ics"


class Timeout(Exception):
    """The run is cut short: the overall time limit, or SIGTERM."""


class Pending(str):
    """What a polled function returns while the awaited state is not there
    yet, saying what it saw instead."""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, title, fn, *args, **kwargs):
        try:
            result = fn(*args, **kwargs)
        except Timeout:
            raise
        except AssertionError as e:
            self.failed.append(title)
            print(f"FAIL  {title}: {e}", flush=True)
            return None
        except Exception as e:
            self.failed.append(title)
            print(f"FAIL  {title}: {type(e).__name__}: {e}", flush=True)
            if VERBOSE:
                traceback.print_exc()
            return None
        self.passed += 1
        print(f"ok    {title}", flush=True)
        return True if result is None else result

    def fail(self, title, why):
        self.failed.append(title)
        print(f"FAIL  {title}: {why}", flush=True)


def wait_for(what, fn, timeout, interval=1.0):
    """Calls fn until it returns a true value that is not Pending, or timeout
    seconds pass; returns the value, or raises AssertionError naming what and
    fn's last result."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except Timeout:
            raise
        except Exception as e:  # e.g. a locked or half-copied database
            last = Pending(f"{type(e).__name__}: {e}")
        else:
            if last and not isinstance(last, Pending):
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {last})")
        time.sleep(interval)


# ---------------------------------------------------------------------------
# The forwarding proxy: Thunderbird's only way out.


class Proxy:
    """An HTTP proxy on loopback that forwards requests for the server and
    refuses everything else. It records every forwarded exchange (with the
    request and response bodies of REPORTs) so the test can see which REPORTs
    Thunderbird sent, and every refused attempt."""

    HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
           "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade", "expect"}

    def __init__(self, server_host, server_port):
        self.server = (server_host, server_port)
        self.exchanges = []
        self.blocked = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def snapshot(self):
        with self.lock:
            return list(self.exchanges)

    def _block(self, conn, what):
        with self.lock:
            self.blocked.append((time.time(), what))
        try:
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass

    def _serve(self, conn):
        conn.settimeout(120)
        rfile = conn.makefile("rb")
        try:
            while True:
                line = rfile.readline(65537)
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    continue
                parts = line.decode("latin-1").split()
                if len(parts) != 3:
                    return self._block(conn, line.decode("latin-1").strip())
                method, target, _ = parts
                headers = []
                while True:
                    h = rfile.readline(65537)
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers.append((name.strip(), value.strip()))
                hmap = {n.lower(): v for n, v in headers}
                if method == "CONNECT":
                    return self._block(conn, f"CONNECT {target}")
                u = urllib.parse.urlsplit(target)
                if u.scheme != "http" or (u.hostname, u.port or 80) != self.server:
                    return self._block(conn, f"{method} {target}")
                body = self._read_body(rfile, hmap)
                keep = self._forward(conn, method, u, headers, hmap, body)
                if not keep:
                    return
        except (OSError, ValueError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _read_body(rfile, hmap):
        if "chunked" in hmap.get("transfer-encoding", "").lower():
            data = b""
            while True:
                size = int(rfile.readline(1024).split(b";")[0].strip(), 16)
                if size == 0:
                    while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += rfile.read(size)
                rfile.readline(16)
        n = int(hmap.get("content-length", "0") or 0)
        return rfile.read(n) if n else None

    def _forward(self, conn, method, u, headers, hmap, body):
        path = u.path or "/"
        if u.query:
            path += "?" + u.query
        up = http.client.HTTPConnection(*self.server, timeout=60)
        try:
            up.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in self.HOP and name.lower() != "content-length":
                    up.putheader(name, value)
            if body is not None:
                up.putheader("Content-Length", str(len(body)))
            up.endheaders(body)
            resp = up.getresponse()
            data = resp.read()
            status, reason, rheaders = resp.status, resp.reason, resp.getheaders()
        finally:
            up.close()
        record = {
            "t": time.time(),
            "method": method,
            "path": urllib.parse.unquote(u.path),
            "status": status,
            "auth": "authorization" in hmap,
            "depth": hmap.get("depth"),
            "if-match": hmap.get("if-match"),
            "if-none-match": hmap.get("if-none-match"),
            "content-type": hmap.get("content-type"),
            "originator": hmap.get("originator"),
            "recipient": hmap.get("recipient"),
            "response-type": resp.getheader("Content-Type"),
        }
        if method in ("REPORT", "PROPFIND", "PUT", "POST") and body:
            record["body"] = body.decode("utf-8", "replace")
        if method in ("REPORT", "PROPFIND", "POST"):
            record["response"] = data.decode("utf-8", "replace")
        with self.lock:
            self.exchanges.append(record)
        out = [f"HTTP/1.1 {status} {reason}\r\n"]
        has_length = False
        for name, value in rheaders:
            ln = name.lower()
            if ln in self.HOP:
                continue
            if ln == "content-length":
                if method == "HEAD":
                    has_length = True
                    out.append(f"{name}: {value}\r\n")
                continue
            out.append(f"{name}: {value}\r\n")
        if method != "HEAD" and status not in (204, 304) and status >= 200:
            out.append(f"Content-Length: {len(data)}\r\n")
            has_length = True
        close = hmap.get("connection", "").lower() == "close" or \
            hmap.get("proxy-connection", "").lower() == "close"
        out.append("Connection: close\r\n" if close else "Connection: keep-alive\r\n")
        out.append("\r\n")
        payload = "".join(out).encode("latin-1")
        if method != "HEAD":
            payload += data
        conn.sendall(payload)
        return not close


def report_kind(ex):
    """The root element of a REPORT body, e.g. '{DAV:}sync-collection'."""
    try:
        return ET.fromstring(ex.get("body", "")).tag
    except ET.ParseError:
        return None


def sync_token_sent(ex):
    root = ET.fromstring(ex["body"])
    tok = root.find(f"{DAV}sync-token")
    return (tok.text or "").strip() if tok is not None else ""


def multistatus(xml_text):
    """{href: status-or-None} of a multistatus; status is the response-level
    status (e.g. 404 of a deleted member in sync-collection) or None."""
    out = {}
    root = ET.fromstring(xml_text)
    for r in root.findall(f"{DAV}response"):
        href = urllib.parse.unquote((r.findtext(f"{DAV}href") or "").strip())
        st = r.findtext(f"{DAV}status")
        out[href] = int(st.split()[1]) if st else None
    return out


# ---------------------------------------------------------------------------
# Marionette: a minimal client for the remote-control protocol built into
# Thunderbird (started with --marionette). Messages are "<length>:<json>".


class Marionette:
    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.msgid = 0
        self.hello = self._recv()

    def _recv(self):
        while b":" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("marionette closed the connection")
            self.buf += chunk
        n, _, rest = self.buf.partition(b":")
        n = int(n)
        while len(rest) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("marionette closed the connection")
            rest += chunk
        self.buf = rest[n:]
        return json.loads(rest[:n])

    def call(self, name, params=None):
        self.msgid += 1
        data = json.dumps([0, self.msgid, name, params or {}]).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            msg = self._recv()
            if msg[0] == 1 and msg[1] == self.msgid:
                if msg[2]:
                    err = msg[2]
                    raise RuntimeError(f"{name}: {err.get('error')}: {err.get('message')}")
                return msg[3]

    def run_async(self, script, args, timeout_ms=30000):
        self.call("WebDriver:SetTimeouts", {"script": timeout_ms})
        res = self.call("WebDriver:ExecuteAsyncScript", {"script": script, "args": args})
        return res.get("value") if isinstance(res, dict) else res

    def close(self):
        try:
            self.call("WebDriver:DeleteSession")
        except Exception:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


# The calendar operations run inside Thunderbird (chrome context). Each
# resolves with {ok: ...} or {error: "..."}.
JS_PRELUDE = r"""
const resolve = arguments[arguments.length - 1];
const { cal } = ChromeUtils.importESModule("resource:///modules/calendar/calUtils.sys.mjs");
const calendar = cal.manager.getCalendars().find(c => c.id == arguments[0]);
function done(p) {
  p.then(v => resolve({ ok: v }), e => resolve({ error: String(e && (e.message || e)) + " " + (e && e.result) }));
}
if (!calendar) { resolve({ error: "no calendar " + arguments[0] }); }
"""

JS_CREATE = JS_PRELUDE + r"""
else done((async () => {
  const { CalEvent } = ChromeUtils.importESModule("resource:///modules/CalEvent.sys.mjs");
  const ev = new CalEvent();
  ev.id = arguments[1];
  ev.title = arguments[2];
  ev.startDate = cal.createDateTime(arguments[3]);
  ev.endDate = cal.createDateTime(arguments[4]);
  const added = await calendar.addItem(ev);
  return { id: added.id, title: added.title };
})());
"""

JS_MODIFY = JS_PRELUDE + r"""
else done((async () => {
  const old = await calendar.getItem(arguments[1]);
  if (!old) throw new Error("Thunderbird has no item " + arguments[1]);
  const item = old.clone();
  item.title = arguments[2];
  const modified = await calendar.modifyItem(item, old);
  return { id: modified.id, title: modified.title };
})());
"""

JS_DELETE = JS_PRELUDE + r"""
else done((async () => {
  const item = await calendar.getItem(arguments[1]);
  if (!item) throw new Error("Thunderbird has no item " + arguments[1]);
  await calendar.deleteItem(item);
  return { id: arguments[1] };
})());
"""

# What the CalDAV provider found out about scheduling when it checked the
# server: the outbox (from the principal's schedule-outbox-URL, looked for only
# when OPTIONS on the home advertises calendar-schedule), alice's addresses
# (calendar-user-address-set) and whether it registered with the free-busy
# service. The cached calendar wraps the CalDAV one.
JS_SCHEDULING = JS_PRELUDE + r"""
else done((async () => {
  const outer = calendar.wrappedJSObject;
  const dav = outer.mUncachedCalendar ? outer.mUncachedCalendar.wrappedJSObject || outer.mUncachedCalendar : outer;
  return {
    principal: dav.principalUrl ? String(dav.principalUrl) : null,
    outbox: dav.outboxUrl ? dav.outboxUrl.spec : null,
    inbox: dav.inboxUrl ? dav.inboxUrl.spec : null,
    addresses: [...(dav.calendarUserAddresses || [])],
    hasFreeBusy: !!dav.hasFreeBusy,
    hasScheduling: !!dav.hasScheduling,
    hasAutoScheduling: !!dav.hasAutoScheduling,
  };
})());
"""

# What the attendee availability grid does (calendar-event-dialog-attendees.js,
# updateFreeBusy): ask cal.freeBusyService about "mailto:<address>" for a
# range with BUSY_ALL and draw the intervals the listener gets; the service
# asks every registered provider, here the CalDAV calendar, which POSTs a
# VFREEBUSY request to its outbox. Resolves with the final result.
JS_FREEBUSY = JS_PRELUDE + r"""
else {
  const names = {};
  for (const k of ["FREE", "BUSY", "BUSY_UNAVAILABLE", "BUSY_TENTATIVE", "UNKNOWN"]) {
    names[Ci.calIFreeBusyInterval[k]] = k;
  }
  const calls = [];
  try {
    cal.freeBusyService.getFreeBusyIntervals(
      arguments[1],
      cal.createDateTime(arguments[2]),
      cal.createDateTime(arguments[3]),
      Ci.calIFreeBusyInterval.BUSY_ALL,
      {
        onResult(operation, results) {
          const intervals = (results || []).map(r => ({
            calId: r.calId,
            type: names[Number(r.freeBusyType)] || String(r.freeBusyType),
            start: r.interval.start.getInTimezone(cal.dtz.UTC).icalString,
            end: r.interval.end.getInTimezone(cal.dtz.UTC).icalString,
          }));
          calls.push(intervals.length);
          if (operation && operation.isPending) {
            return;
          }
          resolve({ ok: { intervals, calls } });
        },
      }
    );
  } catch (e) {
    resolve({ error: String(e && (e.message || e)) });
  }
}
"""

JS_STATE = JS_PRELUDE + r"""
else done((async () => {
  return {
    readOnly: !!calendar.readOnly,
    disabled: !!calendar.getProperty("disabled"),
    currentStatus: calendar.getProperty("currentStatus"),
    type: calendar.type,
    offline: Services.io.offline,
  };
})());
"""


# ---------------------------------------------------------------------------


class Run:
    def __init__(self):
        self.checks = Checks()
        self.work = tempfile.mkdtemp(prefix="calbolt-tb.")
        self.data = os.path.join(self.work, "data")
        self.profile = os.path.join(self.work, "profile")
        self.home = os.path.join(self.work, "home")
        self.server_log = os.path.join(self.work, "server.log")
        self.tb_log = os.path.join(self.work, "thunderbird.log")
        for d in (self.data, self.profile, self.home):
            os.makedirs(d, mode=0o700)
        self.server = None
        self.tb = None
        self.proxy = None
        self.marionette = None
        self.base = None
        self.cal_path = f"/dav/calendars/{USER}/personal/"
        self.etags = {}

    # -- processes --------------------------------------------------------

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")
               and not k.lower().endswith("_proxy")}
        env.update({
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
            "XDG_STATE_HOME": os.path.join(self.home, ".local", "state"),
            "XDG_RUNTIME_DIR": os.path.join(self.home, "run"),
            "TMPDIR": os.path.join(self.work, "tmp"),
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "MOZ_HEADLESS": "1",
            # Release builds ignore services.settings.server without it.
            "MOZ_REMOTE_SETTINGS_DEVTOOLS": "1",
            "MOZ_CRASHREPORTER_DISABLE": "1",
            "MOZ_DISABLE_AUTO_SAFE_MODE": "1",
        })
        for k in ("XDG_RUNTIME_DIR", "TMPDIR"):
            os.makedirs(env[k], mode=0o700, exist_ok=True)
        return env

    def start_server(self):
        for user_pw in ((USER, PASSWORD), (OTHER, OTHER_PASSWORD)):
            out = subprocess.run([CALBOLT_BIN, "user", "add", user_pw[0], "--data", self.data],
                                 input=user_pw[1] + "\n", text=True, capture_output=True,
                                 timeout=30)
            assert out.returncode == 0, f"calbolt user add: {out.stderr.strip()}"
        logf = open(self.server_log, "wb")
        self.server = subprocess.Popen(
            [CALBOLT_BIN, "serve", "--addr", "127.0.0.1:0", "--data", self.data,
             "--log-format", "json"],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()

        def listening():
            assert self.server.poll() is None, f"calbolt exited with {self.server.returncode}"
            for rec in self.server_records(all_msgs=True):
                if rec.get("msg") == "listening" and rec.get("url"):
                    return rec["url"]
            return None
        url = wait_for("the server's 'listening' log line", listening, 20, 0.1)
        self.base = url.rstrip("/")
        u = urllib.parse.urlsplit(self.base)
        self.host, self.port = u.hostname, u.port
        assert self.host == "127.0.0.1", f"server listens on {self.base}, not loopback"
        self.origin = f"http://{self.host}:{self.port}"
        wait_for("GET /healthz", lambda: self.http("GET", "/healthz", auth=False)[0] == 200, 10, 0.1)

    def server_records(self, all_msgs=False):
        out = []
        try:
            with open(self.server_log, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if not line.startswith("{"):
                        continue
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if all_msgs or rec.get("msg") == "request":
                        out.append(rec)
        except FileNotFoundError:
            pass
        return out

    def stop(self, proc, name, sig=signal.SIGTERM, group=False):
        if proc is None or proc.poll() is not None:
            return
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
            proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, ProcessLookupError, PermissionError):
            try:
                if group:
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
                proc.wait(timeout=10)
            except Exception as e:
                print(f"warning: could not stop {name} (pid {proc.pid}): {e}", flush=True)

    def cleanup(self):
        if self.marionette:
            self.marionette.sock.close()
        # Thunderbird runs in its own process group (its content processes
        # too): end that group, which this script created.
        self.stop(self.tb, "thunderbird", group=True)
        if self.tb is not None:
            try:
                os.killpg(self.tb.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.stop(self.server, "calbolt")
        if self.proxy:
            self.proxy.close()

    # -- HTTP with curl (the seeding and the server-side changes) ----------

    def curl(self, method, path, body=None, headers=(), auth=True, user=(USER, PASSWORD)):
        """Returns (status, headers dict lower-cased, body bytes)."""
        hdr_file = os.path.join(self.work, "curl.headers")
        body_file = os.path.join(self.work, "curl.body")
        cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", "20", "-X", method,
               "-D", hdr_file, "-o", body_file, "-w", "%{http_code}"]
        if auth:
            cmd += ["-u", f"{user[0]}:{user[1]}"]
        for h in headers:
            cmd += ["-H", h]
        if body is not None:
            req = os.path.join(self.work, "curl.request")
            with open(req, "wb") as f:
                f.write(body)
            cmd += ["--data-binary", "@" + req]
        out = subprocess.run(cmd + [self.base + path], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, f"curl {method} {path}: {out.stderr.strip()}"
        hdrs = {}
        with open(hdr_file, encoding="latin-1") as f:
            for line in f:
                if ":" in line:
                    k, _, v = line.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
        with open(body_file, "rb") as f:
            data = f.read()
        return int(out.stdout.strip()), hdrs, data

    def http(self, method, path, auth=True):
        """A quick request without curl, for polling."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            h = {}
            if auth:
                h["Authorization"] = "Basic " + base64.b64encode(
                    f"{USER}:{PASSWORD}".encode()).decode()
            c.request(method, path, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def put(self, uid, data, create):
        path = self.cal_path + resource_name(uid)
        cond = "If-None-Match: *" if create else f"If-Match: {self.etags[uid]}"
        st, hdrs, body = self.curl("PUT", path, data,
                                   ["Content-Type: text/calendar; charset=utf-8", cond])
        want = 201 if create else 204
        assert st == want, f"PUT {path} ({cond}) answered {st}, want {want}: {body[:300]!r}"
        etag = hdrs.get("etag")
        if not etag:  # the server repaired the object: fetch the stored ETag
            st, hdrs, _ = self.curl("GET", path)
            assert st == 200, f"GET {path} after PUT answered {st}"
            etag = hdrs.get("etag")
        assert etag, f"no ETag for {path}"
        self.etags[uid] = etag

    def delete(self, uid):
        path = self.cal_path + resource_name(uid)
        st, _, body = self.curl("DELETE", path, headers=[f"If-Match: {self.etags[uid]}"])
        assert st == 204, f"DELETE {path} answered {st}, want 204: {body[:300]!r}"
        st, _, _ = self.curl("GET", path)
        assert st == 404, f"GET {path} after DELETE answered {st}, want 404"

    # -- Thunderbird --------------------------------------------------------

    def write_user_js(self):
        p = self.proxy.port
        prefs = {
            # The calendar under test.
            f"calendar.registry.{CAL_ID}.type": "caldav",
            f"calendar.registry.{CAL_ID}.uri": f"{self.origin}{self.cal_path}",
            f"calendar.registry.{CAL_ID}.name": "calbolt interop",
            f"calendar.registry.{CAL_ID}.username": USER,
            f"calendar.registry.{CAL_ID}.cache.enabled": True,
            f"calendar.registry.{CAL_ID}.refreshInterval": REFRESH_MINUTES,
            f"calendar.registry.{CAL_ID}.calendar-main-in-composite": True,
            f"calendar.registry.{CAL_ID}.calendar-main-default": True,
            "calendar.list.sortOrder": CAL_ID,
            "calendar.timezone.local": "UTC",
            "calendar.timezone.useSystemTimezone": False,
            "calendar.debug.log": True,
            "calendar.debug.log.verbose": True,
            "calendar.loglevel": "Debug",
            # Console messages (the calendar's debug log) to stdout.
            "devtools.console.stdout.chrome": True,
            "browser.dom.window.dump.enabled": True,
            # Every connection goes to the proxy, loopback included, and the
            # proxy forwards only requests for the server.
            "network.proxy.type": 1,
            "network.proxy.http": "127.0.0.1",
            "network.proxy.http_port": p,
            "network.proxy.ssl": "127.0.0.1",
            "network.proxy.ssl_port": p,
            "network.proxy.share_proxy_settings": True,
            "network.proxy.allow_hijacking_localhost": True,
            "network.proxy.no_proxies_on": "",
            "network.proxy.failover_direct": False,
            "network.proxy.socks_remote_dns": True,
            "network.trr.mode": 5,
            "network.dns.disablePrefetch": True,
            "network.prefetch-next": False,
            "network.predictor.enabled": False,
            "network.captive-portal-service.enabled": False,
            "network.connectivity-service.enabled": False,
            "network.manage-offline-status": False,
            # Outside services, off.
            "app.update.disabledForTesting": True,
            "app.update.auto": False,
            "app.update.enabled": False,
            "app.normandy.enabled": False,
            "datareporting.policy.dataSubmissionEnabled": False,
            "datareporting.healthreport.uploadEnabled": False,
            "toolkit.telemetry.enabled": False,
            "toolkit.telemetry.unified": False,
            "toolkit.telemetry.archive.enabled": False,
            "toolkit.telemetry.server": "",
            "services.settings.server": "http://remote-settings.invalid/v1",
            "browser.safebrowsing.malware.enabled": False,
            "browser.safebrowsing.phishing.enabled": False,
            "browser.safebrowsing.downloads.enabled": False,
            "browser.safebrowsing.blockedURIs.enabled": False,
            "browser.region.update.enabled": False,
            "browser.region.network.url": "",
            "geo.provider.network.url": "",
            "geo.enabled": False,
            "extensions.update.enabled": False,
            "extensions.getAddons.cache.enabled": False,
            "extensions.blocklist.enabled": False,
            "security.OCSP.enabled": 0,
            "security.remote_settings.crlite_filters.enabled": False,
            "security.remote_settings.intermediates.enabled": False,
            "mailnews.auto_config.fetchFromISP.enabled": False,
            "mailnews.auto_config.guess.enabled": False,
            "mailnews.start_page.enabled": False,
            "mail.inappnotifications.enabled": False,
            "mail.shell.checkDefaultClient": False,
            "mail.rights.version": 1,
            "mail.provider.enabled": False,
            "toolkit.startup.max_resumed_crashes": -1,
            # Marionette picks a free port and writes it to MarionetteActivePort.
            "marionette.port": 0,
        }
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for k, v in prefs.items():
                f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")

    def store_login(self):
        out = subprocess.run(
            [TB_BIN, "-xpcshell", "-g", TB_DIR, "-a", TB_DIR, os.path.join(HERE, "login.js"),
             self.profile, self.origin, REALM, USER, PASSWORD],
            capture_output=True, text=True, timeout=90, env=self.env(), stdin=subprocess.DEVNULL)
        with open(os.path.join(self.work, "login.log"), "w") as f:
            f.write(out.stdout + out.stderr)
        assert out.returncode == 0 and "stored login" in out.stdout, \
            f"xpcshell exited {out.returncode}: {(out.stdout + out.stderr).strip()[-600:]}"
        assert os.path.exists(os.path.join(self.profile, "logins.json")), "no logins.json written"

    def start_thunderbird(self):
        logf = open(self.tb_log, "wb")
        self.tb = subprocess.Popen(
            [TB_BIN, "--headless", "--no-remote", "--profile", self.profile,
             # Marionette, with chrome (system) access for the calendar API.
             "--marionette", "--remote-allow-system-access"],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env(),
            start_new_session=True)
        logf.close()
        self.tb_started = time.monotonic()

    def tb_alive(self):
        assert self.tb.poll() is None, f"Thunderbird exited with {self.tb.returncode}"

    def cache(self):
        """A consistent copy of Thunderbird's calendar cache: {uid: row}.
        Thunderbird holds cache.sqlite with an exclusive lock, so copy the
        database with its write-ahead log and read the copy."""
        self.tb_alive()
        src = os.path.join(self.profile, "calendar-data")
        dst = os.path.join(self.work, "cache-copy")
        shutil.rmtree(dst, ignore_errors=True)
        os.makedirs(dst)
        if not os.path.exists(os.path.join(src, "cache.sqlite")):
            return Pending("no calendar-data/cache.sqlite yet")
        for name in ("cache.sqlite", "cache.sqlite-wal"):
            if os.path.exists(os.path.join(src, name)):
                shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
        db = sqlite3.connect(os.path.join(dst, "cache.sqlite"), timeout=1)
        try:
            items = {}
            for uid, title, start, journal in db.execute(
                    "SELECT id, title, event_start, offline_journal FROM cal_events "
                    "WHERE cal_id = ? AND recurrence_id IS NULL", (CAL_ID,)):
                items[uid] = {"title": title, "start": start, "journal": journal, "rrule": []}
            for uid, rule in db.execute(
                    "SELECT item_id, icalString FROM cal_recurrence WHERE cal_id = ?", (CAL_ID,)):
                if uid in items:
                    items[uid]["rrule"].append(rule.strip())
            for uid, value in db.execute(
                    "SELECT item_id, value FROM cal_metadata WHERE cal_id = ?", (CAL_ID,)):
                if uid in items:
                    items[uid]["meta"] = value if isinstance(value, str) else value.decode()
            return items
        finally:
            db.close()

    def connect_marionette(self):
        port_file = os.path.join(self.profile, "MarionetteActivePort")

        def port():
            self.tb_alive()
            if os.path.exists(port_file):
                txt = open(port_file).read().strip()
                return int(txt) if txt.isdigit() and int(txt) > 0 else None
            return None
        p = wait_for("Marionette's port file", port, 60, 0.5)
        self.marionette = Marionette(p)
        self.marionette.call("WebDriver:NewSession", {"capabilities": {}})
        self.marionette.call("Marionette:SetContext", {"value": "chrome"})

    def tb_js(self, script, *args, timeout_ms=30000):
        res = self.marionette.run_async(script, [CAL_ID, *args], timeout_ms)
        assert isinstance(res, dict), f"script returned {res!r}"
        assert "error" not in res, f"Thunderbird: {res['error']}"
        return res["ok"]


def main():
    if not CALBOLT_BIN or not os.access(CALBOLT_BIN, os.X_OK):
        print("CALBOLT_BIN must name the calbolt binary (interop/thunderbird/run.sh builds it)")
        return 2
    if not os.access(TB_BIN, os.X_OK):
        print(f"{TB_BIN} not found: apt-get install thunderbird")
        return 2

    def on_alarm(signum, frame):
        raise Timeout(f"the whole test took longer than {TOTAL_TIMEOUT}s")
    signal.signal(signal.SIGALRM, on_alarm)
    def on_term(signum, frame):
        raise Timeout("terminated by SIGTERM")
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(TOTAL_TIMEOUT)
    started = time.monotonic()
    run = Run()
    c = run.checks
    try:
        scenario(run, c)
    except Timeout as e:
        c.fail("finished in time", str(e))
    except KeyboardInterrupt:
        c.fail("interrupted", "SIGINT")
    finally:
        signal.alarm(0)
        run.cleanup()
        if c.failed or VERBOSE:
            dump(run)
        if KEEP:
            print(f"kept {run.work}")
        else:
            shutil.rmtree(run.work, ignore_errors=True)
    print(f"thunderbird test took {time.monotonic() - started:.0f}s")
    print(f"RESULT thunderbird passed={c.passed} failed={len(c.failed)}")
    print(f"thunderbird: {c.passed} passed, {len(c.failed)} failed", flush=True)
    return 1 if c.failed else 0


def dump(run):
    print("----- server request log -----")
    for r in run.server_records(all_msgs=True):
        if r.get("msg") == "request":
            print(f"  {r.get('time', '')[11:23]} {r.get('method')} {r.get('path')} "
                  f"{r.get('status')} user={r.get('user')!r}")
        elif r.get("level") != "INFO":
            print(f"  {r}")
    if run.proxy:
        print("----- proxy: forwarded -----")
        for ex in run.proxy.snapshot():
            kind = report_kind(ex) if ex["method"] == "REPORT" else ""
            print(f"  {time.strftime('%H:%M:%S', time.gmtime(ex['t']))} {ex['method']} "
                  f"{ex['path']} {ex['status']} {kind or ''} depth={ex['depth']} "
                  f"auth={ex['auth']} if-match={ex['if-match']} if-none-match={ex['if-none-match']}")
        print(f"----- proxy: refused ({len(run.proxy.blocked)}) -----")
        for t, what in run.proxy.blocked[:40]:
            print(f"  {time.strftime('%H:%M:%S', time.gmtime(t))} {what}")
    try:
        with open(run.tb_log, encoding="utf-8", errors="replace") as f:
            lines = [ln.rstrip() for ln in f
                     if ln.strip() and "Gtk" not in ln and "gtk_" not in ln]
        print(f"----- thunderbird output ({run.tb_log}; last 60 of {len(lines)} lines, "
              "Gtk noise dropped, each cut at 300 characters) -----")
        for ln in lines[-60:]:
            print("  " + ln[:300])
    except FileNotFoundError:
        pass
    print("----- end -----", flush=True)


def scenario(run, c):
    # -- setup ----------------------------------------------------------------
    if not c.check("calbolt starts with users alice and bob on loopback", run.start_server):
        return
    print(f"      server at {run.base}, work dir {run.work}", flush=True)
    run.proxy = Proxy(run.host, run.port)

    weekly = ics(WEEKLY_UID, "Weekly standup", "20261123T100000Z", "20261123T103000Z",
                 ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10"])
    single = ics(SINGLE_UID, "Dentist", "20261125T140000Z", "20261125T150000Z")
    c.check("seed: PUT weekly recurring event (If-None-Match: *) -> 201",
            run.put, WEEKLY_UID, weekly, True)
    c.check("seed: PUT single event (If-None-Match: *) -> 201",
            run.put, SINGLE_UID, single, True)

    def seed_bob():
        for name, data in bob_events().items():
            path = f"/dav/calendars/{OTHER}/personal/{FB_SECRET}-{name}.ics"
            st, _, body = run.curl("PUT", path, data, ["Content-Type: text/calendar; charset=utf-8",
                                                       "If-None-Match: *"],
                                   user=(OTHER, OTHER_PASSWORD))
            assert st == 201, f"PUT {path} as bob answered {st}: {body[:300]!r}"
        # The server's own answer, for comparison with what Thunderbird shows.
        st, _, body = run.curl("GET", f"/freebusy/{OTHER}?start={FB_DAY[0]}&end={FB_DAY[1]}",
                               headers=["Accept: application/json"])
        assert st == 200, f"GET /freebusy/{OTHER} as alice answered {st}"
        busy = [(b.get("type", "BUSY").replace("-", "_"),
                 b["start"].replace("-", "").replace(":", ""),
                 b["end"].replace("-", "").replace(":", ""))
                for b in json.loads(body)["users"][0]["busy"]]
        assert busy == BOB_BUSY, f"GET /freebusy/{OTHER} = {busy}, want {BOB_BUSY}"
    c.check("seed: bob PUTs busy, tentative, transparent, cancelled and weekly events with "
            "secret titles; GET /freebusy/bob agrees with the expected busy time", seed_bob)

    run.write_user_js()
    if not c.check("login stored in the fresh profile with thunderbird -xpcshell", run.store_login):
        return
    if not c.check("Thunderbird starts headless", run.start_thunderbird):
        return

    # -- 1. initial sync --------------------------------------------------------
    def both_cached():
        items = run.cache()
        if isinstance(items, Pending):
            return items
        if WEEKLY_UID in items and SINGLE_UID in items:
            return items
        return Pending(f"cache holds {sorted(items)}")
    items = c.check("1. Thunderbird's cache holds both seeded events after its first sync",
                    wait_for, "both events in cache.sqlite", both_cached, 75)
    if not items:
        return
    print(f"      first sync done {time.monotonic() - run.tb_started:.0f}s after Thunderbird started",
          flush=True)

    def seeded_right():
        w, s = items[WEEKLY_UID], items[SINGLE_UID]
        assert w["title"] == "Weekly standup", f"weekly title {w['title']!r}"
        assert s["title"] == "Dentist", f"single title {s['title']!r}"
        assert any("FREQ=WEEKLY" in r and "COUNT=10" in r for r in w["rrule"]), \
            f"weekly recurrence in cache: {w['rrule']}"
        assert not s["rrule"], f"single event has recurrence {s['rrule']}"
        assert len(items) == 2, f"cache holds {sorted(items)}"
    c.check("1. cached titles and the weekly RRULE match what was PUT", seeded_right)

    # -- 2. server-side change --------------------------------------------------
    # Let the start-up refreshes finish, so that the change is picked up by a
    # refresh of the timer (refreshInterval) rather than one already under way.
    def quiet():
        ex = run.proxy.snapshot()
        return ex and time.time() - ex[-1]["t"] >= QUIET_SECONDS
    c.check(f"2. Thunderbird goes quiet after its first sync ({QUIET_SECONDS:.0f}s without a request)",
            wait_for, "no request from Thunderbird for a while", quiet, 30, 0.2)
    first_sync_exchanges = len(run.proxy.snapshot())
    change_at = time.time()
    weekly2 = ics(WEEKLY_UID, "Weekly standup (moved)", "20261123T110000Z", "20261123T113000Z",
                  ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5"], seq=1)
    third = ics(THIRD_UID, "Added on the server", "20261126T090000Z", "20261126T100000Z")
    c.check("2. server side: PUT weekly with If-Match -> 204", run.put, WEEKLY_UID, weekly2, False)
    c.check("2. server side: DELETE single with If-Match -> 204", run.delete, SINGLE_UID)
    c.check("2. server side: PUT a third event (If-None-Match: *) -> 201",
            run.put, THIRD_UID, third, True)

    def changes_seen():
        items = run.cache()
        if isinstance(items, Pending):
            return items
        w = items.get(WEEKLY_UID)
        if w and w["title"] == "Weekly standup (moved)" and SINGLE_UID not in items \
                and THIRD_UID in items:
            return items
        return Pending(repr({u: i["title"] for u, i in items.items()}))
    items = c.check("2. after a refresh the cache shows the edit, the deletion and the addition",
                    wait_for, "the three changes in cache.sqlite", changes_seen, 45)
    if items:
        print(f"      seen {time.time() - change_at:.0f}s after the change", flush=True)

        def changed_right():
            w = items[WEEKLY_UID]
            assert any("COUNT=5" in r for r in w["rrule"]), f"weekly recurrence {w['rrule']}"
            assert items[THIRD_UID]["title"] == "Added on the server", items[THIRD_UID]["title"]
            assert set(items) == {WEEKLY_UID, THIRD_UID}, f"cache holds {sorted(items)}"
        c.check("2. cached RRULE changed to COUNT=5; nothing else in the cache", changed_right)

    def incremental_sync():
        # The sync-collections sent after the change, each with the token of
        # the one before: together they must list exactly the edited and the
        # added member (200) and the deleted one (404), nothing unchanged.
        # (A refresh may overlap the three writes, so the changes may arrive
        # split over two of them.)
        later = run.proxy.snapshot()[first_sync_exchanges:]
        syncs = [ex for ex in later if ex["method"] == "REPORT"
                 and report_kind(ex) == f"{DAV}sync-collection"]
        assert syncs, "no sync-collection REPORT after the change"
        seen = {}
        for ex in syncs:
            assert sync_token_sent(ex), "a sync-collection after the first sync sent no sync-token"
            assert ex["status"] == 207, f"sync-collection answered {ex['status']}"
            for href, status in multistatus(ex["response"]).items():
                seen[href] = status
        want = {run.cal_path + resource_name(WEEKLY_UID): None,
                run.cal_path + resource_name(THIRD_UID): None,
                run.cal_path + resource_name(SINGLE_UID): 404}
        assert seen == want, f"sync-collection with a token answered {seen}, want {want}"
    c.check("2. Thunderbird's sync-collection with its token got exactly the 2 changed members "
            "and the deleted one as 404", incremental_sync)

    # -- 3. Thunderbird writes ----------------------------------------------------
    tb_uid = f"tb-{os.getpid()}-{int(time.time())}@calbolt.test"
    tb_path = run.cal_path + resource_name(tb_uid)
    if c.check("3. Marionette session in Thunderbird's chrome", run.connect_marionette):
        def writable():
            st = run.tb_js(JS_STATE)
            assert st["type"] == "caldav", st
            assert not st["readOnly"] and not st["disabled"] and not st["offline"], st
        c.check("3. Thunderbird sees the calendar as writable and online", writable)

        def server_has(summary):
            st, hdrs, body = run.curl("GET", tb_path)
            assert st == 200, f"GET {tb_path} answered {st}"
            assert f"SUMMARY:{summary}" in body.decode("utf-8", "replace"), body[:400]

        def tb_create():
            res = run.tb_js(JS_CREATE, tb_uid, "Created in Thunderbird",
                            "20261127T090000Z", "20261127T100000Z")
            assert res["id"] == tb_uid, res
            server_has("Created in Thunderbird")
            puts = [ex for ex in run.proxy.snapshot()
                    if ex["method"] == "PUT" and ex["path"] == tb_path]
            assert puts and puts[0]["if-none-match"] == "*" and puts[0]["status"] == 201, \
                f"Thunderbird's PUTs to {tb_path}: {puts}"
        created = c.check("3. Thunderbird creates an event: PUT <uid with @ as _>.ics "
                          "with If-None-Match: * -> 201, server has it", tb_create)

        def tb_modify():
            res = run.tb_js(JS_MODIFY, tb_uid, "Edited in Thunderbird")
            assert res["title"] == "Edited in Thunderbird", res
            server_has("Edited in Thunderbird")
            puts = [ex for ex in run.proxy.snapshot()
                    if ex["method"] == "PUT" and ex["path"] == tb_path]
            assert len(puts) >= 2 and puts[-1]["if-match"] and puts[-1]["status"] == 204, \
                f"Thunderbird's PUTs to {tb_path}: {puts}"
        if created:
            c.check("3. Thunderbird edits it: PUT with If-Match -> 204, server has the edit",
                    tb_modify)

        def tb_delete():
            run.tb_js(JS_DELETE, tb_uid)
            st, _, _ = run.curl("GET", tb_path)
            assert st == 404, f"GET {tb_path} after Thunderbird's delete answered {st}"
            dels = [ex for ex in run.proxy.snapshot()
                    if ex["method"] == "DELETE" and ex["path"] == tb_path]
            assert dels and dels[-1]["if-match"] and dels[-1]["status"] == 204, \
                f"Thunderbird's DELETEs of {tb_path}: {dels}"
        if created:
            c.check("3. Thunderbird deletes it: DELETE with If-Match -> 204, server has it no more",
                    tb_delete)

    # -- 4. free-busy --------------------------------------------------------------
    # Thunderbird's attendee availability grid asks cal.freeBusyService, which
    # asks the CalDAV calendar; it can answer only if OPTIONS on the calendar
    # home advertised calendar-schedule and the principal gave an outbox and
    # a mailto: address. It then POSTs a VFREEBUSY REQUEST to alice's outbox.
    outbox_path = f"/dav/calendars/{USER}/outbox/"
    bob_addr = f"mailto:{OTHER}@{run.host}"
    nobody_addr = f"mailto:nobody@{run.host}"
    if run.marionette:
        def scheduling_found():
            st = run.tb_js(JS_SCHEDULING)
            assert st["principal"] == f"/dav/principals/{USER}/", st
            assert st["outbox"] == run.origin + outbox_path, f"outbox {st['outbox']!r}: {st}"
            assert st["addresses"][:1] == [f"mailto:{USER}@{run.host}"], \
                f"calendar-user-addresses {st['addresses']}: {st}"
            assert st["hasFreeBusy"], f"not registered with the free-busy service: {st}"
            # calendar-schedule, not auto-schedule: Thunderbird keeps sending
            # invitations by mail (and, with calendar.caldav.sched.enabled
            # false, its default, does not poll the inbox).
            assert not st["hasAutoScheduling"], st
            # On the wire: the principal PROPFIND that told it so.
            pf = [ex for ex in run.proxy.snapshot() if ex["method"] == "PROPFIND"
                  and ex["path"] == f"/dav/principals/{USER}/" and ex["status"] == 207]
            assert pf, "no PROPFIND on alice's principal answered 207"
            asked = {el.tag for el in ET.fromstring(pf[0]["body"]).iter()}
            for prop in ("calendar-user-address-set", "schedule-inbox-URL", "schedule-outbox-URL"):
                assert f"{CALDAV}{prop}" in asked, f"Thunderbird did not ask for {prop}: {pf[0]['body']}"
            ms = ET.fromstring(pf[0]["response"])
            href = ms.findtext(f".//{CALDAV}schedule-outbox-URL/{DAV}href")
            assert href == outbox_path, f"schedule-outbox-URL answered {href!r}"
            print(f"      principal PROPFIND (Depth {pf[0]['depth']}) asked for "
                  f"{', '.join(sorted(t.split('}')[1] for t in asked if 'prop' not in t))}", flush=True)
        found = c.check("4. Thunderbird found alice's outbox and mailto: address and registered "
                        "as a free-busy provider", scheduling_found)

        def posts_since(n):
            return [ex for ex in run.proxy.snapshot()[n:] if ex["method"] == "POST"]

        def ask_bob():
            before = len(run.proxy.snapshot())
            res = run.tb_js(JS_FREEBUSY, bob_addr, *FB_DAY)
            got = [(i["type"], i["start"], i["end"]) for i in res["intervals"]]
            assert got == BOB_BUSY, f"free-busy service for {bob_addr}: {got}, want {BOB_BUSY}"
            assert all(i["calId"].lower() == bob_addr for i in res["intervals"]), res
            run.fb_posts = posts_since(before)
        if found:
            c.check(f"4. freeBusyService.getFreeBusyIntervals({bob_addr}) gives bob's busy time "
                    "(BUSY, BUSY_TENTATIVE; transparent and cancelled are free)", ask_bob)

        def bob_post_right():
            posts = getattr(run, "fb_posts", None)
            assert posts, "no POST went through the proxy for the free-busy query"
            ok = [ex for ex in posts if ex["status"] == 200]
            assert len(ok) == 1 and all(ex["path"] == outbox_path for ex in posts), \
                [(ex["method"], ex["path"], ex["status"]) for ex in posts]
            ex = ok[0]
            assert ex["auth"], "the POST that got 200 carried no credentials"
            assert (ex["content-type"] or "").startswith("text/calendar"), ex["content-type"]
            body = ex["body"].replace("\r\n ", "").replace("\r\n", "\n")
            for want in ("METHOD:REQUEST", "BEGIN:VFREEBUSY", f"ORGANIZER:mailto:{USER}@{run.host}",
                         f"DTSTART:{FB_DAY[0]}", f"DTEND:{FB_DAY[1]}"):
                assert want in body, f"Thunderbird's request lacks {want!r}:\n{ex['body']}"
            assert any(ln.startswith("ATTENDEE") and ln.endswith(":" + bob_addr)
                       for ln in body.split("\n")), f"no ATTENDEE {bob_addr}:\n{ex['body']}"
            assert ex["originator"] == f"mailto:{USER}@{run.host}" and ex["recipient"] == bob_addr, \
                (ex["originator"], ex["recipient"])
            assert "xml" in (ex["response-type"] or ""), ex["response-type"]
            resp = ET.fromstring(ex["response"])
            assert resp.tag == f"{CALDAV}schedule-response", resp.tag
            status = resp.findtext(f"{CALDAV}response/{CALDAV}request-status") or ""
            assert status.startswith("2.0"), f"request-status {status!r}"
            assert FB_SECRET not in ex["response"], f"the answer leaks bob's events:\n{ex['response']}"
            print(f"      Thunderbird's free-busy POST: {len(posts)} request(s) "
                  f"({', '.join(str(p['status']) for p in posts)}); Originator/Recipient headers; "
                  f"body:\n        " + "\n        ".join(body.strip().split("\n")), flush=True)
        if found:
            c.check(f"4. it POSTed a VFREEBUSY REQUEST (ORGANIZER alice, ATTENDEE bob) to {outbox_path}: "
                    "200, schedule-response 2.0, no event details", bob_post_right)

        def ask_nobody():
            before = len(run.proxy.snapshot())
            res = run.tb_js(JS_FREEBUSY, nobody_addr, *FB_DAY)
            assert res["intervals"] == [], f"intervals for an unknown address: {res}"
            posts = [ex for ex in posts_since(before) if ex["status"] == 200]
            assert len(posts) == 1 and posts[0]["path"] == outbox_path, posts
            status = ET.fromstring(posts[0]["response"]).findtext(
                f"{CALDAV}response/{CALDAV}request-status") or ""
            assert status.startswith("3.7"), f"request-status for {nobody_addr}: {status!r}"
        if found:
            c.check(f"4. an unknown address ({nobody_addr}): the outbox answers 3.7, "
                    "Thunderbird shows no intervals", ask_nobody)

        def ask_alice():
            # The grid's first row is the organizer: alice's own busy time,
            # as left by parts 2 and 3 (the moved weekly event on Monday
            # 11-23 and the event added on the server on 11-26).
            res = run.tb_js(JS_FREEBUSY, f"mailto:{USER}@{run.host}", "20261123T000000Z",
                            "20261127T000000Z")
            got = [(i["type"], i["start"], i["end"]) for i in res["intervals"]]
            want = [("BUSY", "20261123T110000Z", "20261123T113000Z"),
                    ("BUSY", "20261126T090000Z", "20261126T100000Z")]
            assert got == want, f"free-busy service for alice herself: {got}, want {want}"
        if found:
            c.check("4. the organizer's own row (alice) shows her busy time after the changes",
                    ask_alice)

    # -- 5. the traffic ---------------------------------------------------------
    reqs = run.server_records()
    exchanges = run.proxy.snapshot()

    def no_5xx():
        bad = [f"{r['method']} {r['path']} {r['status']}" for r in reqs if r.get("status", 0) >= 500]
        assert not bad, f"server answered 5xx: {bad}"
        assert reqs, "the server logged no requests"
    c.check("5. the server answered no request with 5xx", no_5xx)

    def all_forwarded_logged():
        # every exchange the proxy forwarded appears in the server's log
        logged = {}
        for r in reqs:
            logged[(r["method"], r["path"], r["status"])] = logged.get(
                (r["method"], r["path"], r["status"]), 0) + 1
        for ex in exchanges:
            k = (ex["method"], ex["path"], ex["status"])
            assert logged.get(k, 0) > 0, f"{k} went through the proxy but is not in the server log"
            logged[k] -= 1
        assert exchanges, "Thunderbird sent nothing through the proxy"
    c.check("5. every request Thunderbird sent is in the server's request log", all_forwarded_logged)

    def options_home():
        home = f"/dav/calendars/{USER}/"
        opts = [r for r in reqs if r["method"] == "OPTIONS" and r["path"] == home]
        assert opts, f"no OPTIONS {home} in the server log"
        assert all(r["status"] == 200 for r in opts), [r["status"] for r in opts]
        tb_opts = [ex for ex in exchanges if ex["method"] == "OPTIONS" and ex["path"] == home]
        assert tb_opts and not any(ex["auth"] for ex in tb_opts), \
            f"Thunderbird's OPTIONS on the home (expected without credentials): {tb_opts}"
    c.check("5. OPTIONS on the calendar home, sent without credentials, answered 200", options_home)

    def propfind_first():
        pf = [ex for ex in exchanges if ex["method"] == "PROPFIND" and ex["path"] == run.cal_path]
        assert pf and pf[0]["depth"] == "0", f"PROPFIND on the calendar: {pf[:2]}"
        ok = [ex for ex in pf if ex["status"] == 207]
        assert ok, "no PROPFIND on the calendar answered 207"
        resp = ok[0]["response"]
        for prop in ("resourcetype", "current-user-privilege-set", "supported-report-set",
                     "getctag"):
            assert prop in resp, f"PROPFIND answer lacks {prop}"
        assert "sync-collection" in resp, "supported-report-set does not list sync-collection"
    c.check("5. PROPFIND Depth 0 on the calendar answered 207 with the properties Thunderbird needs",
            propfind_first)

    def used_sync_and_multiget():
        kinds = [(report_kind(ex), ex) for ex in exchanges if ex["method"] == "REPORT"]
        syncs = [ex for k, ex in kinds if k == f"{DAV}sync-collection"]
        gets = [ex for k, ex in kinds if k == f"{CALDAV}calendar-multiget"]
        other = [k for k, _ in kinds if k not in (f"{DAV}sync-collection", f"{CALDAV}calendar-multiget")]
        assert syncs, f"no sync-collection REPORT (REPORTs: {[k for k, _ in kinds]})"
        assert gets, f"no calendar-multiget REPORT (REPORTs: {[k for k, _ in kinds]})"
        assert sync_token_sent(syncs[0]) == "", "the first sync-collection sent a token"
        assert all(ex["status"] == 207 for _, ex in kinds), [ex["status"] for _, ex in kinds]
        assert len(syncs) >= 2, f"only {len(syncs)} sync-collection REPORT: no refresh"
        print(f"      REPORTs: {len(syncs)} sync-collection, {len(gets)} calendar-multiget"
              + (f", other: {other}" if other else ""), flush=True)
    c.check("5. Thunderbird synced with sync-collection (empty token first) and calendar-multiget",
            used_sync_and_multiget)

    def no_auth_failures():
        # Thunderbird sends Basic credentials unasked only below a path that
        # has already authenticated, so the first request to each of the
        # calendar, the principal and the outbox is challenged once (401) and
        # at once repeated with the stored login; nothing is challenged twice.
        unauth = [(i, ex) for i, ex in enumerate(exchanges) if ex["status"] == 401]
        paths = [ex["path"] for _, ex in unauth]
        assert len(paths) == len(set(paths)), f"challenged more than once: {paths}"
        assert len(paths) <= 3, f"{len(unauth)} requests answered 401: the stored login is not used"
        for i, ex in unauth:
            assert not ex["auth"], f"{ex['method']} {ex['path']} with credentials answered 401"
            retried = [r for r in exchanges[i + 1:] if r["method"] == ex["method"]
                       and r["path"] == ex["path"] and r["auth"] and r["status"] != 401]
            assert retried, f"{ex['method']} {ex['path']} was not repeated with the login"
        assert not any(ex["status"] == 403 for ex in exchanges), \
            [f"{ex['method']} {ex['path']}" for ex in exchanges if ex["status"] == 403]
    c.check("5. the stored login was used (each path challenged at most once, then "
            "repeated with it; no 403)", no_auth_failures)

    blocked = list(run.proxy.blocked)
    hosts = sorted({urllib.parse.urlsplit(w.split()[1] if "://" in w else "//" + w.split()[-1]).netloc
                    for _, w in blocked if len(w.split()) > 1})
    print(f"      the proxy refused {len(blocked)} outside request(s)"
          + (f", to {', '.join(hosts)}" if hosts else ""), flush=True)


if __name__ == "__main__":
    sys.exit(main())
