package manager

import (
	"context"
	"fmt"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// Fork copies the managed session, or one agent's history up to a message,
// into the new session req.ID (req.SourceID is this manager's session and
// is ignored) and returns a Manager of the fork, with this manager's
// options, to continue the conversation on a branch. It copies what is
// stored: call Sync on the agents first for state this manager still holds
// in memory. A fork gets a fresh viewer password, which the new manager's
// TakeViewerPassword hands out once. The repository must be a
// session.Forker (every backend in this module is); otherwise the error
// matches errors.ErrUnsupported.
func (m *Manager) Fork(ctx context.Context, req session.ForkRequest) (*Manager, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	f, err := session.ForkerOf(m.repo)
	if err != nil {
		return nil, fmt.Errorf("session manager: %w", err)
	}
	req.SourceID = m.sessionID
	password := driver.NewViewerPassword()
	req.ViewerPasswordHash = driver.HashViewerPassword(password)
	s, err := f.ForkSession(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("session manager: %w", err)
	}
	opts := m.opts
	opts.CloseRepository = false // the repository stays this manager's to close
	fork, err := OpenSession(m.repo, s, opts)
	if err != nil {
		return nil, err
	}
	fork.created, fork.viewerPassword = true, password
	return fork, nil
}
