package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/calbolt/calbolt/store"
)

// The admin socket: a running server listens on a Unix socket in its data
// directory, through which `calbolt backup` takes a hot copy and `calbolt
// check` checks the live store. Access is the file system's: the data
// directory is 0700 and the socket 0600, so only the account that runs the
// server (and root) can connect, as only it could read the data file. No
// password, and nothing of it on the network.
const adminSocketName = "calbolt.sock"

// maxSocketPath is the longest Unix socket path Linux accepts (108 bytes
// including the NUL; macOS allows 104).
const maxSocketPath = 103

func adminSocketPath(dataDir string) string { return filepath.Join(dataDir, adminSocketName) }

// serveAdmin starts the admin socket of db in dataDir. It returns a
// function that stops it and removes the socket. A socket path too long
// for the system only costs online backups: serve warns and goes on.
func serveAdmin(dataDir string, db *store.DB, log *slog.Logger) (stop func(), err error) {
	path := adminSocketPath(dataDir)
	if len(path) > maxSocketPath {
		log.Warn("the data directory's path is too long for the admin socket; online backup and check are unavailable",
			"socket", path, "max", maxSocketPath)
		return func() {}, nil
	}
	// A socket left by a server that died: this process holds the data
	// file's lock, so no other server can be using it.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the stale admin socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on the admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restricting the admin socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		n, err := db.Backup(w) // one read transaction: a consistent copy
		if err != nil {
			log.Error("online backup failed", "err", err, "bytes", n)
			return // the client sees a short body and discards it
		}
		log.Info("online backup taken", "bytes", n)
	})
	mux.HandleFunc("GET /check", func(w http.ResponseWriter, r *http.Request) {
		var problems []string
		for _, p := range db.Check() {
			problems = append(problems, p.Error())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(problems)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		srv.Close()
		os.Remove(path)
	}, nil
}

// adminClient talks to the admin socket of the server holding dataDir.
func adminClient(dataDir string) *http.Client {
	path := adminSocketPath(dataDir)
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// adminGet asks the running server for path ("/backup", "/check").
func adminGet(dataDir, path string) (*http.Response, error) {
	resp, err := adminClient(dataDir).Get("http://calbolt" + path)
	if err != nil {
		return nil, fmt.Errorf("the data file is in use by a running server, and its admin socket %s does not answer: %w",
			adminSocketPath(dataDir), err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		return nil, fmt.Errorf("the running server answered %s: %s", resp.Status, msg)
	}
	return resp, nil
}
