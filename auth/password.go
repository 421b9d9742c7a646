package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// ErrInvalidHash means a stored password hash is malformed, uses an
// unsupported scheme, or asks for parameters outside the accepted bounds.
var ErrInvalidHash = errors.New("auth: invalid password hash")

// ErrEmptyPassword is returned by HashPassword for an empty password.
var ErrEmptyPassword = errors.New("auth: password must not be empty")

// Params are the argon2id (RFC 9106) cost parameters of a password hash.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen is the length of the random salt in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived hash in bytes.
	KeyLen uint32
}

// Bounds on the parameters HashPasswordWith and VerifyPassword accept, so
// that a corrupted or hostile stored hash cannot make one verification take
// gigabytes of memory or minutes of CPU.
const (
	// MaxMemory is the largest accepted argon2id memory cost, 1 GiB in KiB.
	MaxMemory = 1 << 20
	// MaxTime is the largest accepted argon2id number of passes.
	MaxTime = 16
	// MinSaltLen and MaxSaltLen bound the salt length in bytes.
	MinSaltLen, MaxSaltLen = 8, 64
	// MinKeyLen and MaxKeyLen bound the derived hash length in bytes.
	MinKeyLen, MaxKeyLen = 16, 128
	// MaxBcryptCost is the largest accepted bcrypt cost (2^16 rounds).
	MaxBcryptCost = 16
)

// DefaultParams returns the parameters HashPassword uses: 64 MiB of memory,
// 3 passes, 2 threads, a 16-byte salt and a 32-byte hash (the second
// recommended option of RFC 9106 §4, with fewer threads).
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}
}

// validate reports whether p is within the accepted bounds.
func (p Params) validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("%w: argon2id parallelism %d below 1", ErrInvalidHash, p.Threads)
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("%w: argon2id memory %d KiB below 8 KiB per thread", ErrInvalidHash, p.Memory)
	case p.Memory > MaxMemory:
		return fmt.Errorf("%w: argon2id memory %d KiB above limit %d", ErrInvalidHash, p.Memory, MaxMemory)
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Errorf("%w: argon2id passes %d outside 1..%d", ErrInvalidHash, p.Time, MaxTime)
	case p.SaltLen < MinSaltLen || p.SaltLen > MaxSaltLen:
		return fmt.Errorf("%w: argon2id salt length %d outside %d..%d", ErrInvalidHash, p.SaltLen, MinSaltLen, MaxSaltLen)
	case p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen:
		return fmt.Errorf("%w: argon2id hash length %d outside %d..%d", ErrInvalidHash, p.KeyLen, MinKeyLen, MaxKeyLen)
	}
	return nil
}

// HashPassword hashes password with argon2id and DefaultParams and returns
// it in the PHC string format,
// "$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>".
func HashPassword(password string) (string, error) {
	return HashPasswordWith(password, DefaultParams())
}

// HashPasswordWith is HashPassword with explicit parameters. They must lie
// within the bounds VerifyPassword accepts (MaxMemory, MaxTime, …);
// otherwise the error wraps ErrInvalidHash.
func HashPasswordWith(password string, p Params) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, a hash made by
// HashPassword (argon2id, with its parameters read from the string) or an
// imported bcrypt hash ("$2a$", "$2b$", "$2y$"). A mismatch is (false, nil);
// an encoding that is malformed, of another scheme or outside the accepted
// bounds is an error wrapping ErrInvalidHash. Bcrypt only looks at the first
// 72 bytes of a password, so longer passwords never match a bcrypt hash.
func VerifyPassword(encoded, password string) (bool, error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		h, err := decodeArgon2id(encoded)
		if err != nil {
			return false, err
		}
		return h.matches(password), nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return verifyBcrypt(encoded, password)
	}
	return false, fmt.Errorf("%w: unknown scheme", ErrInvalidHash)
}

// argon2idHash is a decoded PHC argon2id string.
type argon2idHash struct {
	params Params
	salt   []byte
	key    []byte
}

func (h *argon2idHash) matches(password string) bool {
	got := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// decodeArgon2id parses "$argon2id$v=19$m=M,t=T,p=P$salt$hash" strictly:
// the version must be 19, the parameters appear in that order, and salt and
// hash are unpadded standard base64.
func decodeArgon2id(encoded string) (*argon2idHash, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return nil, fmt.Errorf("%w: argon2id: want 5 '$'-separated fields", ErrInvalidHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("%w: argon2id: unsupported version %q", ErrInvalidHash, parts[2])
	}
	var h argon2idHash
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return nil, fmt.Errorf("%w: argon2id: want parameters m, t and p", ErrInvalidHash)
	}
	var vals [3]uint32
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return nil, fmt.Errorf("%w: argon2id: parameter %d is not %s", ErrInvalidHash, i+1, name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: argon2id: parameter %s is not a number", ErrInvalidHash, name)
		}
		vals[i] = uint32(n)
	}
	if vals[2] > 255 {
		return nil, fmt.Errorf("%w: argon2id: parallelism %d above 255", ErrInvalidHash, vals[2])
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return nil, fmt.Errorf("%w: argon2id: salt is not unpadded base64", ErrInvalidHash)
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return nil, fmt.Errorf("%w: argon2id: hash is not unpadded base64", ErrInvalidHash)
	}
	h.params = Params{
		Memory:  vals[0],
		Time:    vals[1],
		Threads: uint8(vals[2]),
		SaltLen: uint32(len(h.salt)),
		KeyLen:  uint32(len(h.key)),
	}
	if err := h.params.validate(); err != nil {
		return nil, err
	}
	return &h, nil
}

// bcryptHashLen is the length of "$2b$10$" + 22 salt + 31 hash characters.
const bcryptHashLen = 60

func verifyBcrypt(encoded, password string) (bool, error) {
	if len(encoded) != bcryptHashLen || encoded[6] != '$' {
		return false, fmt.Errorf("%w: bcrypt: want 60 characters \"$2b$NN$...\"", ErrInvalidHash)
	}
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return false, fmt.Errorf("%w: bcrypt: %w", ErrInvalidHash, err)
	}
	if cost > MaxBcryptCost {
		return false, fmt.Errorf("%w: bcrypt: cost %d above limit %d", ErrInvalidHash, cost, MaxBcryptCost)
	}
	if len(password) > 72 {
		return false, nil
	}
	err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: bcrypt: %w", ErrInvalidHash, err)
}
