package transfer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// The Strands snapshot tree: what strands-agents' SnapshotSessionManager
// writes through a local-file Storage rooted at a directory. The manager
// namespaces its keys under "session/", and a file Storage stores key K at
// <dir>/K, so every snapshot of session <sid> is a file
//
//	<dir>/session/<sid>/<key>   e.g. session/abc/scopes/agent/a1/snapshots/snapshot_latest.json
//
// which maps to session <sid>, snapshot key <key>, bytes as they are.

// snapshotNamespace is the SnapshotSessionManager's Storage namespace.
const snapshotNamespace = "session"

// ExportStrandsSnapshots writes the snapshots of every session q selects
// into the snapshot tree at dir. Sessions without snapshots write nothing.
func ExportStrandsSnapshots(ctx context.Context, repo session.Repository, q session.SessionQuery, dir string, progress Progress) (Summary, error) {
	var sum Summary
	if _, err := session.SnapshotsOf(repo); err != nil {
		return sum, err
	}
	err := Each(ctx, repo, q, func(id string) error {
		snaps, err := readSnapshots(ctx, repo, id)
		if errors.Is(err, session.ErrNotFound) {
			return nil // deleted while we listed
		}
		if err != nil {
			return err
		}
		if len(snaps) == 0 {
			return nil
		}
		for _, s := range snaps {
			path := filepath.Join(dir, snapshotNamespace, id, filepath.FromSlash(s.Key))
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(path, s.Data, 0o600); err != nil {
				return err
			}
		}
		sum.Sessions++
		sum.Snapshots += len(snaps)
		if progress != nil {
			progress(sum.Sessions)
		}
		return nil
	})
	return sum, err
}

// ImportStrandsSnapshots reads the snapshot tree at dir into repo. Each
// session is checked whole (every entry must map to a valid session id and
// key: anything else is an error naming it) before anything of it is
// written. A session that does not exist is created (application ""); one
// that exists keeps everything else it holds and gets the snapshots, unless
// it already has snapshots: then it is skipped, or with Overwrite its
// snapshots are replaced by the tree's. A failed session is rolled back: a
// session this import created is deleted, keys it wrote are deleted.
func ImportStrandsSnapshots(ctx context.Context, repo session.Repository, dir string, opts ImportOptions) (Summary, error) {
	var sum Summary
	st, err := session.SnapshotsOf(repo)
	if err != nil {
		return sum, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return sum, err
	}
	for _, e := range entries {
		if e.Name() != snapshotNamespace || !e.IsDir() {
			return sum, unmappableSnapshot(e.Name())
		}
	}
	root := filepath.Join(dir, snapshotNamespace)
	sessions, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return sum, err
	}
	for _, e := range sessions {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		rel := snapshotNamespace + "/" + e.Name()
		if !e.IsDir() || driver.ValidateSessionID(e.Name()) != nil {
			return sum, unmappableSnapshot(rel)
		}
		keys, err := snapshotFiles(filepath.Join(root, e.Name()), rel)
		if err != nil {
			return sum, err
		}
		wrote, err := storeSnapshots(ctx, repo, st, e.Name(), filepath.Join(root, e.Name()), keys, opts.Overwrite)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", rel, err)
		}
		if wrote {
			sum.Sessions++
			sum.Snapshots += len(keys)
		} else {
			sum.Skipped++
		}
		if opts.Progress != nil {
			opts.Progress(sum.Sessions + sum.Skipped)
		}
	}
	return sum, nil
}

func unmappableSnapshot(path string) error {
	return fmt.Errorf("%s: %w", path, driver.InvalidArgument("file", "is not part of the Strands snapshot tree (session/<session_id>/<key>)"))
}

// snapshotFiles returns the keys of every regular file under sdir, sorted;
// a file whose path is not a valid key, or an entry that is neither a
// directory nor a regular file, is an error naming it.
func snapshotFiles(sdir, rel string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(sdir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == sdir {
			return nil
		}
		sub, err := filepath.Rel(sdir, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(sub)
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return unmappableSnapshot(rel + "/" + key)
		}
		norm, err := driver.NormalizeSnapshotKey(key)
		if err != nil || norm != key {
			return fmt.Errorf("%s/%s: %w", rel, key, driver.InvalidArgument("key", "the file's path is not a snapshot key"))
		}
		keys = append(keys, key)
		return nil
	})
	sort.Strings(keys)
	return keys, err
}

// storeSnapshots writes one session's files; it reports false when the
// session was skipped.
func storeSnapshots(ctx context.Context, repo session.Repository, st session.SnapshotStore, id, sdir string, keys []string, overwrite bool) (bool, error) {
	created := false
	if err := repo.CreateSession(ctx, &session.Session{ID: id}); err == nil {
		created = true
	} else if !errors.Is(err, session.ErrAlreadyExists) {
		return false, err
	}
	var existing []string
	if !created {
		old, err := readSnapshotKeys(ctx, st, id)
		if err != nil {
			return false, err
		}
		if len(old) > 0 && !overwrite {
			return false, nil
		}
		existing = old
	}
	var written []string
	rollback := func(err error) error {
		if created {
			return errors.Join(err, repo.DeleteSession(context.WithoutCancel(ctx), id))
		}
		for _, k := range written {
			err = errors.Join(err, st.DeleteSnapshot(context.WithoutCancel(ctx), id, k))
		}
		return err
	}
	for _, k := range keys {
		data, err := os.ReadFile(filepath.Join(sdir, filepath.FromSlash(k)))
		if err != nil {
			return false, rollback(err)
		}
		if _, err := st.PutSnapshot(ctx, id, k, data); err != nil {
			return false, rollback(fmt.Errorf("%s: %w", k, err))
		}
		written = append(written, k)
	}
	// With Overwrite the tree replaces the session's snapshots as a whole.
	inTree := map[string]bool{}
	for _, k := range keys {
		inTree[k] = true
	}
	for _, k := range existing {
		if !inTree[k] {
			if err := st.DeleteSnapshot(ctx, id, k); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// readSnapshotKeys lists every snapshot key of a session.
func readSnapshotKeys(ctx context.Context, st session.SnapshotStore, id string) ([]string, error) {
	var keys []string
	q := session.SnapshotQuery{Limit: session.MaxSnapshotListLimit}
	for {
		page, err := st.ListSnapshots(ctx, id, q)
		if err != nil {
			return nil, err
		}
		for _, i := range page.Snapshots {
			keys = append(keys, i.Key)
		}
		if page.NextCursor == "" {
			return keys, nil
		}
		q.Cursor = page.NextCursor
	}
}
