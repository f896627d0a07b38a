package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sessionkit/sessionkit/hooks"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
	"github.com/sessionkit/sessionkit/session/manager"
)

// backendFlags select the repository, the same way for every subcommand.
type backendFlags struct {
	url      string
	backend  string
	dataDir  string
	mongoURI string
	redisURL string
}

func (b *backendFlags) register(fs *flag.FlagSet, prefix, what string) {
	fs.StringVar(&b.url, prefix+"url", "", what+": a full backend URL (memory://, sqlite:///dir, mongodb://host/db, with ?cache=redis://...); overrides the flags below [$SESSIONKIT_URL]")
	if prefix != "" {
		return
	}
	fs.StringVar(&b.backend, "backend", env("SESSIONKIT_BACKEND", ""), "backend: sqlite, memory or mongo (default sqlite, or mongo when --mongo-uri is set) [$SESSIONKIT_BACKEND]")
	fs.StringVar(&b.dataDir, "data-dir", env("SESSIONKIT_DATA_DIR", "./sessionkit-data"), "directory of the SQLite backend [$SESSIONKIT_DATA_DIR]")
	fs.StringVar(&b.mongoURI, "mongo-uri", "", "MongoDB connection string; selects the mongo backend [$MONGODB_URI]")
	fs.StringVar(&b.redisURL, "redis-url", "", "Redis URL (redis://host:6379/0); turns the read-through cache on [$REDIS_URL]")
}

// resolve returns the backend URL the flags describe.
//
// Flags that may hold credentials read their environment variable here, not
// as flag defaults, so that --help never prints a secret.
func (b *backendFlags) resolve() (string, error) {
	if b.mongoURI == "" {
		b.mongoURI = os.Getenv("MONGODB_URI")
	}
	if b.redisURL == "" {
		b.redisURL = os.Getenv("REDIS_URL")
	}
	if b.url == "" && b.backend == "" {
		b.url = os.Getenv("SESSIONKIT_URL")
	}
	if b.url != "" {
		return b.url, nil
	}
	kind := b.backend
	if kind == "" {
		kind = "sqlite"
		if b.mongoURI != "" {
			kind = "mongo"
		}
	}
	var raw string
	switch kind {
	case "memory":
		raw = "memory://"
	case "sqlite":
		dir, err := filepath.Abs(b.dataDir)
		if err != nil {
			return "", fmt.Errorf("--data-dir: %w", err)
		}
		raw = (&url.URL{Scheme: "sqlite", Path: filepath.ToSlash(dir)}).String()
	case "mongo", "mongodb":
		if b.mongoURI == "" {
			return "", driver.InvalidArgument("--mongo-uri", "is required for the mongo backend")
		}
		raw = b.mongoURI
	default:
		return "", driver.InvalidArgument("--backend", "%q: want sqlite, memory or mongo", kind)
	}
	if b.redisURL == "" {
		return raw, nil
	}
	if _, err := url.Parse(raw); err != nil {
		return "", driver.InvalidArgument("backend url", "cannot parse %s", session.RedactURL(raw))
	}
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + "cache=" + url.QueryEscape(b.redisURL), nil
}

// open opens the repository the flags describe.
func (b *backendFlags) open(ctx context.Context, log *slog.Logger) (session.Repository, string, error) {
	raw, err := b.resolve()
	if err != nil {
		return nil, "", err
	}
	if err := checkBackendURL(raw); err != nil {
		return nil, "", err
	}
	dir, err := sqliteDir(raw)
	if err != nil {
		return nil, "", err
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, "", fmt.Errorf("create data directory %s: %w (pass --data-dir with a directory you can write)", dir, err)
		}
	}
	useRedisLogger(log)
	repo, err := session.Open(ctx, raw)
	if err != nil {
		return nil, "", explainOpenError(raw, err)
	}
	log.Info("backend opened", "url", session.RedactURL(raw))
	return repo, raw, nil
}

// hookFlags configure the notification hooks.
type hookFlags struct {
	snsGood, snsBad, snsNeutral string
	sqsQueueURL                 string
	wsEndpoint                  string
	awsEndpointURL              string
	awsRegion                   string
}

func (h *hookFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&h.snsGood, "sns-topic-good", env("SNS_TOPIC_GOOD", ""), "SNS topic ARN for positive feedback [$SNS_TOPIC_GOOD]")
	fs.StringVar(&h.snsBad, "sns-topic-bad", env("SNS_TOPIC_BAD", ""), "SNS topic ARN for negative feedback [$SNS_TOPIC_BAD]")
	fs.StringVar(&h.snsNeutral, "sns-topic-neutral", env("SNS_TOPIC_NEUTRAL", ""), "SNS topic ARN for unrated feedback [$SNS_TOPIC_NEUTRAL]")
	fs.StringVar(&h.sqsQueueURL, "sqs-queue-url", env("SQS_QUEUE_URL", ""), "SQS queue receiving metadata changes [$SQS_QUEUE_URL]")
	fs.StringVar(&h.wsEndpoint, "ws-endpoint", env("WS_ENDPOINT", ""), "API Gateway WebSocket endpoint receiving metadata changes [$WS_ENDPOINT]")
	fs.StringVar(&h.awsEndpointURL, "aws-endpoint-url", env("AWS_ENDPOINT_URL", ""), "AWS endpoint override for local testing, e.g. http://127.0.0.1:5000 (moto) [$AWS_ENDPOINT_URL]")
	fs.StringVar(&h.awsRegion, "aws-region", env("AWS_REGION", ""), "AWS region [$AWS_REGION]")
}

