package transfer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// The Strands FileSessionManager layout (strands-contract §4):
//
//	<dir>/session_<sid>/session.json
//	<dir>/session_<sid>/agents/agent_<aid>/agent.json
//	<dir>/session_<sid>/agents/agent_<aid>/messages/message_<N>.json
//	<dir>/session_<sid>/multi_agents/multi_agent_<id>/multi_agent.json
//
// The files hold only what Strands knows: application name, metadata,
// agent configuration, guardrail events, metrics and feedback are not part
// of the layout and are not exported to it. The import maps every file of
// the layout and refuses anything else, naming it, rather than skip it.
const (
	sessionPrefix    = "session_"
	agentPrefix      = "agent_"
	messagePrefix    = "message_"
	multiAgentPrefix = "multi_agent_"
)

// ExportStrands writes every session q selects into dir in the Strands
// FileSessionManager layout. An existing session directory is replaced.
func ExportStrands(ctx context.Context, repo session.Repository, q session.SessionQuery, dir string, progress Progress) (Summary, error) {
	var sum Summary
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sum, err
	}
	err := Each(ctx, repo, q, func(id string) error {
		n, err := exportStrandsSession(ctx, repo, id, dir)
		if errors.Is(err, session.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		sum.Sessions++
		sum.Agents += n.Agents
		sum.Messages += n.Messages
		sum.MultiAgents += n.MultiAgents
		if progress != nil {
			progress(sum.Sessions)
		}
		return nil
	})
	return sum, err
}

func exportStrandsSession(ctx context.Context, repo session.Repository, id, dir string) (Summary, error) {
	var sum Summary
	sess, err := repo.GetSession(ctx, id)
	if err != nil {
		return sum, err
	}
	root := filepath.Join(dir, sessionPrefix+id)
	if err := os.RemoveAll(root); err != nil {
		return sum, err
	}
	b, err := driver.MarshalStrandsSession(sess)
	if err != nil {
		return sum, err
	}
	if err := writeFile(filepath.Join(root, "session.json"), b); err != nil {
		return sum, err
	}
	if err := os.MkdirAll(filepath.Join(root, "multi_agents"), 0o700); err != nil {
		return sum, err
	}
	multi, err := listMultiAgents(ctx, repo, id)
	if err != nil {
		return sum, err
	}
	for _, m := range multi {
		b, err := driver.MarshalStrandsMultiAgent(m)
		if err != nil {
			return sum, driver.MultiAgentError(id, m.ID, err)
		}
		if err := writeFile(filepath.Join(root, "multi_agents", multiAgentPrefix+m.ID, "multi_agent.json"), b); err != nil {
			return sum, err
		}
	}
	sum.MultiAgents = len(multi)
	if err := os.MkdirAll(filepath.Join(root, "agents"), 0o700); err != nil {
		return sum, err
	}
	agents, err := repo.ListAgents(ctx, id)
	if err != nil {
		return sum, err
	}
	for _, a := range agents {
		adir := filepath.Join(root, "agents", agentPrefix+a.ID)
		b, err := driver.MarshalStrandsAgent(a)
		if err != nil {
			return sum, driver.AgentError(id, a.ID, err)
		}
		if err := writeFile(filepath.Join(adir, "agent.json"), b); err != nil {
			return sum, err
		}
		if err := os.MkdirAll(filepath.Join(adir, "messages"), 0o700); err != nil {
			return sum, err
		}
		msgs, err := repo.ListMessages(ctx, id, a.ID, 0, 0)
		if err != nil {
			return sum, err
		}
		for _, m := range msgs {
			b, err := driver.MarshalStrandsMessage(m)
			if err != nil {
				return sum, driver.MessageError(id, a.ID, m.ID, err)
			}
			if err := writeFile(filepath.Join(adir, "messages", messagePrefix+strconv.Itoa(m.ID)+".json"), b); err != nil {
				return sum, err
			}
		}
		sum.Agents++
		sum.Messages += len(msgs)
	}
	return sum, nil
}

// writeFile writes b to path through a temporary file and a rename, as
// Strands does, creating the parent directory.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ImportStrands reads every session_<sid> directory of dir into repo.
func ImportStrands(ctx context.Context, repo session.Repository, dir string, opts ImportOptions) (Summary, error) {
	var sum Summary
	entries, err := os.ReadDir(dir)
	if err != nil {
		return sum, err
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), sessionPrefix) {
			return sum, unmappable(e.Name())
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		p, err := readStrandsSession(filepath.Join(dir, e.Name()))
		if err != nil {
			return sum, fmt.Errorf("%s: %w", e.Name(), err)
		}
		wrote, err := p.store(ctx, repo, opts.Overwrite)
		if err != nil {
			return sum, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if wrote {
			sum.Sessions++
			sum.Agents += len(p.agents)
			sum.MultiAgents += len(p.multiAgents)
			for _, ms := range p.messages {
				sum.Messages += len(ms)
			}
		} else {
			sum.Skipped++
		}
		if opts.Progress != nil {
			opts.Progress(sum.Sessions + sum.Skipped)
		}
	}
	return sum, nil
}

// unmappable is the error for an entry of a Strands tree that is not part
// of the layout; path names it.
func unmappable(path string) error {
	return fmt.Errorf("%s: %w", path, driver.InvalidArgument("file", "is not part of the Strands session layout"))
}

