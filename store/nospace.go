package store

import (
	"errors"
	"strings"
	"syscall"
)

// noSpaceErrnos are the errors of a write that found no room: the disk or
// the user's quota is full, or the file reached the process's (RLIMIT_FSIZE)
// or the file system's size limit.
var noSpaceErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG}

// IsNoSpace reports whether err, from a write method, failed for lack of
// room for the data file: ENOSPC, EDQUOT or EFBIG. Such a write stored
// nothing (bbolt rolls the transaction back) and reads keep working; writes
// succeed again once there is room.
//
// It is a function rather than a sentinel because bbolt loses the error
// chain when the file must grow: it reports a failed truncate or fsync
// there as text ("file resize error: truncate …: file too large"), so the
// errno is recognised by its message too.
func IsNoSpace(err error) bool {
	if err == nil {
		return false
	}
	for _, errno := range noSpaceErrnos {
		if errors.Is(err, errno) {
			return true
		}
	}
	msg := err.Error()
	for _, errno := range noSpaceErrnos {
		if strings.HasSuffix(msg, ": "+errno.Error()) {
			return true
		}
	}
	return false
}
