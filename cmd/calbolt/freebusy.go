package main

import (
	"context"
	"errors"

	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/calbolt/calbolt/busytime"
)

// freeBusyFlags are the query flags of `calbolt freebusy`, named as the
// /freebusy endpoint's parameters so both go through busytime.ParseQuery.
var freeBusyParams = []struct{ name, usage string }{
	{"start", "window start: a `date` (2026-11-23, midnight in --tz) or date-time (2026-11-23T09:00:00Z); default today"},
	{"end", "window end, as --start; default 30 days after the start"},
	{"tz", "IANA time `zone` for dates and working hours; default UTC"},
	{"duration", "list free `slots` of at least this length common to all USERs (PT30M, 1h)"},
	{"hours", "working `hours` for slots, e.g. 09:00-17:00"},
	{"days", "working `days` for slots, e.g. MO,TU,WE,TH,FR (default Monday to Friday with --hours)"},
}

func (a *app) freeBusyCommand() *command {
	var dir, host string
	var remote remoteFlags
	var asJSON bool
	params := map[string]*string{}
	fs := newFlagSet("freebusy")
	dataFlag(fs, &dir)
	remote.add(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON (each user's and the merged busy time) instead of iCalendar")
	fs.StringVar(&host, "host", "localhost", "server `name` that completes the mailto: address of users without an e-mail address (with --data)")
	for _, p := range freeBusyParams {
		params[p.name] = fs.String(p.name, "", p.usage)
	}
	return &command{
		name:    "freebusy",
		args:    "[flags] USER...",
		summary: "print when users are busy, merged, or their common free slots",
		help: `
Print the busy time of each USER (a login name or e-mail address) and of all
of them merged, exactly as GET /freebusy answers it: a VFREEBUSY per user in
iCalendar, or JSON with --json. With --duration it prints, as JSON, the free
slots common to all USERs that are at least that long, within --hours and
--days in --tz. Busy time says when, never what: no summaries, places or
UIDs.

With --data it reads the data file directly and sees every user (the server
must be stopped). With --url it asks a running server as --username, which
sees what the server's --freebusy-visibility allows.`,
		examples: []string{
			"calbolt freebusy alice bob --start 2026-11-23 --end 2026-11-28",
			"calbolt freebusy --json --duration PT1H --hours 09:00-17:00 --tz Europe/Berlin alice bob",
			"calbolt freebusy --url https://cal.example.com --username alice bob",
		},
		flags: fs,
		env:   remoteEnv(),
		run: func(ctx context.Context, args []string) error {
			if len(args) == 0 {
				return usagef("freebusy", "name at least one USER")
			}
			v := url.Values{}
			for _, p := range freeBusyParams {
				if s := *params[p.name]; s != "" {
					v.Set(p.name, s)
				}
			}
			v["user"] = args
			if remote.url != "" {
				return a.remoteFreeBusy(ctx, &remote, v, asJSON)
			}
			return a.localFreeBusy(dir, host, v, asJSON)
		},
	}
}

func (a *app) localFreeBusy(dir, host string, v url.Values, asJSON bool) error {
	q, err := busytime.ParseQuery(v, nil, time.Now())
	if err != nil {
		return usagef("freebusy", "%v", err)
	}
	path, err := dataFile(dir, false)
	if err != nil {
		return err
	}
	db, err := openStore(path, true, a.adminLogger(), "stop it, or ask it with --url")
	if err != nil {
		return err
	}
	defer closeStore(db)
	svc := busytime.New(db, &busytime.Options{Logger: a.adminLogger(), CacheSize: -1})
	ans, err := svc.Answer(busytime.Operator, q, host)
	var ue *busytime.UserError
	if errors.As(err, &ue) {
		return fmt.Errorf("no user %q (give a login name or e-mail address; 'calbolt user list' shows them)", ue.User)
	}
	if err != nil {
		return err
	}
	if asJSON || q.SlotLength > 0 {
		return ans.WriteJSON(a.stdout)
	}
	return ans.WriteICS(a.stdout, time.Now())
}

// remoteFreeBusy asks GET /freebusy of a running server and prints its
// answer as it comes.
func (a *app) remoteFreeBusy(ctx context.Context, remote *remoteFlags, v url.Values, asJSON bool) error {
	if remote.username == "" {
		return usagef("freebusy", "--url needs --username")
	}
	base, username, password, err := a.remoteLogin("freebusy", remote, "")
	if err != nil {
		return err
	}
	u := *base
	u.Path += "/freebusy"
	u.RawQuery = v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(username, password)
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("asking %s: %w", base.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s answered %s: %s", base.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
	}
	_, err = io.Copy(a.stdout, resp.Body)
	return err
}

// readPassword reads the password of a login for --url: from a prompt
// without echo at a terminal, else the first line of standard input.
func (a *app) readPassword(username string) (string, error) {
	if fd, ok := terminalFD(a.stdin); ok {
		return a.promptHidden(fd, fmt.Sprintf("Password for %s: ", username))
	}
	line, err := readLine(a.stdin)
	if err != nil {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	return line, nil
}
