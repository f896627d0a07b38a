package driver_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// The fuzz targets run their seed corpus (below and in testdata/fuzz) as
// ordinary tests; run them for real with, for example,
// go test -run=^$ -fuzz=FuzzUnmarshalStrandsMessage -fuzztime=1m ./session

func FuzzUnmarshalStrandsMessage(f *testing.F) {
	golden, err := filepath.Glob("testdata/strands/message_*.json")
	require.NoError(f, err)
	for _, path := range golden {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"message": {"role": "user", "content": []}, "message_id": 0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := driver.UnmarshalStrandsMessage(data)
		if err != nil {
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			return
		}
		enc, err := driver.MarshalStrandsMessage(m)
		require.NoError(t, err, "whatever decodes must encode")
		again, err := driver.UnmarshalStrandsMessage(enc)
		require.NoError(t, err, "encoded: %s", enc)
		m.CreatedAt, m.UpdatedAt = driver.UTCMicro(m.CreatedAt), driver.UTCMicro(m.UpdatedAt)
		require.Equal(t, m, again)
		enc2, err := driver.MarshalStrandsMessage(again)
		require.NoError(t, err)
		require.Equal(t, string(enc), string(enc2), "encoding is stable")
	})
}

func FuzzValidateID(f *testing.F) {
	for _, seed := range []string{"", "abc", "a/b", "a.b", "$x", "user@example.com", "a\x00", "a\x1f", "a\u2028",
		"\xff", strings.Repeat("x", 256), strings.Repeat("x", 257), "日本"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		sessionErr := driver.ValidateSessionID(id)
		agentErr := driver.ValidateAgentID(id)
		keyErr := driver.ValidateMetadataKey(id)
		for _, err := range []error{sessionErr, agentErr, keyErr} {
			if err != nil {
				require.ErrorIs(t, err, session.ErrInvalidArgument)
			}
		}
		require.Equal(t, agentErr == nil, keyErr == nil, "agent ids and metadata keys follow one rule")
		if agentErr == nil {
			require.NoError(t, sessionErr, "every agent id is a valid session id")
			require.NotContains(t, id, ".")
			require.False(t, strings.HasPrefix(id, "$"))
		}
		if sessionErr != nil {
			return
		}
		require.True(t, utf8.ValidString(id))
		require.NotEmpty(t, id)
		require.LessOrEqual(t, len(id), session.MaxIDBytes)
		require.NotContains(t, id, "/")
		for _, r := range id {
			require.False(t, unicode.IsControl(r) || r == '\u2028' || r == '\u2029', "control character %U", r)
		}
	})
}

func FuzzUnmarshalValueJSON(f *testing.F) {
	for _, seed := range []string{`null`, `1`, `1.0`, `-0.0`, `1e16`, `"\u2028"`, `[1, "a", {"b": null}]`,
		`{"__bytes_encoded__": true, "data": "SGk="}`, `{"__bytes_encoded__": 1, "data": "SGk="}`,
		`{"__bytes_encoded__": true}`, `9223372036854775808`, `{"a": {"a": {"a": []}}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := driver.UnmarshalValueJSON(data)
		if err != nil {
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			return
		}
		enc, err := driver.MarshalValueJSON(v)
		require.NoError(t, err)
		again, err := driver.UnmarshalValueJSON(enc)
		require.NoError(t, err, "encoded: %s", enc)
		require.True(t, reflect.DeepEqual(v, again), "%#v != %#v", v, again)
	})
}

func FuzzNormalize(f *testing.F) {
	f.Add("text", int64(1), 1.0, []byte{0}, uint64(1))
	f.Add("\xff", int64(-1), 1e300, []byte(nil), uint64(1)<<63)
	f.Fuzz(func(t *testing.T, s string, i int64, fl float64, b []byte, u uint64) {
		in := map[string]any{s: []any{i, fl, b, u, map[string]string{s: s}}}
		v, err := driver.Normalize("v", in)
		if err != nil {
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			return
		}
		enc, err := driver.MarshalValueJSON(v)
		require.NoError(t, err)
		back, err := driver.UnmarshalValueJSON(enc)
		require.NoError(t, err)
		require.True(t, reflect.DeepEqual(v, back), "%#v != %#v", v, back)
		clone := driver.CloneValue(v)
		require.True(t, reflect.DeepEqual(v, clone))
	})
}
