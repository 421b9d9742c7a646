package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"
)

// minPasswordLen is the shortest password the admin commands accept.
const minPasswordLen = 8

// terminalFD returns the file descriptor of r when it is a terminal.
func terminalFD(r io.Reader) (int, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readNewPassword reads a new password for user: at a terminal it prompts
// on standard error without echo and asks twice; otherwise it takes the
// first line of standard input, without its line ending.
func (a *app) readNewPassword(user string) (string, error) {
	var password string
	if fd, ok := terminalFD(a.stdin); ok {
		p1, err := a.promptHidden(fd, fmt.Sprintf("New password for %s: ", user))
		if err != nil {
			return "", err
		}
		if err := checkPassword(p1); err != nil {
			return "", err
		}
		p2, err := a.promptHidden(fd, "Repeat the password: ")
		if err != nil {
			return "", err
		}
		if p1 != p2 {
			return "", errors.New("the passwords do not match; nothing changed")
		}
		password = p1
	} else {
		line, err := readLine(a.stdin)
		if err != nil {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		password = line
	}
	return password, checkPassword(password)
}

// promptHidden prints prompt and reads a line from the terminal fd without
// echo.
func (a *app) promptHidden(fd int, prompt string) (string, error) {
	fmt.Fprint(a.stderr, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}

// readLine returns the first line of r without its "\n" or "\r\n". It
// reads one byte at a time so it takes nothing past the line from r, and
// gives up on lines longer than maxLineLen.
func readLine(r io.Reader) (string, error) {
	const maxLineLen = 4096
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(line) == maxLineLen {
				return "", fmt.Errorf("line longer than %d bytes", maxLineLen)
			}
			line = append(line, b[0])
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return "", errors.New("no input")
			}
			break
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimSuffix(string(line), "\r"), nil
}

// checkPassword enforces the few rules a new password has to meet.
func checkPassword(p string) error {
	switch {
	case p == "":
		return errors.New("empty password; nothing changed")
	case !utf8.ValidString(p):
		return errors.New("the password is not valid UTF-8; nothing changed")
	case utf8.RuneCountInString(p) < minPasswordLen:
		return fmt.Errorf("the password is too short: use at least %d characters; nothing changed", minPasswordLen)
	case strings.ContainsFunc(p, unicode.IsControl):
		// The same rule auth's Basic parser applies: a password it would
		// refuse could never be used to log in.
		return errors.New("the password contains control characters; nothing changed")
	}
	return nil
}
