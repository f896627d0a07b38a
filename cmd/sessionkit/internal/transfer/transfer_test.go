package transfer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	_ "github.com/sessionkit/sessionkit/backend/mongo" // mongodb://
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/demo"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/transfer"
	"github.com/sessionkit/sessionkit/internal/testservice"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func filled(t *testing.T) *memory.Repository {
	t.Helper()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	_, err := demo.Run(context.Background(), repo, demo.Options{RunID: "x"})
	require.NoError(t, err)
	return repo
}

func openSQLite(t *testing.T) session.Repository {
	t.Helper()
	repo, err := session.Open(context.Background(), "sqlite://"+filepath.ToSlash(t.TempDir()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = repo.Close() })
	return repo
}

var _ = sqlite.Options{} // the sqlite:// scheme is registered by the import

// readAll reads every session of repo, with the one field an import cannot
// restore blanked: a message's UpdatedAt moves when its guardrail event is
// recorded. The session's and its agents' UpdatedAt come back as written
// (session.TimeRestorer).
func readAll(t *testing.T, repo session.Repository) map[string]*transfer.Record {
	t.Helper()
	out := map[string]*transfer.Record{}
	require.NoError(t, transfer.Each(context.Background(), repo, session.SessionQuery{}, func(id string) error {
		rec, err := transfer.Read(context.Background(), repo, id)
		if err != nil {
			return err
		}
		for _, a := range rec.Agents {
			for _, m := range a.Messages {
				if m.GuardrailEvent != nil {
					m.UpdatedAt = nil
				}
			}
		}
		out[id] = rec
		return nil
	}))
	return out
}

func TestJSONL_RoundTripMemoryToSQLiteAndBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := filled(t)
	var buf bytes.Buffer
	sum, err := transfer.ExportJSONL(ctx, src, session.SessionQuery{}, &buf, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Sessions)
	assert.Equal(t, 3, strings.Count(buf.String(), "\n"), "one line per session")
	assert.Contains(t, buf.String(), `"__bytes_encoded__":true`, "binary content encoded the Strands way")

	dst := openSQLite(t)
	isum, err := transfer.ImportJSONL(ctx, dst, bytes.NewReader(buf.Bytes()), transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, sum, isum)
	assert.Equal(t, readAll(t, src), readAll(t, dst), "every read reproduced")

	// And back into a fresh memory repository.
	var again bytes.Buffer
	_, err = transfer.ExportJSONL(ctx, dst, session.SessionQuery{}, &again, nil)
	require.NoError(t, err)
	back := memory.New(memory.Options{})
	_, err = transfer.ImportJSONL(ctx, back, &again, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, readAll(t, src), readAll(t, back))

	// The viewer password survives, so the session stays openable.
	s, err := dst.GetSession(ctx, "demo-x-support")
	require.NoError(t, err)
	orig, err := src.GetSession(ctx, "demo-x-support")
	require.NoError(t, err)
	assert.Equal(t, orig.ViewerPasswordHash, s.ViewerPasswordHash)
}

// atMillis renders records as JSON values with every timestamp cut to the
// millisecond, the precision MongoDB stores.
func atMillis(t *testing.T, recs map[string]*transfer.Record) any {
	t.Helper()
	b, err := json.Marshal(recs)
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			if ts, err := driver.ParsePythonTime(x); err == nil {
				return driver.FormatPythonTime(ts.Truncate(time.Millisecond))
			}
		}
		return v
	}
	return walk(v)
}

// The service's move between backends: export from SQLite, import into
// MongoDB (mongo-java-server), export again and import into a fresh SQLite.
// Everything is reproduced except what the contract cannot restore (see
// readAll), with times at MongoDB's millisecond precision: the agents'
// UpdatedAt too, which the Mongo layout moves on every append
// (agents.<id>.updated_at) and the import sets back.
func TestJSONL_SQLiteToMongoAndBackReproducesEverySession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	uri := testservice.StartMongoJava(t)
	src := openSQLite(t)
	_, err := demo.Run(ctx, src, demo.Options{RunID: "m"})
	require.NoError(t, err)

	var buf bytes.Buffer
	sum, err := transfer.ExportJSONL(ctx, src, session.SessionQuery{}, &buf, nil)
	require.NoError(t, err)
	mongoRepo, err := session.Open(ctx, uri+"transfer?collection=sessions")
	require.NoError(t, err)
	t.Cleanup(func() { _ = mongoRepo.Close() })
	isum, err := transfer.ImportJSONL(ctx, mongoRepo, &buf, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, sum, isum)
	want := atMillis(t, readAll(t, src))
	assert.Equal(t, want, atMillis(t, readAll(t, mongoRepo)), "SQLite → Mongo")

	var again bytes.Buffer
	_, err = transfer.ExportJSONL(ctx, mongoRepo, session.SessionQuery{}, &again, nil)
	require.NoError(t, err)
	back := openSQLite(t)
	_, err = transfer.ImportJSONL(ctx, back, &again, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, want, atMillis(t, readAll(t, back)), "Mongo → SQLite")
}

