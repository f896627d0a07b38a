package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/cmd/sessionkit/server"
	"github.com/sessionkit/sessionkit/session"
)

func runServe(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("serve", "Serve the JSON API under /api, the session viewer at /, /healthz and /metrics.\n"+
		"SIGINT or SIGTERM stops accepting connections, drains requests in flight, flushes the hooks and closes the backend.", std.err)
	var (
		bf         backendFlags
		hf         hookFlags
		lf         logFlags
		addr       = fs.String("addr", env("SESSIONKIT_ADDR", "127.0.0.1:8080"), "listen address [$SESSIONKIT_ADDR]")
		token      = fs.String("admin-token", "", "admin token for the API and the viewer (at least 16 bytes); empty reads --data-dir/admin-token, creating it (mode 0600) on first start; the memory backend generates one per run and logs it [$SESSIONKIT_ADMIN_TOKEN]")
		maxBody    = fs.Int64("max-body-bytes", server.DefaultMaxBodyBytes, "largest request body accepted, in bytes")
		maxSnap    = fs.Int64("max-snapshot-bytes", session.DefaultMaxSnapshotBytes, "largest snapshot PUT body accepted, in bytes (the backend applies its own limit too, by default the same)")
		reqTimeout = fs.Duration("request-timeout", server.DefaultRequestTimeout, "deadline of each request")
		drain      = fs.Duration("drain-timeout", 15*time.Second, "how long shutdown waits for requests in flight")
		retention  = fs.String("retention", env("SESSIONKIT_RETENTION", ""), `default expiry of sessions created through the API, per application: "support-bot=30d,*=90d" (* is every other application); empty: none [$SESSIONKIT_RETENTION]`)
		proxies    = fs.String("trusted-proxies", env("SESSIONKIT_TRUSTED_PROXIES", ""), "comma-separated CIDRs (or addresses) of reverse proxies whose X-Forwarded-For names the client for rate limiting; empty ignores the header [$SESSIONKIT_TRUSTED_PROXIES]")
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
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		return fmt.Errorf("%w: --trusted-proxies: %v", errUsage, err)
	}
	policy, err := session.ParseRetentionPolicy(*retention)
	if err != nil {
		return fmt.Errorf("%w: --retention: %v", errUsage, err)
	}
	if *token == "" {
		*token = os.Getenv("SESSIONKIT_ADMIN_TOKEN")
	}
	raw, err := bf.resolve()
	if err != nil {
		return err
	}
	if err := checkBackendURL(raw); err != nil {
		return err
	}
	dataDir, err := bf.dataDirFor(raw)
	if err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	tok := adminToken{value: *token}
	switch {
	case tok.value != "":
	case dataDir == "":
		// A memory store is gone on restart, so a token that outlives it
		// would buy nothing; this one is logged for the run.
		tok.value = newToken()
		log.Warn("memory backend: generated an admin token for this run only; sessions and token are gone when serve exits", "admin_token", tok.value)
	default:
		if tok, err = loadOrCreateAdminToken(dataDir); err != nil {
			return err
		}
		verb := "reusing the admin token"
		if tok.created {
			verb = "created an admin token (kept for later runs)"
		}
		if tok.loose {
			log.Warn("the admin token file is readable by other users; chmod 600 it", "admin_token_file", tok.path)
		}
		log.Info(verb+"; read it from the file to log in to the viewer, or pass --admin-token / $SESSIONKIT_ADMIN_TOKEN to override", "admin_token_file", tok.path)
	}
	*token = tok.value
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
		MaxBodyBytes: *maxBody, MaxSnapshotBytes: *maxSnap, RequestTimeout: *reqTimeout, TrustedProxies: trusted,
		Retention: policy,
	})
	if err != nil {
		_ = repo.Close()
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	attrs := []any{"addr", "http://" + l.Addr().String(), "viewer", "http://" + l.Addr().String() + "/", "backend", session.RedactURL(raw)}
	if dataDir != "" {
		attrs = append(attrs, "data_dir", dataDir)
	}
	log.Info("serving", attrs...)
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

// parsePrefixes parses comma-separated CIDRs; a bare address is its own
// one-address network.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
