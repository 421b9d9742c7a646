// Command calbolt is a CalDAV server (RFC 4791) that keeps its calendars in
// one embedded bbolt file, plus the admin verbs that manage that file:
// user accounts, backup and an invariant check.
//
// main only wires the process to the commands: arguments, environment,
// standard streams and the shutdown signals. Everything else lives in
// run and the command files (serve.go, user.go, backup.go, ...).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal starts a graceful shutdown, a second one
	// kills the process the usual way.
	context.AfterFunc(ctx, stop)
	a := &app{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
	}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
