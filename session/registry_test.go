package session_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
)

// closeRecorder is a Repository whose only working method is Close; the
// registry tests never call anything else on it.
type closeRecorder struct {
	session.Repository
	url    *url.URL
	inner  session.Repository
	closed atomic.Int32
}

func (r *closeRecorder) Close() error {
	r.closed.Add(1)
	if r.inner != nil {
		return r.inner.Close()
	}
	return nil
}

var (
	lastOpened  atomic.Pointer[closeRecorder]
	errOpenFail = errors.New("backend refused")
)

// The schemes are unique to this file so that other tests registering their
// own schemes never collide with them.
func init() {
	session.Register("regtest", func(_ context.Context, u *url.URL) (session.Repository, error) {
		r := &closeRecorder{url: u}
		lastOpened.Store(r)
		return r, nil
	})
	session.Register("regtest-fail", func(_ context.Context, u *url.URL) (session.Repository, error) {
		return nil, errOpenFail
	})
	session.RegisterWrapper("regtest-cache", func(_ context.Context, inner session.Repository, u *url.URL) (session.Repository, error) {
		return &closeRecorder{url: u, inner: inner}, nil
	})
	session.RegisterWrapper("regtest-cache-fail", func(_ context.Context, inner session.Repository, u *url.URL) (session.Repository, error) {
		return nil, errors.New("cache unreachable")
	})
}

func TestOpen_UnknownSchemeNamesRegisteredOnes(t *testing.T) {
	t.Parallel()
	_, err := session.Open(context.Background(), "nosuch://u:hunter2@host/db")
	require.ErrorIs(t, err, session.ErrInvalidArgument)
	assert.Contains(t, err.Error(), `"nosuch"`)
	assert.Contains(t, err.Error(), "regtest")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Contains(t, session.Schemes(), "regtest")
	assert.True(t, isSorted(session.Schemes()))
}

func isSorted(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] > s[i] {
			return false
		}
	}
	return true
}

func TestOpen_RoutesCacheParameterToWrapper(t *testing.T) {
	t.Parallel()
	repo, err := session.Open(context.Background(),
		"regtest://user:pw@host/db?collection=c&cache="+url.QueryEscape("regtest-cache://:cachepw@127.0.0.1:6379/0"))
	require.NoError(t, err)
	wrapped, ok := repo.(*closeRecorder)
	require.True(t, ok)
	require.NotNil(t, wrapped.inner, "the backend is wrapped")
	assert.Equal(t, "regtest-cache", wrapped.url.Scheme)
	assert.Equal(t, "127.0.0.1:6379", wrapped.url.Host)
	inner := wrapped.inner.(*closeRecorder)
	assert.Equal(t, "c", inner.url.Query().Get("collection"))
	assert.False(t, inner.url.Query().Has("cache"), "the backend never sees the cache parameter")
	require.NoError(t, repo.Close())
	assert.Equal(t, int32(1), inner.closed.Load(), "closing the wrapper closes the backend")
}

func TestOpen_WithoutCacheReturnsBackend(t *testing.T) {
	t.Parallel()
	repo, err := session.Open(context.Background(), "regtest:///path?x=1")
	require.NoError(t, err)
	r := repo.(*closeRecorder)
	assert.Nil(t, r.inner)
	assert.Equal(t, "1", r.url.Query().Get("x"))
}

func TestOpen_FailuresCloseTheBackendAndHideSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		url         string
		invalidArg  bool
		closesInner bool
		wrapsCause  error
	}{
		{"unparsable url", "regtest://u:hunter2@host:notaport/", true, false, nil},
		{"backend fails", "regtest-fail://u:hunter2@host/?token=hunter2", false, false, errOpenFail},
		{"unknown cache scheme", "regtest://u:hunter2@h/?cache=" + url.QueryEscape("nocache://:hunter2@h"), true, true, nil},
		{"unparsable cache url", "regtest://u:hunter2@h/?cache=" + url.QueryEscape("regtest-cache://:hunter2@h:bad"), true, true, nil},
		{"cache fails", "regtest://u:hunter2@h/?cache=" + url.QueryEscape("regtest-cache-fail://:hunter2@h"), false, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: lastOpened is shared by the subtests.
			lastOpened.Store(nil)
			repo, err := session.Open(context.Background(), tt.url)
			require.Error(t, err)
			assert.Nil(t, repo)
			assert.NotContains(t, err.Error(), "hunter2")
			if tt.invalidArg {
				assert.ErrorIs(t, err, session.ErrInvalidArgument)
			}
			if tt.wrapsCause != nil {
				assert.ErrorIs(t, err, tt.wrapsCause)
			}
			if tt.closesInner {
				r := lastOpened.Load()
				require.NotNil(t, r)
				assert.Equal(t, int32(1), r.closed.Load(), "the opened backend is closed, not leaked")
			}
		})
	}
}

func TestRegister_PanicsOnDuplicateOrNil(t *testing.T) {
	t.Parallel()
	open := func(context.Context, *url.URL) (session.Repository, error) { return nil, nil }
	wrap := func(context.Context, session.Repository, *url.URL) (session.Repository, error) { return nil, nil }
	assert.Panics(t, func() { session.Register("regtest", open) })
	assert.Panics(t, func() { session.Register("regtest-nil", nil) })
	assert.Panics(t, func() { session.RegisterWrapper("regtest-cache", wrap) })
	assert.Panics(t, func() { session.RegisterWrapper("regtest-nilwrap", nil) })
	assert.NotContains(t, session.Schemes(), "regtest-nil")
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		secrets []string
		keeps   []string
	}{
		{"mongodb://admin:hunter2@db.example:27017/app", []string{"hunter2"}, []string{"admin", "db.example:27017", "xxxxx"}},
		{"redis://:hunter2@127.0.0.1:6379/0", []string{"hunter2"}, []string{"127.0.0.1:6379"}},
		{"sqlite:///var/lib/sk?_auth_pass=hunter2&mode=rwc", []string{"hunter2"}, []string{"mode=rwc"}},
		{"x://h/?token=t0k3n&accessKey=AKIA1&client_secret=s3c&Password=p4ss&credentials=c", []string{"t0k3n", "AKIA1", "s3c", "p4ss", "=c&", "=c"}, nil},
		{"mongodb://u:hunter2@h/db?cache=" + url.QueryEscape("redis://:cachepw@r:6379/0?password=qpw"),
			[]string{"hunter2", "cachepw", "qpw"}, []string{"r%3A6379"}},
		{"mongodb://user@h/db", nil, []string{"user@h"}},
		{"mongodb://u:hunter2@h:notaport/", []string{"hunter2"}, []string{"unparsable"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := session.RedactURL(tt.in)
			for _, s := range tt.secrets {
				assert.False(t, strings.Contains(got, s), "%q leaks %q", got, s)
			}
			for _, k := range tt.keeps {
				assert.Contains(t, got, k)
			}
		})
	}
}
