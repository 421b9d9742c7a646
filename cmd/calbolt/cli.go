package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Exit codes.
const (
	exitOK    = 0 // success
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line was wrong
)

// app is what a command may touch of the outside world. main fills it from
// the process; tests can fill it with their own streams and environment.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// command is one verb of the binary ("serve", "user add"). Its help is
// generated from these fields, so what --help prints is what it parses.
type command struct {
	name     string            // as typed after "calbolt", e.g. "user add"
	args     string            // synopsis after the name, e.g. "[flags] NAME"
	summary  string            // one line for command lists
	help     string            // the paragraph of its help, pre-wrapped
	examples []string          // shell lines, without the prompt
	flags    *flag.FlagSet     // nil for a group such as "user"
	env      map[string]string // flag name → environment variable it falls back to
	subs     []*command        // subcommands of a group
	run      func(ctx context.Context, args []string) error
}

// usageError reports a wrong command line; it exits with exitUsage and a
// pointer to the command's help.
type usageError struct {
	cmd string // command whose help to point at; "" for the top level
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// run executes the command line args and returns the process exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.commands()
	if len(args) == 0 {
		a.printTopHelp(a.stderr, root)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if args[0] == "help" && len(args) > 1 {
			c, rest := find(root, args[1:])
			if c == nil || len(rest) > 0 {
				return a.fail(usagef("", "help: unknown command %q", strings.Join(args[1:], " ")))
			}
			c.printHelp(a.stdout)
			return exitOK
		}
		a.printTopHelp(a.stdout, root)
		return exitOK
	case "-version", "--version":
		args = []string{"version"}
	}
	if strings.HasPrefix(args[0], "-") {
		return a.fail(usagef("", "unknown flag %s: flags go after the command, as in 'calbolt serve --addr :8008'", args[0]))
	}
	c, rest := find(root, args)
	if c == nil {
		msg := fmt.Sprintf("unknown command %q", args[0])
		if s := suggest(args[0], root); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return a.fail(usagef("", "%s", msg))
	}
	if c.subs != nil {
		// A group without a subcommand, or with a wrong one.
		if len(rest) == 0 {
			c.printHelp(a.stderr)
			return exitUsage
		}
		switch rest[0] {
		case "-h", "-help", "--help", "help":
			c.printHelp(a.stdout)
			return exitOK
		}
		return a.fail(usagef(c.name, "unknown command %q", c.name+" "+rest[0]))
	}
	pos, err := a.parse(c, rest)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(a.stdout)
		return exitOK
	}
	if err == nil {
		err = c.run(ctx, pos)
	}
	if err != nil {
		return a.fail(err)
	}
	return exitOK
}

// fail prints err as "calbolt: <message>" and returns its exit code.
func (a *app) fail(err error) int {
	fmt.Fprintf(a.stderr, "calbolt: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		if ue.cmd == "" {
			fmt.Fprintln(a.stderr, "Run 'calbolt --help' for the list of commands.")
		} else {
			fmt.Fprintf(a.stderr, "Run 'calbolt %s --help' for usage.\n", ue.cmd)
		}
		return exitUsage
	}
	return exitError
}

// find resolves args to a command, descending into groups; it returns the
// command and the arguments left for it, or nil.
func find(cmds []*command, args []string) (*command, []string) {
	if len(args) == 0 {
		return nil, nil
	}
	for _, c := range cmds {
		short := c.name[strings.LastIndexByte(c.name, ' ')+1:]
		if short != args[0] {
			continue
		}
		if c.subs != nil && len(args) > 1 {
			if sub, rest := find(c.subs, args[1:]); sub != nil {
				return sub, rest
			}
		}
		return c, args[1:]
	}
	return nil, nil
}

