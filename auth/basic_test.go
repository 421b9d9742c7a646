package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseBasic(t *testing.T) {
	tests := []struct {
		name           string
		header         string
		user, password string
	}{
		{"plain", "Basic " + b64("alice:secret"), "alice", "secret"},
		{"lowercase scheme", "basic " + b64("alice:secret"), "alice", "secret"},
		{"uppercase scheme", "BASIC " + b64("alice:secret"), "alice", "secret"},
		{"several spaces", "Basic   " + b64("alice:secret"), "alice", "secret"},
		{"surrounding whitespace", " \tBasic " + b64("alice:secret") + " \t", "alice", "secret"},
		{"user with at sign", "Basic " + b64("alice@example.com:secret"), "alice@example.com", "secret"},
		{"password with colons", "Basic " + b64("alice:se:cr:et:"), "alice", "se:cr:et:"},
		{"empty password", "Basic " + b64("alice:"), "alice", ""},
		{"utf-8", "Basic " + b64("zoë:pässwörd"), "zoë", "pässwörd"},
		{"unpadded", "Basic " + strings.TrimRight(b64("alice:secrets"), "="), "alice", "secrets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, password, err := parseBasic(tt.header)
			if err != nil || user != tt.user || password != tt.password {
				t.Fatalf("parseBasic(%q) = %q, %q, %v, want %q, %q, nil", tt.header, user, password, err, tt.user, tt.password)
			}
		})
	}
}

func TestParseBasicMalformed(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"empty", "", errNotBasic},
		{"scheme only", "Basic", errNotBase64},
		{"scheme and space", "Basic ", errNotBase64},
		{"not base64", "Basic !!!", errNotBase64},
		{"bearer", "Bearer x", errNotBasic},
		{"digest", `Digest username="alice"`, errNotBasic},
		{"scheme prefix", "Basicx " + b64("alice:secret"), errNotBasic},
		{"no space after scheme", "Basic" + b64("alice:secret"), errNotBasic},
		{"tab after scheme", "Basic\t" + b64("alice:secret"), errNotBasic},
		{"no colon", "Basic " + b64("alicesecret"), errNoColon},
		{"empty user", "Basic " + b64(":secret"), errEmptyUser},
		{"empty credentials", "Basic " + b64(""), errNotBase64},
		{"space inside token", "Basic " + b64("alice:secret")[:4] + " " + b64("alice:secret")[4:], errNotBase64},
		{"auth-params", `Basic realm="x"`, errNotBase64},
		{"bad padding", "Basic " + b64("alice:secret1") + "=", errNotBase64},
		{"very long", "Basic " + b64("alice:"+strings.Repeat("x", 8000)), errHeaderTooLong},
		{"non-UTF-8 password", "Basic " + b64("alice:\xff\xfe"), errNotUTF8},
		{"non-UTF-8 user", "Basic " + b64("\xe9lise:secret"), errNotUTF8},
		{"NUL in password", "Basic " + b64("alice:se\x00cret"), errControlChar},
		{"newline in user", "Basic " + b64("ali\nce:secret"), errControlChar},
		{"C1 control", "Basic " + b64("alice:\u0085"), errControlChar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, password, err := parseBasic(tt.header)
			if !errors.Is(err, tt.want) {
				t.Fatalf("parseBasic(%.40q) = %q, %q, %v, want error %v", tt.header, user, password, err, tt.want)
			}
			if user != "" || password != "" {
				t.Errorf("parseBasic(%.40q) returned credentials %q, %q with an error", tt.header, user, password)
			}
		})
	}
}

func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{
		"Basic " + b64("alice:secret"), "basic " + b64("a@b:c:d"), "Basic", "Basic !!!",
		"Bearer x", "Basic " + b64("nocolon"), "Basic " + b64("\xff:\x00"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		user, password, err := parseBasic(header)
		if err != nil {
			return
		}
		if user == "" || strings.Contains(user, ":") {
			t.Errorf("parseBasic(%q) user = %q: empty or contains ':'", header, user)
		}
		for _, s := range []string{user, password} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
				t.Errorf("parseBasic(%q) = %q, %q: not UTF-8 or has control characters", header, user, password)
			}
		}
		if len(header) > maxAuthorizationLen {
			t.Errorf("parseBasic accepted a %d-byte header", len(header))
		}
	})
}
