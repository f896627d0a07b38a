package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
)

func runServe(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("serve", "Serve the JSON API under /api, the session viewer at /, /healthz and /metrics.\n"+
		"SIGINT or SIGTERM stops accepting connections, drains requests in flight, flushes the hooks and closes the backend.", std.err)
	var (
		bf         backendFlags
		hf         hookFlags
		lf         logFlags
		addr       = fs.String("addr", env("SESSIONKIT_ADDR", "127.0.0.1:8080"), "listen address [$SESSIONKIT_ADDR]")
		token      = fs.String("admin-token", "", "admin token for the API and the viewer (at least 16 bytes); empty generates one and logs it once [$SESSIONKIT_ADMIN_TOKEN]")
		maxBody    = fs.Int64("max-body-bytes", server.DefaultMaxBodyBytes, "largest request body accepted, in bytes")
		reqTimeout = fs.Duration("request-timeout", server.DefaultRequestTimeout, "deadline of each request")
		drain      = fs.Duration("drain-timeout", 15*time.Second, "how long shutdown waits for requests in flight")
	)
	bf.register(fs, "", "backend")
	hf.register(fs)
	lf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(std.err)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *token == "" {
		*token = os.Getenv("SESSIONKIT_ADMIN_TOKEN")
	}
	if *token == "" {
		*token = newToken()
		log.Warn("no --admin-token given; generated one for this run", "admin_token", *token)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer l.Close()

	repo, _, err := bf.open(ctx, log)
	if err != nil {
		return err
	}
	hs, err := hf.build(ctx, log)
	if err != nil {
		_ = repo.Close()
		return err
	}
	srv, err := server.New(server.Options{
		Repository: repo, Hooks: hs.hooks, Stats: hs.stats, AdminToken: *token, Logger: log,
		MaxBodyBytes: *maxBody, RequestTimeout: *reqTimeout,
	})
	if err != nil {
		_ = repo.Close()
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	log.Info("serving", "addr", "http://"+l.Addr().String(), "viewer", "http://"+l.Addr().String()+"/")
	serveErr := srv.Serve(ctx, l, *drain)
	log.Info("shutting down: flushing hooks and closing the backend")
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *drain)
	defer cancel()
	return errors.Join(serveErr, hs.close(fctx), repo.Close())
}

// newToken returns a random admin token.
func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
