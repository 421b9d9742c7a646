package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

func (a *app) versionCommand() *command {
	return &command{
		name:    "version",
		args:    "",
		summary: "print the version of this binary",
		help: `
Print calbolt's version (the module version it was built from, or "devel"),
the VCS revision when the build recorded one, and the Go version and
platform. 'calbolt --version' does the same.`,
		examples: []string{"calbolt version"},
		flags:    newFlagSet("version"),
		run: func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("version", "version takes no arguments")
			}
			fmt.Fprintln(a.stdout, versionString())
			return nil
		},
	}
}

// versionString describes the running binary from its build information.
func versionString() string {
	version, details := "devel", []string(nil)
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			version = v
		}
		var rev, at, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "modified"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		for _, d := range []string{rev, at, modified} {
			if d != "" {
				details = append(details, d)
			}
		}
	}
	s := "calbolt " + version
	if len(details) > 0 {
		s += " (" + strings.Join(details, ", ") + ")"
	}
	return fmt.Sprintf("%s %s %s/%s", s, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
