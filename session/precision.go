package session

import "time"

// TimePrecisionReporter is implemented by repositories that say how finely
// they keep times: time.Microsecond for the memory and SQLite backends (as
// Python writes them), time.Millisecond for MongoDB (a BSON date). A
// decorator that carries a copy of what it writes (backend/rediscache)
// uses it to keep exactly the value the backend stores; a repository
// that does not report it is taken to keep milliseconds, the coarsest of
// the backends.
type TimePrecisionReporter interface {
	TimePrecision() time.Duration
}
