// Package demo runs sessionkit's guided tour: scripted agent conversations
// written through the session manager into any repository — several
// applications and sessions, tool calls, a guardrail redaction, per-turn
// metrics, metadata and feedback (with the manager's hooks firing) — and
// then resumes one conversation in a fresh manager, as a new process would,
// and prints its timeline.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/internal/timeline"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
	"github.com/sessionkit/sessionkit/session/manager/scripted"
)

// Options configures Run. The zero value is useful.
type Options struct {
	// RunID distinguishes this run's session ids ("demo-<RunID>-..."), so
	// running the demo twice into one store never collides. Default: 8
	// random hex characters.
	RunID string
	// Hooks are the session-manager hooks (SNS, SQS, WebSocket) every
	// demo manager runs.
	Hooks []manager.Hook
	// Out receives the narration and the resumed timeline. Default:
	// io.Discard.
	Out io.Writer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Result says what Run wrote.
type Result struct {
	// SessionIDs are the sessions created, in creation order.
	SessionIDs []string
	// ViewerPasswords maps each session id to its session-viewer password
	// (the store keeps only the hash; this is the only copy).
	ViewerPasswords map[string]string
	// Resumed is the session the demo resumed and printed.
	Resumed string
}

// Application names the demo uses.
const (
	AppSupport = "customer-support-bot"
	AppTravel  = "travel-planner"
)

// ToolLookupOrder is the tool the support conversation calls.
const ToolLookupOrder = "lookup_order"

// Run writes the demo sessions into repo and prints a tour to opts.Out. It
// does not close repo.
func Run(ctx context.Context, repo session.Repository, opts Options) (*Result, error) {
	if opts.RunID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opts.RunID = hex.EncodeToString(b)
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &demo{repo: repo, opts: opts, res: &Result{ViewerPasswords: map[string]string{}}}
	for _, step := range []func(context.Context) error{d.support, d.travel, d.billing} {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if err := d.resume(ctx, d.res.SessionIDs[0]); err != nil {
		return nil, fmt.Errorf("demo: resume: %w", err)
	}
	return d.res, nil
}

type demo struct {
	repo session.Repository
	opts Options
	res  *Result
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.opts.Out, format+"\n", args...)
}

func (d *demo) id(name string) string { return "demo-" + d.opts.RunID + "-" + name }

// open starts a manager for a new demo session.
func (d *demo) open(ctx context.Context, id, app string, fields ...string) (*manager.Manager, error) {
	m, err := manager.New(ctx, d.repo, id, manager.Options{
		ApplicationName: app, MetadataFields: fields, Hooks: d.opts.Hooks, Now: d.opts.Now,
	})
	if err != nil {
		return nil, err
	}
	if !m.Created() {
		_ = m.Close()
		return nil, driver.SessionError(id, fmt.Errorf("%w: choose another run id", session.ErrAlreadyExists))
	}
	if pw, ok := m.TakeViewerPassword(); ok {
		d.res.ViewerPasswords[id] = pw
	}
	d.res.SessionIDs = append(d.res.SessionIDs, id)
	return m, nil
}

var orders = map[string]string{
	"A-1001": "2 x espresso machine, shipped 2026-05-02, charged twice on 2026-05-01 (duplicate authorisation, refund pending)",
	"A-1002": "1 x grinder, delivered 2026-04-20",
}

func lookupOrder(_ context.Context, input map[string]any) (string, error) {
	id, _ := input["order_id"].(string)
	if o, ok := orders[id]; ok {
		return o, nil
	}
	return "", fmt.Errorf("order %q not found", id)
}

func searchFlights(_ context.Context, input map[string]any) (string, error) {
	return fmt.Sprintf("3 flights %v → %v on %v; cheapest 142 EUR at 07:05", input["from"], input["to"], input["date"]), nil
}

// support is the flagship session: a tool call, a guardrail redaction,
// metadata and feedback pointing at an answer.
func (d *demo) support(ctx context.Context) error {
	id := d.id("support")
	m, err := d.open(ctx, id, AppSupport, "status", "priority")
	if err != nil {
		return err
	}
	defer m.Close()
	temp := 0.3
	a, err := m.Initialize(ctx, "support-agent", manager.AgentOptions{Config: session.AgentConfig{
		Model:        "us.anthropic.claude-sonnet-4-20250514-v1:0",
		SystemPrompt: "You are a helpful customer-support assistant.",
		PromptMetadata: &session.PromptMetadata{PromptID: "prompt-support", PromptName: "Customer Support",
			PromptVersion: "1.2.0", DeploymentName: "production", Temperature: &temp},
	}})
	if err != nil {
		return err
	}
	agent := scripted.New(a, scripted.Options{Seed: 1, Tools: map[string]scripted.Tool{ToolLookupOrder: lookupOrder}})
	turns := []scripted.Turn{
		{User: "Why was I charged twice for order A-1001?", ToolName: ToolLookupOrder,
			ToolInput: map[string]any{"order_id": "A-1001"},
			Answer:    "Order A-1001 was authorised twice by mistake; the duplicate charge is being refunded within 3-5 days.",
			State:     map[string]any{"case_type": "billing"}},
		{User: "You people are useless idiots, give me my money NOW",
			Guardrail: &scripted.Guardrail{Replacement: "[User input redacted.]",
				Answer: "I'm sorry for the trouble. The refund for A-1001 is already on its way.",
				Trace: map[string]any{"inputAssessment": map[string]any{"guardrail-1": map[string]any{
					"contentPolicy": map[string]any{"filters": []any{map[string]any{
						"type": "INSULTS", "confidence": "HIGH", "action": "BLOCKED"}}}}}}}},
		{User: "Thanks. Can I get an email confirmation?", Answer: "Done: a confirmation is on its way to the address on file."},
	}
	for _, t := range turns {
		if _, err := agent.Run(ctx, t); err != nil {
			return err
		}
	}
	if err := m.UpdateMetadata(ctx, map[string]any{"status": "resolved", "priority": "high", "customer_tier": "gold"}); err != nil {
		return err
	}
	if err := m.DeleteMetadata(ctx, []string{"customer_tier"}); err != nil {
		return err
	}
	answer := 3 // the assistant's answer to the first turn
	if _, err := m.AddFeedback(ctx, &session.Feedback{Rating: session.RatingUp, Comment: "Clear explanation of the double charge",
		AgentID: "support-agent", MessageID: &answer}); err != nil {
		return err
	}
	if _, err := m.AddFeedback(ctx, &session.Feedback{Rating: session.RatingDown, Comment: "Refund takes too long",
		Extra: map[string]any{"channel": "email"}}); err != nil {
		return err
	}
	d.say("session %s (%s): tool call %s, a guardrail redaction, metadata and 2 feedback", id, AppSupport, ToolLookupOrder)
	return nil
}

// travel is a multi-agent session: a planner and a booker.
func (d *demo) travel(ctx context.Context) error {
	id := d.id("travel")
	m, err := d.open(ctx, id, AppTravel)
	if err != nil {
		return err
	}
	defer m.Close()
	planner, err := m.Initialize(ctx, "planner", manager.AgentOptions{Config: session.AgentConfig{
		Model: "us.anthropic.claude-haiku-4-5-20251001-v1:0", SystemPrompt: "Plan trips."}})
	if err != nil {
		return err
	}
	booker, err := m.Initialize(ctx, "booker", manager.AgentOptions{
		ConversationManager: manager.SummarizingConversationManager,
		Config:              session.AgentConfig{Model: "us.anthropic.claude-haiku-4-5-20251001-v1:0", SystemPrompt: "Book what the planner chose."}})
	if err != nil {
		return err
	}
	tools := map[string]scripted.Tool{"search_flights": searchFlights}
	if _, err := scripted.New(planner, scripted.Options{Seed: 2, Tools: tools}).Run(ctx, scripted.Turn{
		User: "Plan a weekend in Lisbon from Madrid, 12 June.", ToolName: "search_flights",
		ToolInput: map[string]any{"from": "MAD", "to": "LIS", "date": "2026-06-12", "passengers": 2},
		Answer:    "Fly MAD→LIS at 07:05 on 12 June (142 EUR), back Sunday evening.",
	}); err != nil {
		return err
	}
	if _, err := scripted.New(booker, scripted.Options{Seed: 3}).Run(ctx, scripted.Turn{
		User: "Book the 07:05 MAD→LIS flight for 2.", Answer: "Booked: confirmation LX7Q2.",
	}); err != nil {
		return err
	}
	if err := m.UpdateMetadata(ctx, map[string]any{"destination": "Lisbon", "travellers": 2, "budget_eur": 600.0}); err != nil {
		return err
	}
	if _, err := m.AddFeedback(ctx, &session.Feedback{Rating: session.RatingUp, Comment: "Great plan"}); err != nil {
		return err
	}
	d.say("session %s (%s): two agents, tool call search_flights, typed metadata", id, AppTravel)
	return nil
}

// billing is a short second session of the support application, with an
// image the user sent (binary content).
func (d *demo) billing(ctx context.Context) error {
	id := d.id("billing")
	m, err := d.open(ctx, id, AppSupport, "status")
	if err != nil {
		return err
	}
	defer m.Close()
	a, err := m.Initialize(ctx, "support-agent", manager.AgentOptions{})
	if err != nil {
		return err
	}
	if _, err := a.Append(ctx, session.ChatMessage{Role: session.RoleUser, Content: []session.ContentBlock{
		session.TextBlock("Here is my receipt, and the invoice."),
		{"image": map[string]any{"format": "png", "source": map[string]any{"bytes": receiptPNG()}}},
		{"document": map[string]any{"format": "pdf", "name": "invoice-A-1001", "source": map[string]any{"bytes": invoicePDF()}}},
	}}); err != nil {
		return err
	}
	if _, err := scripted.New(a, scripted.Options{Seed: 4}).Run(ctx, scripted.Turn{
		User: "Is the VAT on it correct?", Answer: "Yes: 21% VAT on 100 EUR is 21 EUR, as shown.",
	}); err != nil {
		return err
	}
	if err := m.UpdateMetadata(ctx, map[string]any{"status": "open"}); err != nil {
		return err
	}
	d.say("session %s (%s): binary image and document content", id, AppSupport)
	return nil
}

// resume reopens a session in a new manager, as a new process would, checks
// the agent sees the redacted conversation, continues it one turn, and
// prints the timeline.
func (d *demo) resume(ctx context.Context, id string) error {
	m, err := manager.New(ctx, d.repo, id, manager.Options{Hooks: d.opts.Hooks, Now: d.opts.Now})
	if err != nil {
		return err
	}
	defer m.Close()
	if m.Created() {
		return driver.SessionError(id, errors.New("vanished before resume"))
	}
	a, err := m.Initialize(ctx, "support-agent", manager.AgentOptions{})
	if err != nil {
		return err
	}
	seen := a.Messages()
	redacted := false
	for _, msg := range seen {
		for _, b := range msg.Content {
			if t, ok := b.Text(); ok && strings.Contains(t, "[User input redacted.]") {
				redacted = true
			}
		}
	}
	if !redacted {
		return driver.SessionError(id, errors.New("resumed agent does not see the redaction"))
	}
	if _, err := scripted.New(a, scripted.Options{Seed: 5}).Run(ctx, scripted.Turn{
		User: "(next day) Has the refund arrived?", Answer: "Yes, the refund for A-1001 was completed this morning.",
	}); err != nil {
		return err
	}
	d.res.Resumed = id
	d.say("\nresumed %s in a new manager: the agent saw %d messages (the insult redacted); one more turn stored.\n", id, len(seen))
	tl, err := timeline.Build(ctx, d.repo, id)
	if err != nil {
		return err
	}
	if err := tl.WriteText(d.opts.Out); err != nil {
		return err
	}
	d.say("\nviewer password for %s: %s", id, d.res.ViewerPasswords[id])
	return nil
}
