package rediscache

import (
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

var _ session.TimePrecisionReporter = (*Cache)(nil)

// TimePrecision implements session.TimePrecisionReporter: the wrapped
// repository's (driver.TimePrecisionOf: milliseconds when it does not
// say). A message written through the cache has its times cut to it
// (storable), so the copy the cache carries equals what the backend keeps.
func (c *Cache) TimePrecision() time.Duration { return driver.TimePrecisionOf(c.inner) }
