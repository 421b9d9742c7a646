package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// testParams are cheap argon2id parameters that keep tests fast.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func mustHash(t testing.TB, password string, p Params) string {
	t.Helper()
	h, err := HashPasswordWith(password, p)
	if err != nil {
		t.Fatalf("HashPasswordWith(%q, %+v) error: %v", password, p, err)
	}
	return h
}

func TestHashVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		password string
	}{
		{"ascii", "correct horse battery staple"},
		{"colon", "a:b:c"},
		{"unicode", "pässwörd 🔑"},
		{"long", strings.Repeat("x", 1000)},
		{"single char", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHash(t, tt.password, testParams)
			ok, err := VerifyPassword(h, tt.password)
			if err != nil || !ok {
				t.Fatalf("VerifyPassword(hash, %q) = %v, %v, want true, nil", tt.password, ok, err)
			}
			ok, err = VerifyPassword(h, tt.password+"x")
			if err != nil || ok {
				t.Fatalf("VerifyPassword(hash, wrong) = %v, %v, want false, nil", ok, err)
			}
		})
	}
}

func TestHashPasswordFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with the 64 MiB default parameters")
	}
	h, err := HashPassword("secret")
	if err != nil {
		t.Fatalf("HashPassword error: %v", err)
	}
	const prefix = "$argon2id$v=19$m=65536,t=3,p=2$"
	if !strings.HasPrefix(h, prefix) {
		t.Fatalf("HashPassword = %q, want prefix %q", h, prefix)
	}
	d, err := decodeArgon2id(h)
	if err != nil {
		t.Fatalf("decodeArgon2id(%q) error: %v", h, err)
	}
	if d.params != DefaultParams() {
		t.Errorf("params = %+v, want %+v", d.params, DefaultParams())
	}
	// Verification with these parameters is covered by the round trip
	// tests with cheap ones; one 64 MiB hash is slow enough under -race.
}

func TestHashPasswordSalted(t *testing.T) {
	a, b := mustHash(t, "same", testParams), mustHash(t, "same", testParams)
	if a == b {
		t.Fatalf("two hashes of the same password are equal: %q", a)
	}
}

