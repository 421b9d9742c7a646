package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p, err := generatePassword(generatedPasswordLen)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != generatedPasswordLen {
			t.Fatalf("generatePassword(%d) = %q, %d characters", generatedPasswordLen, p, len(p))
		}
		if i := strings.IndexFunc(p, func(r rune) bool { return !strings.ContainsRune(passwordAlphabet, r) }); i >= 0 {
			t.Fatalf("generatePassword = %q, character %q outside the alphabet", p, p[i])
		}
		if seen[p] {
			t.Fatalf("generatePassword repeated %q", p)
		}
		seen[p] = true
	}
	for _, c := range "0O1lI" {
		if strings.ContainsRune(passwordAlphabet, c) {
			t.Errorf("passwordAlphabet contains the ambiguous %q", c)
		}
	}
}

func TestReadLine(t *testing.T) {
	tests := []struct {
		name, in, want string
		rest           string // what must be left in the reader
		err            bool
	}{
		{name: "lf", in: "secret\n", want: "secret"},
		{name: "crlf", in: "secret\r\n", want: "secret"},
		{name: "no newline", in: "secret", want: "secret"},
		{name: "first line only", in: "secret\nmore\n", want: "secret", rest: "more\n"},
		{name: "spaces kept", in: " sec ret \n", want: " sec ret "},
		{name: "empty line", in: "\n", want: ""},
		{name: "no input", in: "", err: true},
		{name: "too long", in: strings.Repeat("x", 5000), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := strings.NewReader(tt.in)
			got, err := readLine(iotest.OneByteReader(r))
			if tt.err {
				if err == nil {
					t.Errorf("readLine(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("readLine(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if rest, _ := io.ReadAll(r); string(rest) != tt.rest {
				t.Errorf("readLine(%q) left %q, want %q", tt.in, rest, tt.rest)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, password string
		ok             bool
	}{
		{"good", "correct horse", true},
		{"eight runes", "éééééééé", true},
		{"empty", "", false},
		{"short", "1234567", false},
		{"control", "correct\x00horse", false},
		{"invalid utf-8", "correct\xffhorse", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkPassword(tt.password); (err == nil) != tt.ok {
				t.Errorf("checkPassword(%q) = %v, want ok %v", tt.password, err, tt.ok)
			}
		})
	}
}

// testCommand is a command with an env-backed flag, for parse tests.
func testCommand(addr *string, verbose *bool) *command {
	fs := newFlagSet("test")
	fs.StringVar(addr, "addr", "default:1", "address")
	fs.BoolVar(verbose, "v", false, "verbose")
	return &command{name: "test", flags: fs, env: map[string]string{"addr": "TEST_ADDR"}}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantAddr string
		wantPos  []string
		wantV    bool
	}{
		{name: "default", wantAddr: "default:1"},
		{name: "flag", args: []string{"--addr", "flag:2"}, wantAddr: "flag:2"},
		{name: "env", env: map[string]string{"TEST_ADDR": "env:3"}, wantAddr: "env:3"},
		{name: "flag wins over env", env: map[string]string{"TEST_ADDR": "env:3"}, args: []string{"-addr=flag:2"}, wantAddr: "flag:2"},
		{name: "empty env ignored", env: map[string]string{"TEST_ADDR": ""}, wantAddr: "default:1"},
		{name: "interspersed", args: []string{"bob", "--addr", "flag:2", "carol", "-v"}, wantAddr: "flag:2", wantPos: []string{"bob", "carol"}, wantV: true},
		{name: "double dash", args: []string{"bob", "--", "-v", "--addr"}, wantAddr: "default:1", wantPos: []string{"bob", "-v", "--addr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr string
			var v bool
			c := testCommand(&addr, &v)
			a := &app{getenv: func(k string) string { return tt.env[k] }}
			pos, err := a.parse(c, tt.args)
			if err != nil {
				t.Fatalf("parse(%q) = %v", tt.args, err)
			}
			if addr != tt.wantAddr || v != tt.wantV || !slices.Equal(pos, tt.wantPos) {
				t.Errorf("parse(%q) = addr %q, -v %v, args %q; want %q, %v, %q", tt.args, addr, v, pos, tt.wantAddr, tt.wantV, tt.wantPos)
			}
		})
	}

	var addr string
	var v bool
	a := &app{getenv: func(string) string { return "" }}
	if _, err := a.parse(testCommand(&addr, &v), []string{"x", "--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parse(--help) = %v, want flag.ErrHelp", err)
	}
	var ue *usageError
	if _, err := a.parse(testCommand(&addr, &v), []string{"--nope"}); !errors.As(err, &ue) {
		t.Errorf("parse(--nope) = %v, want a usage error", err)
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{"--help"}, exitOK},
		{[]string{"help", "user", "delete"}, exitOK},
		{[]string{"version"}, exitOK},
		{[]string{"--version"}, exitOK},
		{[]string{"nope"}, exitUsage},
		{[]string{"user"}, exitUsage},
		{[]string{"user", "list", "--data", ""}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
			if got := a.run(context.Background(), tt.args); got != tt.want {
				t.Errorf("run(%q) = %d, want %d\nstderr: %s", tt.args, got, tt.want, stderr.String())
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	a := &app{}
	cmds := a.commands()
	tests := []struct{ typo, want string }{
		{"serv", "serve"},
		{"sever", "serve"},
		{"chek", "check"},
		{"bakup", "backup"},
		{"users", "user"},
		{"frobnicate", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.typo, cmds); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.typo, got, tt.want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		scheme string
		addr   net.Addr
		want   string
	}{
		{"http", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8008}, "http://127.0.0.1:8008/"},
		{"https", &net.TCPAddr{IP: net.IPv6loopback, Port: 8443}, "https://[::1]:8443/"},
	}
	for _, tt := range tests {
		if got := baseURL(tt.scheme, tt.addr); got != tt.want {
			t.Errorf("baseURL(%q, %v) = %q, want %q", tt.scheme, tt.addr, got, tt.want)
		}
	}
	// A wildcard address is replaced by a name people can type.
	got := baseURL("http", &net.TCPAddr{IP: net.IPv4zero, Port: 8008})
	if strings.Contains(got, "0.0.0.0") || !strings.HasSuffix(got, ":8008/") {
		t.Errorf("baseURL(0.0.0.0:8008) = %q, want a host name", got)
	}
}

func TestCheckEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"alice@example.com", "alice@example.com", true},
		{"mailto:alice@example.com", "alice@example.com", true},
		{"MAILTO:alice@example.com", "alice@example.com", true},
		{"Alice <alice@example.com>", "", false},
		{"alice", "", false},
		{"alice @example.com", "", false},
	}
	for _, tt := range tests {
		got, err := checkEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("checkEmail(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