func (h *hookFlags) any() bool {
	return h.snsGood != "" || h.snsBad != "" || h.snsNeutral != "" || h.sqsQueueURL != "" || h.wsEndpoint != ""
}

// closer flushes a hook.
type closer interface {
	Close(ctx context.Context) error
}

// hookStats adapts a hook's delivery counters to session.StatsReporter.
type hookStats struct {
	name  string
	stats func() hooks.Stats
}

func (h hookStats) Stats() map[string]float64 {
	s := h.stats()
	p := "hook_" + h.name + "_"
	return map[string]float64{
		p + "sent_total": float64(s.Sent), p + "retried_total": float64(s.Retried),
		p + "dropped_total": float64(s.Dropped), p + "failed_total": float64(s.Failed),
		p + "skipped_total": float64(s.Skipped),
	}
}

// hookSet is the configured hooks with what flushes and reports them.
type hookSet struct {
	hooks   []manager.Hook
	closers []closer
	stats   []session.StatsReporter
}

// close flushes every hook within ctx.
func (hs *hookSet) close(ctx context.Context) error {
	var errs []error
	for _, c := range hs.closers {
		errs = append(errs, c.Close(ctx))
	}
	return errors.Join(errs...)
}

// build starts the configured hooks.
func (h *hookFlags) build(ctx context.Context, log *slog.Logger) (*hookSet, error) {
	hs := &hookSet{}
	if !h.any() {
		return hs, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if h.awsRegion != "" {
		opts = append(opts, awsconfig.WithRegion(h.awsRegion))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if h.awsEndpointURL != "" {
		cfg.BaseEndpoint = aws.String(h.awsEndpointURL)
	}
	delivery := hooks.DeliveryOptions{Logger: log}
	fail := func(err error) (*hookSet, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.close(cctx)
		return nil, err
	}
	if h.snsGood != "" || h.snsBad != "" || h.snsNeutral != "" {
		route := func(arn string) hooks.FeedbackRoute {
			if arn == "" {
				arn = hooks.TopicNone
			}
			return hooks.FeedbackRoute{TopicARN: arn}
		}
		fb, err := hooks.NewFeedbackSNS(sns.NewFromConfig(cfg), hooks.FeedbackSNSOptions{
			Good: route(h.snsGood), Bad: route(h.snsBad), Neutral: route(h.snsNeutral), Delivery: delivery})
		if err != nil {
			return fail(fmt.Errorf("feedback SNS hook: %w", err))
		}
		hs.add("feedback_sns", fb.Hook, fb, fb.Stats)
	}
	if h.sqsQueueURL != "" {
		q, err := hooks.NewMetadataSQS(sqs.NewFromConfig(cfg), hooks.MetadataSQSOptions{QueueURL: h.sqsQueueURL, Delivery: delivery})
		if err != nil {
			return fail(fmt.Errorf("metadata SQS hook: %w", err))
		}
		hs.add("metadata_sqs", q.Hook, q, q.Stats)
	}
	if h.wsEndpoint != "" {
		client, err := hooks.NewAPIGatewayClient(h.wsEndpoint, cfg)
		if err != nil {
			return fail(fmt.Errorf("websocket hook: %w", err))
		}
		ws, err := hooks.NewMetadataWebSocket(client, hooks.MetadataWebSocketOptions{Delivery: delivery})
		if err != nil {
			return fail(fmt.Errorf("websocket hook: %w", err))
		}
		hs.add("metadata_websocket", ws.Hook, ws, ws.Stats)
	}
	return hs, nil
}

func (hs *hookSet) add(name string, hook manager.Hook, c closer, stats func() hooks.Stats) {
	hs.hooks = append(hs.hooks, hook)
	hs.closers = append(hs.closers, c)
	hs.stats = append(hs.stats, hookStats{name: name, stats: stats})
}

// logFlags configure log/slog.
type logFlags struct {
	format string
	level  string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", env("SESSIONKIT_LOG_FORMAT", "text"), "log format: text or json [$SESSIONKIT_LOG_FORMAT]")
	fs.StringVar(&l.level, "log-level", env("SESSIONKIT_LOG_LEVEL", "info"), "log level: debug, info, warn or error [$SESSIONKIT_LOG_LEVEL]")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, driver.InvalidArgument("--log-level", "%q: want debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(l.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, driver.InvalidArgument("--log-format", "%q: want text or json", l.format)
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
