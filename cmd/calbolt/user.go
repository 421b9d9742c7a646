package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/store"
)

// userLockedHint is what to do when a user command finds the data file
// held by a running server.
const userLockedHint = "stop it first"

// dataFlag adds the --data flag every admin command has.
func dataFlag(fs *flag.FlagSet, dir *string) {
	fs.StringVar(dir, "data", defaultDataDir, "data `directory` holding calbolt.db")
}

func (a *app) userAddCommand() *command {
	var dir, email string
	fs := newFlagSet("user add")
	dataFlag(fs, &dir)
	fs.StringVar(&email, "email", "", "the user's email `address`, their calendar user address (mailto:) for scheduling")
	return &command{
		name:    "user add",
		args:    "[flags] NAME",
		summary: "create a user with a calendar named \"personal\"",
		help: `
Create the account NAME, with its default calendar "personal" (events and
tasks). The password is read from a prompt (asked twice, not echoed) or, when
standard input is not a terminal, from its first line. NAME is the login name
and the last segment of the principal URL /dav/principals/NAME/. The server
must be stopped.`,
		examples: []string{
			"calbolt user add alice",
			"calbolt user add alice --email alice@example.com --data /var/lib/calbolt",
			"printf '%s\\n' \"$PASSWORD\" | calbolt user add alice",
		},
		flags: fs,
		env:   map[string]string{"data": "CALBOLT_DATA"},
		run: func(ctx context.Context, args []string) error {
			name, err := oneName("user add", args)
			if err != nil {
				return err
			}
			email, err := checkEmail(email)
			if err != nil {
				return err
			}
			return a.userAdd(dir, name, email)
		},
	}
}

func (a *app) userAdd(dir, name, email string) error {
	// Refuse a bad name before creating a data file or asking for a
	// password that would be thrown away.
	if err := store.CheckUserName(name); err != nil {
		return invalidUserName(name)
	}
	return a.withUserStore(dir, true, false, func(db *store.DB) error {
		switch _, err := db.User(name); {
		case err == nil:
			return fmt.Errorf("user %q already exists (change its password with 'calbolt user passwd %s')", name, name)
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("looking up user %q: %w", name, err)
		}
		password, err := a.readNewPassword(name)
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(password)
		if err != nil {
			return fmt.Errorf("hashing the password: %w", err)
		}
		if err := createUser(db, store.User{Name: name, PasswordHash: hash, Email: email}); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "created user %q with the calendar %q\n", name, defaultCalendar)
		return nil
	})
}

func (a *app) userPasswdCommand() *command {
	var dir string
	fs := newFlagSet("user passwd")
	dataFlag(fs, &dir)
	return &command{
		name:    "user passwd",
		args:    "[flags] NAME",
		summary: "set a user's password",
		help: `
Replace the password of NAME. The new password is read from a prompt (asked
twice, not echoed) or, when standard input is not a terminal, from its first
line. Clients logged in with the old password get 401 from now on and ask
for the new one. The server must be stopped.`,
		examples: []string{
			"calbolt user passwd alice",
			"printf '%s\\n' \"$PASSWORD\" | calbolt user passwd alice --data /var/lib/calbolt",
		},
		flags: fs,
		env:   map[string]string{"data": "CALBOLT_DATA"},
		run: func(ctx context.Context, args []string) error {
			name, err := oneName("user passwd", args)
			if err != nil {
				return err
			}
			return a.userPasswd(dir, name)
		},
	}
}

func (a *app) userPasswd(dir, name string) error {
	return a.withUserStore(dir, false, false, func(db *store.DB) error {
		if err := userExists(db, name); err != nil {
			return err
		}
		password, err := a.readNewPassword(name)
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(password)
		if err != nil {
			return fmt.Errorf("hashing the password: %w", err)
		}
		if err := db.SetPasswordHash(name, hash); err != nil {
			return fmt.Errorf("setting the password of %q: %w", name, err)
		}
		fmt.Fprintf(a.stdout, "changed the password of %q\n", name)
		return nil
	})
}

func (a *app) userListCommand() *command {
	var dir string
	fs := newFlagSet("user list")
	dataFlag(fs, &dir)
	return &command{
		name:    "user list",
		args:    "[flags]",
		summary: "list users with their email and number of calendars",
		help: `
List the accounts in the data file, one a line: name, email, number of
calendars and creation date. The server must be stopped.`,
		examples: []string{
			"calbolt user list",
			"CALBOLT_DATA=/var/lib/calbolt calbolt user list",
		},
		flags: fs,
		env:   map[string]string{"data": "CALBOLT_DATA"},
		run: func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("user list", "user list takes no arguments, got %q", args[0])
			}
			return a.userList(dir)
		},
	}
}

