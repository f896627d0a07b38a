package trpc

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"trpc.group/trpc-go/trpc-agent-go/event"
	"trpc.group/trpc-go/trpc-agent-go/model"
	"trpc.group/trpc-go/trpc-agent-go/session"
	"trpc.group/trpc-go/trpc-agent-go/session/inmemory"

	"github.com/sessionkit/sessionkit/bench/peers/workload"
)

const invocation = "invocation-1"

func openMemory(tb testing.TB) *inmemory.SessionService {
	svc := inmemory.NewSessionService()
	tb.Cleanup(func() { _ = svc.Close() })
	return svc
}

func key(sid string) session.Key {
	return session.Key{AppName: workload.App, UserID: workload.User, SessionID: sid}
}

// messageEvent is an event carrying one model message.
func messageEvent(author string, msg model.Message) *event.Event {
	return event.NewResponseEvent(invocation, author, &model.Response{
		Object:  model.ObjectTypeChatCompletion,
		Done:    true,
		Choices: []model.Choice{{Message: msg}},
	})
}

func seedEvent(i int) *event.Event {
	role, s := workload.SeedText(i)
	if role == "user" {
		return messageEvent("user", model.NewUserMessage(s))
	}
	return messageEvent(workload.Agent, model.NewAssistantMessage(s))
}

// rotation creates a fresh session seeded with n events each time the
// workload asks for one, deleting the previous one.
type rotation struct {
	tb   testing.TB
	svc  *inmemory.SessionService
	seq  int
	sess *session.Session
}

func (r *rotation) fresh(n int) {
	if r.sess != nil {
		require.NoError(r.tb, r.svc.DeleteSession(context.Background(), key(r.sess.ID)))
	}
	r.seq++
	r.sess = seed(r.tb, r.svc, fmt.Sprintf("session-%d", r.seq), n)
}

// seed creates session sid holding n events and returns its handle.
func seed(tb testing.TB, svc *inmemory.SessionService, sid string, n int) *session.Session {
	ctx := context.Background()
	sess, err := svc.CreateSession(ctx, key(sid), session.StateMap{})
	require.NoError(tb, err)
	for i := range n {
		require.NoError(tb, svc.AppendEvent(ctx, sess, seedEvent(i)))
	}
	return sess
}

// toolTurn appends a four-message tool-using turn, the answer carrying the
// state update: question, tool call, tool result, answer.
func toolTurn(ctx context.Context, svc *inmemory.SessionService, sess *session.Session, turn int) error {
	id := workload.ToolUseID(turn)
	call := model.Message{Role: model.RoleAssistant, ToolCalls: []model.ToolCall{{
		Type:     "function",
		ID:       id,
		Function: model.FunctionDefinitionParam{Name: workload.ToolName, Arguments: workload.ToolInputJSON(turn)},
	}}}
	answer := messageEvent(workload.Agent, model.NewAssistantMessage(workload.Answer))
	answer.StateDelta = map[string][]byte{workload.StateKey: []byte(workload.StateValue(turn))}
	for _, ev := range []*event.Event{
		messageEvent("user", model.NewUserMessage(workload.Question)),
		messageEvent(workload.Agent, call),
		messageEvent(workload.Agent, model.NewToolMessage(id, workload.ToolName, workload.ToolResult)),
		answer,
	} {
		if err := svc.AppendEvent(ctx, sess, ev); err != nil {
			return err
		}
	}
	return nil
}
