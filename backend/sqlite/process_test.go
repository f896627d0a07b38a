package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// helperEnv carries the database directory to the child processes of
// TestTwoProcesses_AppendToOneAgentExactlyOnce.
const helperEnv = "SESSIONKIT_SQLITE_HELPER_DIR"

// TestHelperProcess is a child process of
// TestTwoProcesses_AppendToOneAgentExactlyOnce, not a test of its own: it
// appends messages to s1/a1 and prints "ack <text> <id>" for each one the
// store acknowledged.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("child process of TestTwoProcesses_AppendToOneAgentExactlyOnce")
	}
	name := os.Getenv(helperEnv + "_NAME")
	count, err := strconv.Atoi(os.Getenv(helperEnv + "_COUNT"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Open(ctx, dir, Options{})
	require.NoError(t, err)
	defer r.Close()
	if os.Getenv(helperEnv+"_MODE") != "append" {
		for i := range count {
			text := fmt.Sprintf("%s-%d", name, i)
			id, err := appendWithRetry(ctx, r, text)
			require.NoError(t, err)
			fmt.Printf("ack %s %d\n", text, id)
		}
		return
	}
	// AppendMessage from helperWriters goroutines at once: contention
	// inside the process as well as between the processes.
	var wg sync.WaitGroup
	errs := make(chan error, count)
	for w := range helperWriters {
		wg.Go(func() {
			for i := w; i < count; i += helperWriters {
				text := fmt.Sprintf("%s-%d", name, i)
				id, err := r.AppendMessage(ctx, "s1", "a1", textMessage(0, text))
				if err != nil {
					errs <- err
					return
				}
				fmt.Printf("ack %s %d\n", text, id)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// helperWriters is how many goroutines of each child process append at
// once in the AppendMessage mode.
const helperWriters = 16

func TestTwoProcesses_AppendToOneAgentExactlyOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes")
	}
	tests := []struct {
		mode     string
		perChild int
	}{
		{"create", 40},  // CreateMessage at the count, retried on conflicts, one writer per process
		{"append", 160}, // AppendMessage, 16 writers per process
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			twoProcesses(t, tt.mode, tt.perChild)
		})
	}
}

// twoProcesses runs two child processes appending perChild messages each to
// one agent of one SQLite file in mode, and checks that every append was
// acknowledged and stored exactly once at its acknowledged id.
func twoProcesses(t *testing.T, mode string, perChild int) {
	dir := t.TempDir()
	r := openTest(t, dir, Options{})
	seed(t, r, 0)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, name := range []string{"p1", "p2"} {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir, helperEnv+"_NAME="+name,
			helperEnv+"_COUNT="+strconv.Itoa(perChild), helperEnv+"_MODE="+mode)
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	acked := map[string]int{}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "child output:\n%s", outs[i])
		sc := bufio.NewScanner(outs[i])
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) != 3 || fields[0] != "ack" {
				continue
			}
			id, err := strconv.Atoi(fields[2])
			require.NoError(t, err)
			_, dup := acked[fields[1]]
			require.False(t, dup, "%s acknowledged twice", fields[1])
			acked[fields[1]] = id
		}
	}
	require.Len(t, acked, 2*perChild, "every append was acknowledged")
	checkExactlyOnce(t, r, acked)
}
