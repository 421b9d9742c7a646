package store

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

func TestIsNoSpace(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"write ENOSPC", &fs.PathError{Op: "write", Path: "calbolt.db", Err: syscall.ENOSPC}, true},
		{"wrapped write EDQUOT", fmt.Errorf("store: put: %w", &fs.PathError{Op: "write", Path: "calbolt.db", Err: syscall.EDQUOT}), true},
		{"fdatasync ENOSPC", syscall.ENOSPC, true},
		// bbolt's grow keeps only the text of the truncate error.
		{"bbolt grow EFBIG", fmt.Errorf("file resize error: %s", &fs.PathError{Op: "truncate", Path: "calbolt.db", Err: syscall.EFBIG}), true},
		{"bbolt grow sync ENOSPC", fmt.Errorf("file sync error: %s", syscall.ENOSPC), true},
		{"EIO", &fs.PathError{Op: "write", Path: "calbolt.db", Err: syscall.EIO}, false},
		{"not found", ErrNotFound, false},
		{"a name that says it", errors.New(`store: object "no space left on device.ics"`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsNoSpace(tt.err); got != tt.want {
				t.Errorf("IsNoSpace(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
