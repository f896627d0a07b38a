package driver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// JSON that encoding/json would decode lossily (invalid UTF-8, lone
// surrogates, both replaced by U+FFFD) is rejected, so distinct inputs
// never alias to one stored value.
func TestCheckJSONText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"plain", `{"a":"b"}`, true},
		{"escaped pair", `"\ud83d\ude00"`, true},
		{"raw emoji", `"😀"`, true},
		{"escaped backslash then u", `"\\ud800"`, true},
		{"BMP escape", `"\u00e9\u2028"`, true},
		{"surrogate-looking text outside strings", `{"\u0041":1}`, true},
		{"lone high surrogate", `"\ud800"`, false},
		{"lone high surrogate upper case", `{"k":"x\uD800y"}`, false},
		{"lone low surrogate", `"\udc00"`, false},
		{"high then non-surrogate escape", `"\ud800\u0041"`, false},
		{"high then high", `"\ud800\ud800"`, false},
		{"high at end", `"\ud83d`, false},
		{"reversed pair", `"\ude00\ud83d"`, false},
		{"invalid UTF-8", "\"a\xffb\"", false},
		{"overlong encoding", "\"\xc0\xaf\"", false},
		{"encoded surrogate bytes", "\"\xed\xa0\x80\"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := driver.CheckJSONText([]byte(tt.in))
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, session.ErrInvalidArgument)
			_, err = driver.UnmarshalValueJSON([]byte(tt.in))
			assert.ErrorIs(t, err, session.ErrInvalidArgument, "UnmarshalValueJSON applies the same rule")
		})
	}
}
