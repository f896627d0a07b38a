package mongo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestEscapeKey_RoundTripsAndTouchesOnlyWhatServersReject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key     string
		escaped bool
	}{
		{"plain", false}, {"with space", false}, {"ünï", false}, {"", false}, {"100%", false},
		{"a.b", true}, {"$schema", true}, {"$ref.x", true}, {"a$b", false}, {escapePrefix + "x", true}, {"%2E.", true},
	} {
		got := escapeKey(tc.key)
		assert.Equal(t, tc.escaped, got != tc.key, "key %q", tc.key)
		if tc.escaped {
			assert.NotContains(t, got, ".", "key %q", tc.key)
			assert.NotEqual(t, byte('$'), got[0], "key %q", tc.key)
		}
		assert.Equal(t, tc.key, unescapeKey(got), "key %q", tc.key)
	}
}

func TestFromBSON_CanonicalValues(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 3, 23, 10, 0, 0, 123e6, time.UTC)
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{"int32", int32(7), int64(7)},
		{"int64", int64(1) << 40, int64(1) << 40},
		{"double", 2.5, 2.5},
		{"binary", bson.Binary{Subtype: 0, Data: []byte{1, 2}}, []byte{1, 2}},
		{"null", nil, nil},
		{"date", bson.NewDateTimeFromTime(date), "2026-03-23T10:00:00.123Z"},
		{"document", bson.D{{Key: escapeKey("a.b"), Value: int32(1)}}, map[string]any{"a.b": int64(1)}},
		{"array", bson.A{int32(1), "x", nil}, []any{int64(1), "x", nil}},
	} {
		assert.Equal(t, tc.want, fromBSON(tc.in), tc.name)
	}
}

func TestToBSON_SortsEscapesAndRoundTrips(t *testing.T) {
	t.Parallel()
	in := map[string]any{"z": int64(1), "a.b": []any{map[string]any{"$x": []byte("hi")}}, "m": nil}
	d := mapToD(in)
	require.Len(t, d, 3)
	assert.Equal(t, escapeKey("a.b"), d[0].Key)
	raw, err := bson.Marshal(d)
	require.NoError(t, err)
	var back bson.D
	require.NoError(t, bson.Unmarshal(raw, &back))
	assert.Equal(t, in, fromBSON(back))
}

func TestPasswordNeverInRedactedErrors(t *testing.T) {
	t.Parallel()
	uri := "mongodb://user:s3cr3t@127.0.0.1:1/?authSource=admin"
	assert.Equal(t, "s3cr3t", passwordOf(uri))
	err := redactErr(assert.AnError, uri)
	assert.NotContains(t, err.Error(), "s3cr3t")
	err = redactErr(errString("dial mongodb://user:s3cr3t@host failed"), uri)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

type errString string

func (e errString) Error() string { return string(e) }
