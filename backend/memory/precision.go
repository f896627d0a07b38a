package memory

import (
	"time"

	"github.com/sessionkit/sessionkit/session"
)

var _ session.TimePrecisionReporter = (*Repository)(nil)

// TimePrecision implements session.TimePrecisionReporter: times are kept
// at microseconds (driver.UTCMicro).
func (r *Repository) TimePrecision() time.Duration { return time.Microsecond }
