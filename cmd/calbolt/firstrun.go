package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/store"
)

const (
	// defaultCalendar is the calendar every new account gets.
	defaultCalendar = "personal"
	// passwordAlphabet leaves out characters people confuse when they
	// copy a password by hand: 0/O/o, 1/l/I.
	passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	// generatedPasswordLen gives about 116 bits of entropy.
	generatedPasswordLen = 20
)

// account is a user created by firstRun, with the password it was given.
type account struct {
	name     string
	password string
}

// firstRun creates the first account and its calendar when the store has
// no users, and returns it; it returns nil when there are users already.
func firstRun(db *store.DB, name string) (*account, error) {
	users, err := db.Users()
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	if len(users) > 0 {
		return nil, nil
	}
	password, err := generatePassword(generatedPasswordLen)
	if err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, fmt.Errorf("hashing the first user's password: %w", err)
	}
	if err := createUser(db, store.User{Name: name, PasswordHash: hash}); err != nil {
		return nil, err
	}
	return &account{name: name, password: password}, nil
}

// invalidUserName states the rule store.CheckUserName enforces.
func invalidUserName(name string) error {
	return fmt.Errorf("invalid user name %q: use 1 to 64 characters from A-Z a-z 0-9 . _ @ + -, not starting with '.'", name)
}

// createUser creates a user with the default calendar, in one transaction.
func createUser(db *store.DB, u store.User) error {
	err := db.CreateUser(u, store.Calendar{
		Name:        defaultCalendar,
		DisplayName: "Personal",
		Components:  []string{ical.CompEvent, ical.CompToDo},
	})
	switch {
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("user %q already exists", u.Name)
	case errors.Is(err, store.ErrInvalidName):
		return invalidUserName(u.Name)
	case err != nil:
		return fmt.Errorf("creating user %q: %w", u.Name, err)
	}
	return nil
}

// generatePassword returns n characters drawn uniformly from
// passwordAlphabet with crypto/rand.
func generatePassword(n int) (string, error) {
	const limit = 256 - 256%len(passwordAlphabet) // reject bytes that would bias the draw
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generating a password: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}

// printFirstRun tells the person starting the server, once, how to log in.
// It goes to w (standard error) with fmt, never through the logger, so the
// password stays out of log files that collect structured logs.
func printFirstRun(w io.Writer, acct *account, base string, https bool) {
	user := url.PathEscape(acct.name)
	fmt.Fprintf(w, `
================================================================================
calbolt: created the first account. The password is shown only this once.

  User:      %s
  Password:  %s

  Server URL to type into Thunderbird, Apple Calendar, DAVx5 or Evolution:
    %s
  Principal URL, for clients that ask for one:
    %sdav/principals/%s/
  Calendar %q:
    %sdav/calendars/%s/%s/
`, acct.name, acct.password, base, base, user, defaultCalendar, base, user, defaultCalendar)
	if !https {
		fmt.Fprint(w, `
  Apple Calendar (macOS and iOS) sends no credentials over plain HTTP: serve
  HTTPS with --tls-cert and --tls-key to use it.
`)
	}
	fmt.Fprintf(w, `
  Change the password with 'calbolt user passwd %s' while the server is stopped.
================================================================================

`, acct.name)
}