func TestJSONL_ImportSkipsExistingUnlessOverwrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := filled(t)
	var buf bytes.Buffer
	_, err := transfer.ExportJSONL(ctx, src, session.SessionQuery{}, &buf, nil)
	require.NoError(t, err)

	dst := memory.New(memory.Options{})
	_, err = transfer.ImportJSONL(ctx, dst, bytes.NewReader(buf.Bytes()), transfer.ImportOptions{})
	require.NoError(t, err)
	require.NoError(t, dst.UpdateMetadata(ctx, "demo-x-travel", map[string]any{"changed": true}))

	sum, err := transfer.ImportJSONL(ctx, dst, bytes.NewReader(buf.Bytes()), transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, transfer.Summary{Skipped: 3}, sum)
	md, err := dst.GetMetadata(ctx, "demo-x-travel")
	require.NoError(t, err)
	assert.Equal(t, true, md["changed"], "not overwritten")

	var progress []int
	sum, err = transfer.ImportJSONL(ctx, dst, bytes.NewReader(buf.Bytes()), transfer.ImportOptions{Overwrite: true,
		Progress: func(n int) { progress = append(progress, n) }})
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Sessions)
	assert.Equal(t, []int{1, 2, 3}, progress)
	md, err = dst.GetMetadata(ctx, "demo-x-travel")
	require.NoError(t, err)
	assert.NotContains(t, md, "changed", "deleted and recreated")
	assert.Equal(t, readAll(t, src), readAll(t, dst))
}

func TestJSONL_BadInputWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := map[string]string{
		"malformed":        `{"session":`,
		"unknown field":    `{"session":{"session_id":"a"},"bogus":1}`,
		"no session":       `{"agents":[]}`,
		"bad id":           `{"session":{"session_id":"a/b"}}`,
		"bad agent":        `{"session":{"session_id":"a"},"agents":[{"agent_id":"$x","messages":[]}]}`,
		"gap in messages":  `{"session":{"session_id":"a"},"agents":[{"agent_id":"x","messages":[{"message_id":1,"message":{"role":"user","content":[]}}]}]}`,
		"bad role":         `{"session":{"session_id":"a"},"agents":[{"agent_id":"x","messages":[{"message_id":0,"message":{"role":"system","content":[]}}]}]}`,
		"feedback target":  `{"session":{"session_id":"a"},"feedback":[{"rating":"up","agent_id":"nobody","message_id":0}]}`,
		"guardrail target": `{"session":{"session_id":"a"},"guardrail_events":[{"agent_id":"x","message_id":0,"action":"BLOCKED","timestamp":"2026-01-01T00:00:00Z"}]}`,
		"snapshot key":     `{"session":{"session_id":"a"},"snapshots":[{"key":"a/../b","data":"eA=="}]}`,
		"snapshot twice":   `{"session":{"session_id":"a"},"snapshots":[{"key":"k","data":"eA=="},{"key":"/k/","data":"eQ=="}]}`,
		"snapshot base64":  `{"session":{"session_id":"a"},"snapshots":[{"key":"k","data":"not base64!"}]}`,
		"snapshot null":    `{"session":{"session_id":"a"},"snapshots":[null]}`,
	}
	for name, line := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dst := memory.New(memory.Options{})
			_, err := transfer.ImportJSONL(ctx, dst, strings.NewReader(line+"\n"), transfer.ImportOptions{})
			require.Error(t, err)
			page, lerr := dst.ListSessions(ctx, session.SessionQuery{})
			require.NoError(t, lerr)
			assert.Empty(t, page.Sessions, "nothing left behind")
		})
	}
}

func TestStrands_RoundTripThroughFileLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := filled(t)
	dir := t.TempDir()
	sum, err := transfer.ExportStrands(ctx, src, session.SessionQuery{}, dir, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Sessions)
	for _, p := range []string{
		"session_demo-x-support/session.json",
		"session_demo-x-support/agents/agent_support-agent/agent.json",
		"session_demo-x-support/agents/agent_support-agent/messages/message_0.json",
		"session_demo-x-support/agents/agent_support-agent/messages/message_9.json",
		"session_demo-x-travel/agents/agent_booker/agent.json",
	} {
		_, err := os.Stat(filepath.Join(dir, p))
		assert.NoError(t, err, p)
	}
	fi, err := os.Stat(filepath.Join(dir, "session_demo-x-support/multi_agents"))
	require.NoError(t, err)
	assert.True(t, fi.IsDir())

	dst := openSQLite(t)
	isum, err := transfer.ImportStrands(ctx, dst, dir, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, sum, isum)

	// What Strands keeps round-trips: ids, times, agent state and messages
	// (with redactions).
	for _, id := range []string{"demo-x-support", "demo-x-travel", "demo-x-billing"} {
		a, err := src.GetSession(ctx, id)
		require.NoError(t, err)
		b, err := dst.GetSession(ctx, id)
		require.NoError(t, err)
		assert.True(t, a.CreatedAt.Equal(b.CreatedAt), id)
		agents, err := src.ListAgents(ctx, id)
		require.NoError(t, err)
		for _, ag := range agents {
			got, err := dst.GetAgent(ctx, id, ag.ID)
			require.NoError(t, err)
			assert.Equal(t, ag.State, got.State)
			assert.Equal(t, ag.ConversationManagerState, got.ConversationManagerState)
			assert.Equal(t, ag.InternalState, got.InternalState)
			want, err := src.ListMessages(ctx, id, ag.ID, 0, 0)
			require.NoError(t, err)
			have, err := dst.ListMessages(ctx, id, ag.ID, 0, 0)
			require.NoError(t, err)
			require.Len(t, have, len(want))
			for i := range want {
				assert.Equal(t, want[i].Message, have[i].Message)
				assert.Equal(t, want[i].RedactMessage, have[i].RedactMessage)
				assert.True(t, want[i].CreatedAt.Equal(have[i].CreatedAt))
			}
		}
	}

	// Importing again skips; a gap in message files is refused.
	isum, err = transfer.ImportStrands(ctx, dst, dir, transfer.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, 3, isum.Skipped)
	require.NoError(t, os.Remove(filepath.Join(dir, "session_demo-x-billing/agents/agent_support-agent/messages/message_1.json")))
	_, err = transfer.ImportStrands(ctx, memory.New(memory.Options{}), dir, transfer.ImportOptions{})
	require.ErrorIs(t, err, session.ErrInvalidArgument)
}
