package sqlite

import (
	"time"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.TimePrecisionReporter = (*Repository)(nil)

// TimePrecision implements session.TimePrecisionReporter: times are stored
// as integer microseconds.
func (r *Repository) TimePrecision() time.Duration { return time.Microsecond }