func TestHashPasswordRejects(t *testing.T) {
	tests := []struct {
		name     string
		password string
		params   Params
		want     error
	}{
		{"empty password", "", testParams, ErrEmptyPassword},
		{"zero params", "pw", Params{}, ErrInvalidHash},
		{"memory too large", "pw", Params{Memory: MaxMemory + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, ErrInvalidHash},
		{"memory below 8 per thread", "pw", Params{Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, ErrInvalidHash},
		{"too many passes", "pw", Params{Memory: 64, Time: MaxTime + 1, Threads: 1, SaltLen: 16, KeyLen: 32}, ErrInvalidHash},
		{"short salt", "pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}, ErrInvalidHash},
		{"short key", "pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}, ErrInvalidHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := HashPasswordWith(tt.password, tt.params)
			if !errors.Is(err, tt.want) {
				t.Fatalf("HashPasswordWith(%q, %+v) = %q, %v, want error %v", tt.password, tt.params, h, err, tt.want)
			}
		})
	}
}

func TestVerifyPasswordParsesParams(t *testing.T) {
	tests := []struct {
		name   string
		params Params
	}{
		{"test params", testParams},
		{"two threads", Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}},
		{"long salt and key", Params{Memory: 32, Time: 3, Threads: 1, SaltLen: 32, KeyLen: 64}},
		{"short salt and key", Params{Memory: 16, Time: 1, Threads: 1, SaltLen: MinSaltLen, KeyLen: MinKeyLen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHash(t, "pw", tt.params)
			d, err := decodeArgon2id(h)
			if err != nil {
				t.Fatalf("decodeArgon2id(%q) error: %v", h, err)
			}
			if d.params != tt.params {
				t.Errorf("decodeArgon2id(%q).params = %+v, want %+v", h, d.params, tt.params)
			}
			if ok, err := VerifyPassword(h, "pw"); !ok || err != nil {
				t.Errorf("VerifyPassword(%q, pw) = %v, %v, want true, nil", h, ok, err)
			}
		})
	}
}

// Hashes made by the RFC 9106 reference implementation (Debian's argon2
// command, e.g. `echo -n password | argon2 somesaltsomesalt -id -t 2 -k 32
// -p 1 -l 16 -e`) verify, with their parameters read from the string.
func TestVerifyPasswordReferenceHashes(t *testing.T) {
	tests := []struct {
		name, encoded, password string
	}{
		{"m=32 t=2 p=1", "$argon2id$v=19$m=32,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Odkw9q5MmZVTnFlDs3GCvg", "password"},
		{"m=256 t=3 p=2", "$argon2id$v=19$m=256,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$ye/Vt1LgPXknIdWsXPsWQ9Q1tyI6Fwr7dhBsYPxuKTU", "correct horse battery staple"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, err := VerifyPassword(tt.encoded, tt.password); !ok || err != nil {
				t.Errorf("VerifyPassword(%q, %q) = %v, %v, want true, nil", tt.encoded, tt.password, ok, err)
			}
			if ok, err := VerifyPassword(tt.encoded, tt.password+"!"); ok || err != nil {
				t.Errorf("VerifyPassword(%q, wrong) = %v, %v, want false, nil", tt.encoded, ok, err)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good := mustHash(t, "pw", testParams)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"plain text", "pw"},
		{"unknown scheme", "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"extra field", good + "$x"},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + key},
		{"negative memory", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"memory overflow", "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key},
		{"memory above 1 GiB", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key},
		{"memory too small", "$argon2id$v=19$m=7,t=1,p=1$" + salt + "$" + key},
		{"zero passes", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"too many passes", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key},
		{"zero parallelism", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"parallelism above 255", "$argon2id$v=19$m=65536,t=1,p=256$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"hash not base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$%%%"},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"short hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$aGFzaA"},
		{"empty hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"bcrypt truncated", "$2b$04$abcdefghijklmnopqrstuv"},
		{"bcrypt cost too high", "$2b$20$" + strings.Repeat("a", 53)},
		{"bcrypt cost not a number", "$2b$xx$" + strings.Repeat("a", 53)},
		{"bcrypt bad salt", "$2b$04$" + strings.Repeat("*", 53)},
		{"bcrypt 2x", "$2x$04$" + strings.Repeat("a", 53)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.encoded, "pw")
			if ok || !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("VerifyPassword(%q, pw) = %v, %v, want false, ErrInvalidHash", tt.encoded, ok, err)
			}
		})
	}
}

func TestVerifyPasswordBcrypt(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("imported"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	b := string(h) // "$2a$04$..."
	tests := []struct {
		name     string
		encoded  string
		password string
		want     bool
	}{
		{"2a match", b, "imported", true},
		{"2a mismatch", b, "imported!", false},
		{"2b match", "$2b$" + b[4:], "imported", true},
		{"2y match", "$2y$" + b[4:], "imported", true},
		{"2b mismatch", "$2b$" + b[4:], "Imported", false},
		// Bcrypt ignores bytes past 72; such passwords never match.
		{"longer than 72 bytes", b, "imported" + strings.Repeat("x", 70), false},
		// A well-known vector (OpenBSD test suite style, cost 5).
		{"known vector", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.encoded, tt.password)
			if err != nil || ok != tt.want {
				t.Fatalf("VerifyPassword(%q, %q) = %v, %v, want %v, nil", tt.encoded, tt.password, ok, err, tt.want)
			}
		})
	}
}

func FuzzVerifyPassword(f *testing.F) {
	f.Add(mustHash(f, "pw", testParams), "pw")
	f.Add("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U")
	f.Add("$argon2id$v=19$m=32,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Odkw9q5MmZVTnFlDs3GCvg", "password")
	f.Fuzz(func(t *testing.T, encoded, password string) {
		// Keep the fuzzer from spending its time on legitimately
		// expensive parameters; it is after panics and bound violations.
		if d, err := decodeArgon2id(encoded); err == nil && d.params.Memory*d.params.Time > 1<<14 {
			t.Skip()
		}
		if strings.HasPrefix(encoded, "$2") {
			if c, err := bcrypt.Cost([]byte(encoded)); err == nil && c > 6 {
				t.Skip()
			}
		}
		ok, err := VerifyPassword(encoded, password)
		if err != nil && ok {
			t.Fatalf("VerifyPassword(%q, %q) = true with error %v", encoded, password, err)
		}
	})
}