func (a *app) userList(dir string) error {
	return a.withUserStore(dir, false, true, func(db *store.DB) error {
		users, err := db.Users()
		if err != nil {
			return fmt.Errorf("listing users: %w", err)
		}
		if len(users) == 0 {
			fmt.Fprintln(a.stderr, "no users")
			return nil
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tEMAIL\tCALENDARS\tCREATED")
		for _, u := range users {
			cals, err := db.Calendars(u.Name)
			if err != nil {
				return fmt.Errorf("listing the calendars of %q: %w", u.Name, err)
			}
			email := u.Email
			if email == "" {
				email = "-"
			}
			created := "-"
			if !u.Created.IsZero() {
				created = u.Created.Local().Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", u.Name, email, len(cals), created)
		}
		return tw.Flush()
	})
}

func (a *app) userDeleteCommand() *command {
	var dir string
	var yes bool
	fs := newFlagSet("user delete")
	dataFlag(fs, &dir)
	fs.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return &command{
		name:    "user delete",
		args:    "[flags] NAME",
		summary: "delete a user and all their calendars",
		help: `
Delete the account NAME with every calendar, event and task it owns. This
cannot be undone (make a backup first). Unless --yes is given, it asks for
confirmation and reads the answer from standard input. The server must be
stopped.`,
		examples: []string{
			"calbolt user delete alice",
			"calbolt user delete alice --yes --data /var/lib/calbolt",
		},
		flags: fs,
		env:   map[string]string{"data": "CALBOLT_DATA"},
		run: func(ctx context.Context, args []string) error {
			name, err := oneName("user delete", args)
			if err != nil {
				return err
			}
			return a.userDelete(dir, name, yes)
		},
	}
}

func (a *app) userDelete(dir, name string, yes bool) error {
	return a.withUserStore(dir, false, false, func(db *store.DB) error {
		if err := userExists(db, name); err != nil {
			return err
		}
		cals, err := db.Calendars(name)
		if err != nil {
			return fmt.Errorf("listing the calendars of %q: %w", name, err)
		}
		objects := 0
		for _, c := range cals {
			objects += c.Objects
		}
		if !yes {
			fmt.Fprintf(a.stderr, "Delete user %q with %d calendars and %d events and tasks? This cannot be undone. [y/N] ", name, len(cals), objects)
			answer, err := readLine(a.stdin)
			if err != nil {
				fmt.Fprintln(a.stderr)
			}
			switch strings.ToLower(strings.TrimSpace(answer)) {
			case "y", "yes":
			default:
				return fmt.Errorf("not confirmed; user %q not deleted (pass --yes to skip the question)", name)
			}
		}
		if err := db.DeleteUser(name); err != nil {
			return fmt.Errorf("deleting user %q: %w", name, err)
		}
		fmt.Fprintf(a.stdout, "deleted user %q and %d calendars\n", name, len(cals))
		return nil
	})
}

// oneName returns the single NAME argument of a user command.
// withUserStore opens the data file in dir for an admin command (creating
// it if create), runs fn on it and closes it, joining both errors. A file a
// running server holds gives the userLockedHint error at once.
func (a *app) withUserStore(dir string, create, readOnly bool, fn func(*store.DB) error) (err error) {
	path, err := dataFile(dir, create)
	if err != nil {
		return err
	}
	db, err := openStore(path, readOnly, a.adminLogger(), userLockedHint)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStore(db)) }()
	return fn(db)
}

func oneName(cmd string, args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef(cmd, "%s needs a user NAME", cmd)
	case 1:
		return args[0], nil
	}
	return "", usagef(cmd, "%s takes one NAME, got %d arguments", cmd, len(args))
}

// userExists returns a clear error when db has no user name.
func userExists(db *store.DB, name string) error {
	_, err := db.User(name)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidName):
		return fmt.Errorf("no user %q ('calbolt user list' shows them)", name)
	case err != nil:
		return fmt.Errorf("looking up user %q: %w", name, err)
	}
	return nil
}

// checkEmail validates the --email of a new user: a bare address, with or
// without "mailto:". The store keeps it without the scheme.
func checkEmail(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	addr := s
	if len(addr) >= 7 && strings.EqualFold(addr[:7], "mailto:") {
		addr = addr[7:]
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Address != addr {
		return "", usagef("user add", "--email %q is not a plain email address such as alice@example.com", s)
	}
	return addr, nil
}
