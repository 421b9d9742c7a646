package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/calbolt/calbolt/store"
)

func (a *app) shareCommand() *command {
	var dir, owner, calendar, with, access string
	fs := newFlagSet("share")
	dataFlag(fs, &dir)
	fs.StringVar(&owner, "owner", "", "the `user` who shares")
	fs.StringVar(&calendar, "calendar", "", "share this `calendar` only (default: all of the owner's calendars)")
	fs.StringVar(&with, "with", "", "the `user` who gets access")
	fs.StringVar(&access, "access", "freebusy", "`level`: freebusy (see when the owner is busy, never what), or none to revoke")
	return &command{
		name:    "share",
		args:    "[flags]",
		summary: "let another user see when someone is busy",
		help: `
Grant --with access to --owner's calendars (or to --calendar only), or revoke
it with --access none. Grants matter when the server runs with
--freebusy-visibility granted; by default every signed-in user sees everyone's
busy times (never what the events are). Without --with, list what --owner has
granted. Grants to a deleted user or on a deleted calendar disappear with it.
The server must be stopped. Sharing calendars for reading or writing is not
available yet.`,
		examples: []string{
			"calbolt share --owner alice --with bob",
			"calbolt share --owner alice --calendar work --with bob",
			"calbolt share --owner alice --with bob --access none",
			"calbolt share --owner alice",
		},
		flags: fs,
		env:   map[string]string{"data": "CALBOLT_DATA"},
		run: func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("share", "share takes flags only, got %q", args[0])
			}
			if owner == "" {
				return usagef("share", "--owner is required")
			}
			if with == "" {
				return a.shareList(dir, owner)
			}
			lvl, err := store.ParseAccess(access)
			if err != nil || (lvl != store.AccessFreeBusy && lvl != store.AccessNone) {
				return usagef("share", "--access must be freebusy or none, got %q", access)
			}
			return a.share(dir, owner, store.Grant{Calendar: calendar, Grantee: with, Access: lvl})
		},
	}
}

func (a *app) share(dir, owner string, g store.Grant) error {
	return a.withUserStore(dir, false, false, func(db *store.DB) error {
		err := db.SetGrant(owner, g)
		switch {
		case errors.Is(err, store.ErrInvalidName):
			return usagef("share", "a user cannot share with themselves")
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("cannot share: %w (check --owner, --with and --calendar)", err)
		case err != nil:
			return err
		}
		what := "all calendars"
		if g.Calendar != "" {
			what = "calendar " + g.Calendar
		}
		if g.Access == store.AccessNone {
			fmt.Fprintf(a.stdout, "%s no longer shares %s with %s\n", owner, what, g.Grantee)
		} else {
			fmt.Fprintf(a.stdout, "%s shares %s with %s: %s\n", owner, what, g.Grantee, g.Access)
		}
		return nil
	})
}

func (a *app) shareList(dir, owner string) error {
	return a.withUserStore(dir, false, true, func(db *store.DB) error {
		grants, err := db.Grants(owner)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CALENDAR\tWITH\tACCESS")
		for _, g := range grants {
			cal := g.Calendar
			if cal == "" {
				cal = "(all)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", cal, g.Grantee, g.Access)
		}
		return tw.Flush()
	})
}