// readStrandsSession reads one session_<sid> directory: session.json,
// agents/ and multi_agents/. Any other entry is an error naming it.
func readStrandsSession(root string) (*plan, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		switch {
		case e.Name() == "session.json" && !e.IsDir():
		case (e.Name() == "agents" || e.Name() == "multi_agents") && e.IsDir():
		default:
			return nil, unmappable(e.Name())
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "session.json"))
	if err != nil {
		return nil, err
	}
	if err := checkKeys("session.json", b, sessionFileKeys); err != nil {
		return nil, err
	}
	s, err := driver.UnmarshalStrandsSession(b)
	if err != nil {
		return nil, fmt.Errorf("session.json: %w", err)
	}
	if want := strings.TrimPrefix(filepath.Base(root), sessionPrefix); s.ID != want {
		return nil, driver.InvalidArgument("session_id", "%q does not match its directory %q", s.ID, filepath.Base(root))
	}
	p := &plan{session: s, messages: map[string][]*session.Message{}}
	if p.multiAgents, err = readStrandsMultiAgents(filepath.Join(root, "multi_agents")); err != nil {
		return nil, fmt.Errorf("multi_agents/%w", err)
	}
	agentDirs, err := os.ReadDir(filepath.Join(root, "agents"))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	for _, ad := range agentDirs {
		if !ad.IsDir() || !strings.HasPrefix(ad.Name(), agentPrefix) {
			return nil, unmappable("agents/" + ad.Name())
		}
		adir := filepath.Join(root, "agents", ad.Name())
		inner, err := os.ReadDir(adir)
		if err != nil {
			return nil, err
		}
		for _, e := range inner {
			if !(e.Name() == "agent.json" && !e.IsDir()) && !(e.Name() == "messages" && e.IsDir()) {
				return nil, unmappable("agents/" + ad.Name() + "/" + e.Name())
			}
		}
		b, err := os.ReadFile(filepath.Join(adir, "agent.json"))
		if err != nil {
			return nil, err
		}
		if err := checkKeys("agents/"+ad.Name()+"/agent.json", b, agentFileKeys); err != nil {
			return nil, err
		}
		a, err := driver.UnmarshalStrandsAgent(b)
		if err != nil {
			return nil, fmt.Errorf("agents/%s/agent.json: %w", ad.Name(), err)
		}
		if a.ID != strings.TrimPrefix(ad.Name(), agentPrefix) {
			return nil, driver.InvalidArgument("agent_id", "%q does not match its directory %q", a.ID, ad.Name())
		}
		p.agents = append(p.agents, a)
		msgs, err := readStrandsMessages(filepath.Join(adir, "messages"))
		if err != nil {
			return nil, driver.AgentError(s.ID, a.ID, fmt.Errorf("agents/%s/messages/%w", ad.Name(), err))
		}
		p.messages[a.ID] = msgs
	}
	return p, nil
}

// readStrandsMultiAgents reads multi_agent_<id>/multi_agent.json for every
// orchestrator, in id order. Errors start with the path below dir, so the
// caller can prefix "multi_agents/".
func readStrandsMultiAgents(dir string) ([]*session.MultiAgent, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*session.MultiAgent
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, multiAgentPrefix) {
			return nil, unmappable(name)
		}
		inner, err := os.ReadDir(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if len(inner) == 0 {
			return nil, fmt.Errorf("%s: %w", name, driver.InvalidArgument("file", "multi_agent.json is missing"))
		}
		for _, f := range inner {
			if f.Name() != "multi_agent.json" || f.IsDir() {
				return nil, unmappable(name + "/" + f.Name())
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, name, "multi_agent.json"))
		if err != nil {
			return nil, err
		}
		m, err := driver.UnmarshalStrandsMultiAgent(strings.TrimPrefix(name, multiAgentPrefix), b)
		if err != nil {
			return nil, fmt.Errorf("%s/multi_agent.json: %w", name, err)
		}
		if _, err := driver.PrepareMultiAgent(m, m.CreatedAt); err != nil {
			return nil, fmt.Errorf("%s/multi_agent.json: %w", name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// readStrandsMessages reads message_<N>.json files in id order; ids must be
// dense from 0, as the repository requires.
func readStrandsMessages(dir string) ([]*session.Message, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type file struct {
		n    int
		name string
	}
	var files []file
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, messagePrefix) || !strings.HasSuffix(name, ".json") {
			return nil, unmappable(name)
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, messagePrefix), ".json"))
		if err != nil || n < 0 {
			return nil, driver.InvalidArgument("message file", "%q has no valid message id", name)
		}
		files = append(files, file{n, name})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].n < files[j].n })
	out := make([]*session.Message, 0, len(files))
	for i, f := range files {
		if f.n != i {
			return nil, driver.InvalidArgument("message file", "%s: want message_%d.json (ids are dense)", f.name, i)
		}
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return nil, err
		}
		if err := checkKeys(f.name, b, messageFileKeys); err != nil {
			return nil, err
		}
		m, err := driver.UnmarshalStrandsMessage(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if m.ID != f.n {
			return nil, driver.InvalidArgument("message_id", "%s holds id %d", f.name, m.ID)
		}
		out = append(out, m)
	}
	return out, nil
}
