package adk

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/glebarez/sqlite"
	"github.com/stretchr/testify/require"
	"google.golang.org/adk/v2/session"
	"google.golang.org/adk/v2/session/database"
	"google.golang.org/genai"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/sessionkit/sessionkit/bench/peers/workload"
)

const invocation = "invocation-1"

// backends opens each service the workloads run on.
var backends = []struct {
	name string
	open func(tb testing.TB) session.Service
}{
	{"memory", openMemory},
	{"sqlite", openSQLite},
}

func openMemory(testing.TB) session.Service { return session.InMemoryService() }

// openSQLite opens the database service on a fresh file with the settings
// sessionkit's backend uses: WAL, synchronous=NORMAL, foreign keys on.
func openSQLite(tb testing.TB) session.Service {
	dsn := filepath.Join(tb.TempDir(), "adk.db") +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	svc, err := database.NewSessionService(sqlite.Open(dsn), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	require.NoError(tb, err)
	require.NoError(tb, database.AutoMigrate(svc))
	return svc
}

// textEvent is an event carrying one text part.
func textEvent(ctx context.Context, author string, role genai.Role, s string) *session.Event {
	ev := session.NewEvent(ctx, invocation)
	ev.Author = author
	ev.Content = genai.NewContentFromText(s, role)
	return ev
}

func seedEvent(ctx context.Context, i int) *session.Event {
	role, s := workload.SeedText(i)
	if role == "user" {
		return textEvent(ctx, "user", genai.RoleUser, s)
	}
	return textEvent(ctx, workload.Agent, genai.RoleModel, s)
}

// rotation creates a fresh session seeded with n events each time the
// workload asks for one, deleting the previous one.
type rotation struct {
	tb   testing.TB
	svc  session.Service
	seq  int
	sess session.Session
}

func (r *rotation) fresh(n int) {
	ctx := context.Background()
	if r.sess != nil {
		require.NoError(r.tb, r.svc.Delete(ctx, &session.DeleteRequest{AppName: workload.App, UserID: workload.User, SessionID: r.sess.ID()}))
	}
	r.seq++
	r.sess = seed(r.tb, r.svc, fmt.Sprintf("session-%d", r.seq), n)
}

// seed creates session sid holding n events and returns its handle.
func seed(tb testing.TB, svc session.Service, sid string, n int) session.Session {
	ctx := context.Background()
	resp, err := svc.Create(ctx, &session.CreateRequest{AppName: workload.App, UserID: workload.User, SessionID: sid})
	require.NoError(tb, err)
	for i := range n {
		require.NoError(tb, svc.AppendEvent(ctx, resp.Session, seedEvent(ctx, i)))
	}
	return resp.Session
}

// resume loads session sid with its newest last events (all when 0), as a
// restarted process does.
func resume(ctx context.Context, svc session.Service, sid string, last int) (session.Events, error) {
	resp, err := svc.Get(ctx, &session.GetRequest{AppName: workload.App, UserID: workload.User, SessionID: sid, NumRecentEvents: last})
	if err != nil {
		return nil, err
	}
	return resp.Session.Events(), nil
}

// toolTurn appends a four-message tool-using turn, the answer carrying the
// state update: question, tool call, tool result, answer.
func toolTurn(ctx context.Context, svc session.Service, sess session.Session, turn int) error {
	id := workload.ToolUseID(turn)
	call := genai.NewPartFromFunctionCall(workload.ToolName, workload.ToolInput(turn))
	call.FunctionCall.ID = id
	result := genai.NewPartFromFunctionResponse(workload.ToolName, map[string]any{"output": workload.ToolResult})
	result.FunctionResponse.ID = id

	question := textEvent(ctx, "user", genai.RoleUser, workload.Question)
	callEv := session.NewEvent(ctx, invocation)
	callEv.Author = workload.Agent
	callEv.Content = genai.NewContentFromParts([]*genai.Part{call}, genai.RoleModel)
	resultEv := session.NewEvent(ctx, invocation)
	resultEv.Author = workload.Agent
	resultEv.Content = genai.NewContentFromParts([]*genai.Part{result}, genai.RoleUser)
	answer := textEvent(ctx, workload.Agent, genai.RoleModel, workload.Answer)
	answer.Actions.StateDelta[workload.StateKey] = workload.StateValue(turn)
	for _, ev := range []*session.Event{question, callEv, resultEv, answer} {
		if err := svc.AppendEvent(ctx, sess, ev); err != nil {
			return err
		}
	}
	return nil
}
