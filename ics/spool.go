package ics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge reports an input longer than the limit given to Spool.
var ErrTooLarge = errors.New("ics: input exceeds the import size limit")

// spoolInMemory is the size up to which Spool keeps an input in memory.
const spoolInMemory = 1 << 20

// Spool makes a stream readable twice, as Import needs: up to 1 MiB stays
// in memory, a longer input is copied into a temporary file in dir (""
// means os.TempDir()), which release removes. More than limit bytes (when
// limit > 0) is ErrTooLarge.
func Spool(r io.Reader, name string, limit int64, dir string) (in Input, release func() error, err error) {
	nop := func() error { return nil }
	max := int64(spoolInMemory)
	if limit > 0 && limit < max {
		max = limit
	}
	head, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return Input{}, nop, fmt.Errorf("ics: reading %s: %w", name, err)
	}
	if int64(len(head)) <= max {
		if limit > 0 && int64(len(head)) > limit {
			return Input{}, nop, ErrTooLarge
		}
		return Input{Name: name, R: bytes.NewReader(head), Size: int64(len(head))}, nop, nil
	}
	if limit > 0 && limit <= spoolInMemory {
		return Input{}, nop, ErrTooLarge
	}
	f, err := os.CreateTemp(dir, "calbolt-import-*.ics")
	if err != nil {
		return Input{}, nop, fmt.Errorf("ics: spooling %s: %w", name, err)
	}
	release = func() error { return errors.Join(f.Close(), os.Remove(f.Name())) }
	rest := r
	if limit > 0 {
		rest = io.LimitReader(r, limit-int64(len(head))+1)
	}
	n, err := io.Copy(f, io.MultiReader(bytes.NewReader(head), rest))
	if err != nil {
		return Input{}, nop, errors.Join(fmt.Errorf("ics: spooling %s: %w", name, err), release())
	}
	if limit > 0 && n > limit {
		return Input{}, nop, errors.Join(ErrTooLarge, release())
	}
	return Input{Name: name, R: f, Size: n}, release, nil
}
