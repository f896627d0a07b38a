package testservice

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a loopback TCP proxy in front of one server, for faults on one
// client's path only: it can delay every chunk in both directions, or drop
// everything (a network partition that leaves connections open, so calls
// time out instead of failing fast).
type Proxy struct {
	// Addr is the proxy's "127.0.0.1:<port>"; clients dial it instead of
	// the target.
	Addr string

	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu    sync.Mutex
	delay time.Duration
	drop  bool
	conns map[net.Conn]struct{}
}

// StartProxy listens on a free loopback port and forwards each connection
// to target. It stops, closing every connection, when t ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.closeAll()
		p.wg.Wait()
	})
	return p
}

// SetDelay delays every chunk forwarded in either direction by d (0: none).
// Order is kept.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// SetDrop makes the proxy discard everything it reads (true) while keeping
// connections open. Turning it off closes the connections that lived
// through the drop, whose streams lost bytes, so clients reconnect cleanly.
func (p *Proxy) SetDrop(drop bool) {
	p.mu.Lock()
	was := p.drop
	p.drop = drop
	p.mu.Unlock()
	if was && !drop {
		p.closeAll()
	}
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.track(client, server)
		p.wg.Add(2)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

type chunk struct {
	due  time.Time
	data []byte
}

// pipe copies from src to dst, applying the current delay and drop to each
// chunk; it closes both ends when either fails.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	q := make(chan chunk, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range q {
			if d := time.Until(c.due); d > 0 {
				time.Sleep(d)
			}
			if _, err := dst.Write(c.data); err != nil {
				_ = src.Close()
				for range q {
				}
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			delay, drop := p.delay, p.drop
			p.mu.Unlock()
			if !drop {
				q <- chunk{due: time.Now().Add(delay), data: append([]byte(nil), buf[:n]...)}
			}
		}
		if err != nil {
			if err != io.EOF {
				_ = src.Close()
			}
			break
		}
	}
	close(q)
	<-done
	_ = dst.Close()
	_ = src.Close()
}