// suggest returns the command name closest to a mistyped one, or "".
func suggest(typo string, cmds []*command) string {
	best, bestDist := "", 3
	for _, c := range cmds {
		if d := editDistance(typo, c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// newFlagSet returns a flag set that reports nothing itself: run prints
// errors and help its own way.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses c's flags, which may come before, between or after the
// positional arguments ("user add bob --email bob@example.com"); "--" ends
// the flags. Flags not given on the command line take their value from
// their environment variable when it is set: the flag wins.
func (a *app) parse(c *command, args []string) ([]string, error) {
	var pos []string
	for {
		if err := c.flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef(c.name, "%s: %v", c.name, err)
		}
		rest := c.flags.Args()
		if len(rest) == 0 {
			break
		}
		// flag.Parse stops at the first non-flag, or consumes a "--".
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	set := map[string]bool{}
	c.flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range slices.Sorted(maps.Keys(c.env)) {
		env := c.env[name]
		v := a.getenv(env)
		if set[name] || v == "" {
			continue
		}
		if err := c.flags.Set(name, v); err != nil {
			return nil, usagef(c.name, "invalid value %q in $%s: %v", v, env, err)
		}
	}
	return pos, nil
}

// printTopHelp prints the binary's own help.
func (a *app) printTopHelp(w io.Writer, cmds []*command) {
	fmt.Fprint(w, `calbolt serves calendars and task lists over CalDAV (RFC 4791) to
Thunderbird, Apple Calendar, DAVx5 and Evolution, keeping everything in one
embedded database file in its data directory. On its first start it creates
an account and a calendar and prints how to connect.

Usage:
  calbolt <command> [arguments]

Commands:
`)
	var list []*command
	for _, c := range cmds {
		if c.subs != nil {
			list = append(list, c.subs...)
		} else {
			list = append(list, c)
		}
	}
	for _, c := range list {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-12s %s\n", "help", "explain calbolt or one of its commands")
	fmt.Fprint(w, `
Run 'calbolt help <command>' or 'calbolt <command> --help' for its flags.
Every flag that has an environment variable (CALBOLT_...) takes its value
from it when the flag is not given.

Exit status: 0 on success, 1 when a command fails, 2 for a wrong command line.

Examples:
  calbolt serve
  calbolt serve --addr 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
  calbolt user add alice --email alice@example.com
  calbolt backup --data ./data calbolt-backup.db
`)
}

// printHelp prints a command's help: usage line, paragraph, subcommands or
// flags with their defaults and environment variables, examples.
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace("calbolt "+c.name+" "+c.args), strings.TrimSpace(c.help))
	if c.subs != nil {
		fmt.Fprint(w, "\nCommands:\n")
		for _, s := range c.subs {
			fmt.Fprintf(w, "  %-12s %s\n", s.name, s.summary)
		}
	}
	if c.flags != nil {
		fmt.Fprint(w, "\nFlags:\n")
		c.flags.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			if name != "" {
				name = " " + name
			}
			fmt.Fprintf(w, "  --%s%s\n", f.Name, name)
			fmt.Fprintf(w, "        %s\n", usage)
			var notes []string
			if !isZeroValue(f) {
				notes = append(notes, "default: "+f.DefValue)
			}
			if env := c.env[f.Name]; env != "" {
				notes = append(notes, "env: "+env)
			}
			if len(notes) > 0 {
				fmt.Fprintf(w, "        (%s)\n", strings.Join(notes, "; "))
			}
		})
	}
	if len(c.examples) > 0 {
		fmt.Fprint(w, "\nExamples:\n")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// isZeroValue reports whether f's default is its type's zero value, which
// help leaves out (as flag.PrintDefaults does).
func isZeroValue(f *flag.Flag) bool {
	typ := reflect.TypeOf(f.Value)
	var z reflect.Value
	if typ.Kind() == reflect.Pointer {
		z = reflect.New(typ.Elem())
	} else {
		z = reflect.Zero(typ)
	}
	zv, ok := z.Interface().(flag.Value)
	return ok && f.DefValue == zv.String()
}

// choiceValue is a string flag restricted to a fixed set of values.
type choiceValue struct {
	value   string
	choices []string
}

func newChoice(def string, choices ...string) *choiceValue {
	return &choiceValue{value: def, choices: choices}
}

func (c *choiceValue) String() string {
	if c == nil {
		return ""
	}
	return c.value
}

func (c *choiceValue) Set(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(c.choices, s) {
		return fmt.Errorf("must be one of %s", strings.Join(c.choices, ", "))
	}
	c.value = s
	return nil
}

// commands returns the command tree. Each constructor binds its flags to
// a configuration of its own, so nothing is shared between runs.
func (a *app) commands() []*command {
	return []*command{
		a.serveCommand(),
		{
			name:    "user",
			args:    "<add|passwd|list|delete> [flags] [NAME]",
			summary: "manage user accounts",
			help: `
Manage the accounts in the data file. These commands open the data file
directly, so they need the server stopped: while a server holds the file they
fail at once with an error instead of waiting. Passwords are read from a
prompt without echo (asked twice) or, when standard input is not a terminal,
from its first line; never from a flag or the environment.`,
			subs: []*command{
				a.userAddCommand(),
				a.userPasswdCommand(),
				a.userListCommand(),
				a.userDeleteCommand(),
			},
		},
		a.freeBusyCommand(),
		a.shareCommand(),
		a.importCommand(),
		a.exportCommand(),
		a.backupCommand(),
		a.restoreCommand(),
		a.checkCommand(),
		a.versionCommand(),
	}
}
