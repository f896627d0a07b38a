package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionkit/sessionkit/backend/memory"
	"github.com/sessionkit/sessionkit/backend/sqlite"
	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

// appendWriters and appendsPerWriter size the contention tests: 64 clients
// on one agent, as in the report that every append must be acknowledged.
const (
	appendWriters    = 64
	appendsPerWriter = 4
)

// contentionServer starts one API server over repo on loopback and returns
// its URL.
func contentionServer(t *testing.T, repo session.Repository) string {
	t.Helper()
	srv, err := server.New(server.Options{
		Repository: repo,
		AdminToken: adminToken,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

func openSQLite(t *testing.T, dir string) *sqlite.Repository {
	t.Helper()
	r, err := sqlite.Open(context.Background(), dir, sqlite.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// postJSON sends body to url with the admin token and decodes the JSON
// answer.
func postJSON(ctx context.Context, c *http.Client, url, body string) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("status %d: decode: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, out, nil
}

// TestAPI_AppendWithoutIDUnderContentionIsAlwaysAcknowledged is observed
// item 1 of issue 15: 64 clients appending without message_id to ONE agent
// got 409s once the server's retries ran out. Every append must be
// acknowledged (201), with ids dense from 0, none lost or duplicated —
// through one server, and through two servers over one SQLite directory.
func TestAPI_AppendWithoutIDUnderContentionIsAlwaysAcknowledged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		servers func(t *testing.T) (session.Repository, []string)
	}{
		{"memory", func(t *testing.T) (session.Repository, []string) {
			r := memory.New(memory.Options{})
			t.Cleanup(func() { _ = r.Close() })
			return r, []string{contentionServer(t, r)}
		}},
		{"sqlite", func(t *testing.T) (session.Repository, []string) {
			r := openSQLite(t, t.TempDir())
			return r, []string{contentionServer(t, r)}
		}},
		{"memory without AppendMessage (CreateMessage retries)", func(t *testing.T) (session.Repository, []string) {
			r := memory.New(memory.Options{})
			t.Cleanup(func() { _ = r.Close() })
			return r, []string{contentionServer(t, plainRepository{r})}
		}},
		{"sqlite two servers on one directory", func(t *testing.T) (session.Repository, []string) {
			dir := t.TempDir()
			r1, r2 := openSQLite(t, dir), openSQLite(t, dir)
			return r1, []string{contentionServer(t, r1), contentionServer(t, r2)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			repo, urls := tt.servers(t)
			require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "s"}))
			require.NoError(t, repo.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: appendWriters}}
			t.Cleanup(client.CloseIdleConnections)

			type ack struct {
				id   int
				text string
			}
			acks := make(chan ack, appendWriters*appendsPerWriter)
			failures := make(chan string, appendWriters*appendsPerWriter)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for w := range appendWriters {
				url := urls[w%len(urls)] + "/api/sessions/s/agents/a/messages"
				wg.Go(func() {
					<-start
					for i := range appendsPerWriter {
						text := fmt.Sprintf("w%d-%d", w, i)
						status, body, err := postJSON(ctx, client, url, `{"message":{"role":"user","content":[{"text":"`+text+`"}]}}`)
						if err != nil || status != http.StatusCreated {
							failures <- fmt.Sprintf("%s: status %d, %v, %v", text, status, body, err)
							continue
						}
						acks <- ack{int(body["message_id"].(float64)), text}
					}
				})
			}
			close(start)
			wg.Wait()
			close(acks)
			close(failures)
			var failed []string
			for f := range failures {
				failed = append(failed, f)
			}
			require.Empty(t, failed, "%d of %d appends not acknowledged", len(failed), appendWriters*appendsPerWriter)

			total := appendWriters * appendsPerWriter
			byID := map[int]string{}
			for a := range acks {
				prev, dup := byID[a.id]
				require.False(t, dup, "id %d acknowledged to %q and %q", a.id, prev, a.text)
				byID[a.id] = a.text
			}
			require.Len(t, byID, total)
			msgs, err := repo.ListMessages(ctx, "s", "a", 0, 0)
			require.NoError(t, err)
			require.Len(t, msgs, total)
			for i, m := range msgs {
				require.Equal(t, i, m.ID, "ids dense from 0")
				got, _ := m.Message.Content[0].Text()
				assert.Equal(t, byID[i], got, "message %d holds what was acknowledged for it", i)
			}
		})
	}
}

// plainRepository hides the optional capabilities of the repository it
// embeds, as a third-party repository without AppendMessage would be.
type plainRepository struct{ session.Repository }

// alwaysConflicting loses every CreateMessage race.
type alwaysConflicting struct{ plainRepository }

func (alwaysConflicting) CreateMessage(context.Context, string, string, *session.Message) error {
	return session.ErrConflict
}

// An append without an id on a store without AppendMessage retries lost
// races until the request's deadline, and then answers 504, not 409: the
// client did nothing wrong. With message_id a lost race stays a 409.
func TestAPI_AppendWithoutIDGivesUpOnlyAtTheDeadline(t *testing.T) {
	t.Parallel()
	repo := memory.New(memory.Options{})
	t.Cleanup(func() { _ = repo.Close() })
	ctx := context.Background()
	require.NoError(t, repo.CreateSession(ctx, &session.Session{ID: "s"}))
	require.NoError(t, repo.CreateAgent(ctx, "s", &session.Agent{ID: "a"}))
	srv, err := server.New(server.Options{
		Repository:     alwaysConflicting{plainRepository{repo}},
		AdminToken:     adminToken,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		RequestTimeout: 200 * time.Millisecond,
	})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	tests := []struct {
		name, body string
		want       int
		code       string
	}{
		{"without message_id", `{"message":{"role":"user","content":[{"text":"x"}]}}`, http.StatusGatewayTimeout, "deadline_exceeded"},
		{"with message_id", `{"message_id":0,"message":{"role":"user","content":[{"text":"x"}]}}`, http.StatusConflict, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body, err := postJSON(ctx, http.DefaultClient, ts.URL+"/api/sessions/s/agents/a/messages", tt.body)
			require.NoError(t, err)
			assert.Equal(t, tt.want, status, "%v", body)
			assert.Equal(t, tt.code, body["error"].(map[string]any)["code"])
		})
	}
}
