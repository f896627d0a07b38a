// Package testservice starts the external servers some tests need
// (redis-server, moto, mongo-java-server) as child processes on free
// loopback ports, and decides whether a missing server skips or fails the
// test.
//
// Tests call Require*: when the server's binary is not installed the test is
// skipped, unless SESSIONKIT_REQUIRE_SERVICES=1 (set by .ci/run), in which
// case it fails — so CI cannot go green by skipping.
//
//	srv := testservice.StartRedis(t)   // redis-server on 127.0.0.1:<free port>
//	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
//	srv.Stop(t)                        // kill it mid-test
//	srv.Restart(t)                     // same port again
package testservice

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RequireServicesEnv, when "1", makes a missing server fail the test instead
// of skipping it.
const RequireServicesEnv = "SESSIONKIT_REQUIRE_SERVICES"

// Unavailable skips t, or fails it when services are required.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireServicesEnv) == "1" {
		t.Fatalf("required service unavailable: %s", msg)
	}
	t.Skipf("service unavailable (set %s=1 to fail instead): %s", RequireServicesEnv, msg)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitTCP waits until addr accepts connections or timeout passes.
func WaitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not accept connections within %s: %w", addr, timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Process is an external server run by a test on a fixed loopback port. It
// is stopped when the test ends.
type Process struct {
	// Addr is "127.0.0.1:<port>".
	Addr string
	// Port is the loopback port the server listens on.
	Port int

	name    string
	args    []string
	env     []string
	startup time.Duration

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
}

// Start runs name with args (in which the literal "{port}" is replaced by a
// free port) and waits for the port to accept connections. A missing binary
// goes through Unavailable.
func Start(t testing.TB, startup time.Duration, env []string, name string, args ...string) *Process {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed", name)
	}
	port := FreePort(t)
	p := &Process{
		Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port,
		name: path, env: env, startup: startup,
	}
	for _, a := range args {
		if a == "{port}" {
			a = strconv.Itoa(port)
		}
		p.args = append(p.args, a)
	}
	logPath := filepath.Join(t.TempDir(), filepath.Base(name)+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	p.log = f
	t.Cleanup(func() {
		p.kill()
		f.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil && len(b) > 0 {
				t.Logf("%s output:\n%s", name, tail(b, 4000))
			}
		}
	})
	p.Restart(t)
	return p
}

// Stop kills the server (SIGKILL) and waits for it to exit.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	p.kill()
}

// Restart starts the server again on the same port, after Stop.
func (p *Process) Restart(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		t.Fatalf("%s is already running", p.name)
	}
	cmd := exec.Command(p.name, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd = cmd
	if err := WaitTCP(p.Addr, p.startup); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
}

// Running reports whether the server was started and not stopped since.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

func (p *Process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// StartRedis runs redis-server on a free loopback port without persistence.
// DEBUG is enabled for local connections, so fault tests can send
// DEBUG SLEEP.
func StartRedis(t testing.TB) *Process {
	t.Helper()
	return Start(t, 10*time.Second, nil, "redis-server",
		"--bind", "127.0.0.1", "--port", "{port}", "--save", "", "--appendonly", "no", "--protected-mode", "yes",
		"--enable-debug-command", "local")
}

// WithTimeout is a context bounded by d and cancelled when the test ends.
func WithTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// MongoJavaJarEnv names the mongo-java-server launcher jar to run; by default
// it is internal/mongojava/target/mongojava.jar of this repository, built by
// scripts/mongo-java.sh build (make mongo-java).
const MongoJavaJarEnv = "SESSIONKIT_MONGO_JAVA_JAR"

// StartMongoJava runs mongo-java-server (in-memory, reporting wire version
// 13) on a free loopback port and returns its connection string. A missing
// jar or java skips the test (fails it when services are required).
func StartMongoJava(t testing.TB) string {
	t.Helper()
	jar := os.Getenv(MongoJavaJarEnv)
	if jar == "" {
		_, file, _, _ := runtime.Caller(0)
		jar = filepath.Join(filepath.Dir(file), "..", "mongojava", "target", "mongojava.jar")
	}
	if _, err := os.Stat(jar); err != nil {
		Unavailable(t, "mongo-java-server jar: %v (run make mongo-java or set %s)", err, MongoJavaJarEnv)
		return ""
	}
	if _, err := exec.LookPath("java"); err != nil {
		Unavailable(t, "java: %v", err)
		return ""
	}
	p := Start(t, 60*time.Second, nil, "java", "-Xss4m", "-jar", jar, "{port}")
	return "mongodb://" + p.Addr + "/"
}
