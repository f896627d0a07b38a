package mongo

import (
	"time"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.TimePrecisionReporter = (*Repository)(nil)

// TimePrecision implements session.TimePrecisionReporter: a BSON date
// keeps milliseconds.
func (r *Repository) TimePrecision() time.Duration { return time.Millisecond }
