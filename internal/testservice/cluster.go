package testservice

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisCluster is a real Redis Cluster of redis-server processes on
// loopback ports: three masters, each with one replica.
type RedisCluster struct {
	// Nodes are the six servers; the first three were created as masters.
	Nodes []*Process
	// NodeTimeout is the cluster-node-timeout the nodes run with: a killed
	// master is replaced by its replica a few of these later.
	NodeTimeout time.Duration
}

// Addrs returns every node's address, a seed list for a Cluster client.
func (c *RedisCluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// Node returns the node listening on addr, or nil.
func (c *RedisCluster) Node(addr string) *Process {
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// StartRedisCluster starts six redis-server processes with cluster mode on
// (no persistence, a short node timeout so that a failover takes seconds),
// joins them with `redis-cli --cluster create --cluster-replicas 1` and
// waits until every node reports cluster_state:ok. Missing binaries go
// through Unavailable. Everything is stopped when t ends. Startup takes a
// few seconds: tests share one cluster per package.
func StartRedisCluster(t testing.TB) *RedisCluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		Unavailable(t, "redis-cli is not installed")
		return nil
	}
	c := &RedisCluster{NodeTimeout: time.Second}
	for range 6 {
		c.Nodes = append(c.Nodes, Start(t, 10*time.Second, nil, "redis-server",
			"--bind", "127.0.0.1", "--port", "{port}", "--save", "", "--appendonly", "no",
			"--protected-mode", "yes", "--enable-debug-command", "local",
			// Replicas sync at once (the default waits 5 s for more
			// replicas): a replica that never synced cannot take over.
			"--repl-diskless-sync-delay", "0",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(c.NodeTimeout.Milliseconds())),
			"--dir", t.TempDir()))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, tail(out, 4000))
	}
	if err := c.WaitOK(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

// WaitOK waits until every running node reports cluster_state:ok and knows
// all 16384 slots, and every running replica's link to its master is up
// (it has synced, so it can take over).
func (c *RedisCluster) WaitOK(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var bad string
		for _, n := range c.Nodes {
			if !n.Running() {
				continue
			}
			info, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(n.Port), "cluster", "info").Output()
			if err != nil || !bytes.Contains(info, []byte("cluster_state:ok")) ||
				!bytes.Contains(info, []byte("cluster_slots_ok:16384")) {
				bad = fmt.Sprintf("%s: %v %s", n.Addr, err, strings.TrimSpace(string(tail(info, 300))))
				break
			}
			repl, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(n.Port), "info", "replication").Output()
			if err != nil || (bytes.Contains(repl, []byte("role:slave")) && !bytes.Contains(repl, []byte("master_link_status:up"))) {
				bad = fmt.Sprintf("%s: replica not synced: %v", n.Addr, err)
				break
			}
		}
		if bad == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis cluster not ok within %s: %s", timeout, bad)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitFailover waits until the cluster has replaced the stopped master dead:
// a running node marks it failed and owning no slots (its replica was
// promoted and took them), and every running node reports cluster_state:ok.
func (c *RedisCluster) WaitFailover(dead *Process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var live *Process
		for _, n := range c.Nodes {
			if n.Running() {
				live = n
				break
			}
		}
		if live == nil {
			return fmt.Errorf("no running node")
		}
		out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(live.Port), "cluster", "nodes").Output()
		if err == nil && failedWithoutSlots(string(out), dead.Addr) {
			return c.WaitOK(time.Until(deadline))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not failed over within %s: %v\n%s", dead.Addr, timeout, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// failedWithoutSlots reports whether CLUSTER NODES output lists addr with
// the "fail" flag and no slot ranges.
func failedWithoutSlots(nodes, addr string) bool {
	for _, line := range strings.Split(nodes, "\n") {
		f := strings.Fields(line)
		// id ip:port@cport flags master ping pong epoch link slots...
		if len(f) < 8 || !strings.HasPrefix(f[1], addr+"@") {
			continue
		}
		failed := false
		for _, flag := range strings.Split(f[2], ",") {
			failed = failed || flag == "fail"
		}
		return failed && len(f) == 8
	}
	return false
}
