package session

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Opener opens a Repository for a URL whose scheme it was registered for.
// It owns what it opens: closing the Repository releases it.
type Opener func(ctx context.Context, u *url.URL) (Repository, error)

// Wrapper decorates a Repository according to a URL, for example a cache
// configured by "redis://host:6379/0". It returns a Repository whose Close
// also closes inner.
type Wrapper func(ctx context.Context, inner Repository, u *url.URL) (Repository, error)

var registry = struct {
	sync.RWMutex
	openers  map[string]Opener
	wrappers map[string]Wrapper
}{openers: map[string]Opener{}, wrappers: map[string]Wrapper{}}

// Register makes a backend available to Open under a URL scheme ("memory",
// "mongodb", "sqlite", ...). Backend packages call it from init, in the
// spirit of database/sql drivers. It panics if the scheme is taken or opener
// is nil.
func Register(scheme string, opener Opener) {
	registry.Lock()
	defer registry.Unlock()
	if opener == nil {
		panic("session: Register opener is nil")
	}
	if _, dup := registry.openers[scheme]; dup {
		panic("session: Register called twice for scheme " + scheme)
	}
	registry.openers[scheme] = opener
}

// RegisterWrapper makes a decorator available to Open under the scheme of
// the URL given in a backend URL's "cache" parameter ("redis", "rediss").
// It panics if the scheme is taken or w is nil.
func RegisterWrapper(scheme string, w Wrapper) {
	registry.Lock()
	defer registry.Unlock()
	if w == nil {
		panic("session: RegisterWrapper wrapper is nil")
	}
	if _, dup := registry.wrappers[scheme]; dup {
		panic("session: RegisterWrapper called twice for scheme " + scheme)
	}
	registry.wrappers[scheme] = w
}

// Schemes lists the registered backend schemes, sorted.
func Schemes() []string {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]string, 0, len(registry.openers))
	for s := range registry.openers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Open returns the Repository a URL names, so that a service can pick its
// backend from one environment variable:
//
//	memory://
//	sqlite:///var/lib/sessionkit            (import backend/sqlite)
//	mongodb://host/db?collection=sessions   (import backend/mongo)
//
// A "cache" query parameter wraps the backend in the decorator registered for
// the cache URL's scheme, e.g. "mongodb://h/db?cache=redis://127.0.0.1:6379/0"
// (import backend/rediscache). The parameter is removed before the backend
// sees the URL. Errors never include the URL's password.
func Open(ctx context.Context, rawURL string) (Repository, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, invalidArgument("url", "cannot parse %q", RedactURL(rawURL))
	}
	q := u.Query()
	cacheURL := q.Get("cache")
	if cacheURL != "" {
		q.Del("cache")
		u.RawQuery = q.Encode()
	}
	registry.RLock()
	open := registry.openers[u.Scheme]
	registry.RUnlock()
	if open == nil {
		return nil, invalidArgument("url", "no backend registered for scheme %q (registered: %s); import its package",
			u.Scheme, strings.Join(Schemes(), ", "))
	}
	repo, err := open(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", RedactURL(u.String()), err)
	}
	if cacheURL == "" {
		return repo, nil
	}
	cu, err := url.Parse(cacheURL)
	if err != nil {
		_ = repo.Close()
		return nil, invalidArgument("cache", "cannot parse %q", RedactURL(cacheURL))
	}
	registry.RLock()
	wrap := registry.wrappers[cu.Scheme]
	registry.RUnlock()
	if wrap == nil {
		_ = repo.Close()
		return nil, invalidArgument("cache", "no cache registered for scheme %q; import its package", cu.Scheme)
	}
	wrapped, err := wrap(ctx, repo, cu)
	if err != nil {
		_ = repo.Close()
		return nil, fmt.Errorf("open cache %s: %w", RedactURL(cacheURL), err)
	}
	return wrapped, nil
}

// secretParamWords mark a query parameter whose value RedactURL masks when
// its lower-cased name contains one of them ("pass" covers "password" and
// SQLite's "_auth_pass").
var secretParamWords = []string{"pass", "pwd", "secret", "token", "key", "credential", "signature"}

// RedactURL returns raw with any password replaced by "xxxxx" and the values
// of secret-looking query parameters ("password", "_auth_pass", "secret",
// "token", "apikey", ...) masked, for use in logs, errors and stats. A
// "cache" parameter is redacted recursively. Unparsable input is replaced
// entirely.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable url>"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	changed := false
	for k := range q {
		lk := strings.ToLower(k)
		for _, s := range secretParamWords {
			if strings.Contains(lk, s) {
				q.Set(k, "xxxxx")
				changed = true
				break
			}
		}
		if lk == "cache" {
			q.Set(k, RedactURL(q.Get(k)))
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
