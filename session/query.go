package session

import (
	"reflect"
	"strings"
)

// Matches reports whether s satisfies the filters of q (not its cursor or
// limit). q must come from driver.PrepareQuery. Backends that filter in process use
// it; the others must agree with it.
func (q SessionQuery) Matches(s *Session) bool {
	if q.ApplicationName != "" && s.ApplicationName != q.ApplicationName {
		return false
	}
	if q.Type != "" && s.Type != q.Type {
		return false
	}
	if q.IDPrefix != "" && !strings.HasPrefix(s.ID, q.IDPrefix) {
		return false
	}
	if q.ForkedFrom != "" && (s.ForkedFrom == nil || s.ForkedFrom.SessionID != q.ForkedFrom) {
		return false
	}
	if !q.CreatedFrom.IsZero() && s.CreatedAt.Before(q.CreatedFrom) {
		return false
	}
	if !q.CreatedTo.IsZero() && !s.CreatedAt.Before(q.CreatedTo) {
		return false
	}
	for k, want := range q.Metadata {
		got, ok := s.Metadata[k]
		if !ok || !reflect.DeepEqual(got, want) {
			return false
		}
	}
	return true
}
