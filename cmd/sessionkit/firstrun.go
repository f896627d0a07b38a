package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// adminTokenFile is the name of the persisted admin token inside the data
// directory. It is kept so that a restart does not invalidate viewer logins.
const adminTokenFile = "admin-token"

// minAdminToken is the shortest admin token the server accepts.
const minAdminToken = 16

// adminToken is the token serve uses and where it came from.
type adminToken struct {
	value string
	// path is the file holding the token; empty when it was given by flag or
	// environment, or generated for a memory backend.
	path    string
	created bool
	// loose is set when the file is readable by other users.
	loose bool
}

// loadOrCreateAdminToken returns the admin token kept in dir, creating dir
// and the token file (mode 0600) on first use. An existing file is reused as
// is; one that is unreadable or too short is an error naming the file, never
// silently replaced, because replacing it would log every viewer out.
func loadOrCreateAdminToken(dir string) (adminToken, error) {
	path := filepath.Join(dir, adminTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		tok := strings.TrimSpace(string(b))
		if len(tok) < minAdminToken {
			return adminToken{}, fmt.Errorf("admin token file %s holds fewer than %d bytes: delete it to generate a new token, or write one there", path, minAdminToken)
		}
		loose := false
		if st, serr := os.Stat(path); serr == nil && st.Mode().Perm()&0o077 != 0 {
			loose = true
		}
		return adminToken{value: tok, path: path, loose: loose}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return adminToken{}, fmt.Errorf("read admin token file: %w (fix its permissions or pass --admin-token)", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return adminToken{}, fmt.Errorf("create data directory %s: %w (pass --data-dir with a writable directory)", dir, err)
	}
	tok := newToken()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another serve created it first: use theirs
		return loadOrCreateAdminToken(dir)
	}
	if err != nil {
		return adminToken{}, fmt.Errorf("create admin token file: %w (pass --admin-token or a writable --data-dir)", err)
	}
	_, werr := f.WriteString(tok + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = os.Remove(path)
		return adminToken{}, fmt.Errorf("write admin token file %s: %w", path, err)
	}
	return adminToken{value: tok, path: path, created: true}, nil
}

// dataDirFor returns the absolute directory the resolved backend keeps its data
// in: the SQLite directory, or --data-dir for the other backends (which only
// keep the admin token there). It is empty for a memory backend.
func (b *backendFlags) dataDirFor(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err == nil && u.Scheme == "memory" {
		return "", nil
	}
	if err == nil && u.Scheme == "sqlite" {
		return sqliteDir(raw)
	}
	d := b.dataDir
	if d == "" {
		d = "./sessionkit-data"
	}
	return filepath.Abs(d)
}

// isMemory reports whether the backend URL keeps data only in this process
// (a cache in front of it does not change that).
func isMemory(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "memory"
}

// warnIfMemory tells the user that what a command writes is gone when it
// exits, so a memory-backed import or demo is not mistaken for a saved one.
func warnIfMemory(log *slog.Logger, raw, what string) {
	if isMemory(raw) {
		log.Warn("the memory backend keeps data only while this process runs: "+what+" is discarded when it exits; use --data-dir (SQLite) or --mongo-uri to keep it", "backend", "memory://")
	}
}

// storeMissing reports, for a SQLite URL whose directory does not exist, an
// error telling the user where the command looked. Commands that only read
// (export) call it before opening, because opening would create an empty
// store and make a wrong --data-dir look like an empty one.
func storeMissing(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "sqlite" {
		return nil
	}
	dir, err := sqliteDir(raw)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no store at %s: nothing to export (pass --data-dir or --url naming the store you wrote to)", dir)
	}
	return nil
}
