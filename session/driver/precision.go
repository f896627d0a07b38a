package driver

import (
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// TimePrecisionOf returns repo's time precision, or time.Millisecond when
// repo does not report one.
func TimePrecisionOf(repo any) time.Duration {
	if r, ok := repo.(session.TimePrecisionReporter); ok {
		if p := r.TimePrecision(); p > 0 {
			return p
		}
	}
	return time.Millisecond
}
