package rediscache

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func init() {
	session.RegisterWrapper("redis", Wrap)
	session.RegisterWrapper("rediss", Wrap)
}

// Wrap is the session.Wrapper registered for the "redis" and "rediss"
// schemes: it connects to the Redis the URL names and wraps inner. Cache
// options are query parameters of the cache URL; the rest of the URL
// (address, user, password, database, go-redis options such as
// dial_timeout) goes to redis.ParseURL, or redis.ParseClusterURL when the
// URL lists more nodes with "addr". See the package documentation.
func Wrap(ctx context.Context, inner session.Repository, u *url.URL) (session.Repository, error) {
	opts, rest, err := parseOptions(u)
	if err != nil {
		return nil, err
	}
	var client redis.UniversalClient
	if rest.Query().Has("addr") {
		co, err := redis.ParseClusterURL(rest.String())
		if err != nil {
			return nil, driver.InvalidArgument("cache", "%s: %s", session.RedactURL(u.String()), redactErr(err, u))
		}
		co.ContextTimeoutEnabled = true
		client = redis.NewClusterClient(co)
	} else {
		ro, err := redis.ParseURL(rest.String())
		if err != nil {
			return nil, driver.InvalidArgument("cache", "%s: %s", session.RedactURL(u.String()), redactErr(err, u))
		}
		ro.ContextTimeoutEnabled = true
		client = redis.NewClient(ro)
	}
	opts.CloseClient = true
	c, err := New(inner, client, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return c, nil
}

// redactErr keeps a parse error from echoing the password.
func redactErr(err error, u *url.URL) string {
	msg := err.Error()
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// parseOptions takes the cache's own parameters out of u.
func parseOptions(u *url.URL) (Options, *url.URL, error) {
	var o Options
	q := u.Query()
	rest := *u
	dur := func(name string) (time.Duration, error) {
		d, err := time.ParseDuration(q.Get(name))
		if err != nil || d <= 0 {
			return 0, driver.InvalidArgument("cache "+name, "%q is not a positive duration", q.Get(name))
		}
		return d, nil
	}
	num := func(name string) (int, error) {
		n, err := strconv.Atoi(q.Get(name))
		if err != nil || n <= 0 {
			return 0, driver.InvalidArgument("cache "+name, "%q is not a positive integer", q.Get(name))
		}
		return n, nil
	}
	var err error
	for name := range q {
		switch {
		case name == "prefix":
			o.Prefix = q.Get(name)
		case name == "ttl":
			o.TTL, err = dur(name)
		case strings.HasPrefix(name, "ttl."):
			var d time.Duration
			if d, err = dur(name); err == nil {
				if o.KindTTL == nil {
					o.KindTTL = map[Kind]time.Duration{}
				}
				o.KindTTL[Kind(strings.TrimPrefix(name, "ttl."))] = d
			}
		case name == "negative_ttl":
			o.NegativeTTL, err = dur(name)
		case name == "timeout":
			o.RedisTimeout, err = dur(name)
		case name == "breaker_cooldown":
			o.BreakerCooldown, err = dur(name)
		case name == "invalidate_timeout":
			o.InvalidateTimeout, err = dur(name)
		case name == "invalidate_retry":
			o.InvalidateRetry, err = dur(name)
		case name == "breaker_failures":
			o.BreakerFailures, err = num(name)
		case name == "max_value_bytes":
			o.MaxValueBytes, err = num(name)
		case name == "max_pending":
			o.MaxPending, err = num(name)
		case name == "tail_messages":
			o.TailMessages, err = num(name)
		case name == "jitter":
			o.Jitter, err = strconv.ParseFloat(q.Get(name), 64)
			if err != nil || o.Jitter < 0 || o.Jitter > 1 {
				err = driver.InvalidArgument("cache jitter", "%q is not within [0, 1]", q.Get(name))
			}
			if o.Jitter == 0 {
				o.Jitter = -1 // explicit 0 means none
			}
		default:
			continue
		}
		if err != nil {
			return o, nil, err
		}
		q.Del(name)
	}
	rest.RawQuery = q.Encode()
	if _, err := o.withDefaults(); err != nil {
		return o, nil, err
	}
	return o, &rest, nil
}
