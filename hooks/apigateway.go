package hooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/sessionkit/sessionkit/session/driver"
)

// ErrGone reports a WebSocket connection that no longer exists (API Gateway
// answers 410 GoneException). It is never retried.
var ErrGone = errors.New("hooks: websocket connection gone")

// StatusError is a non-2xx answer from the API Gateway Management API other
// than 410.
type StatusError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the AWS error code (x-amzn-ErrorType or the body's "__type"
	// or "message"), when the server sent one.
	Code string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("api gateway: HTTP %d %s", e.StatusCode, e.Code)
	}
	return fmt.Sprintf("api gateway: HTTP %d", e.StatusCode)
}

// Temporary reports whether the request may succeed if retried: throttling,
// 429 and 5xx.
func (e *StatusError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 || throttlingCodes[e.Code]
}

// ConnectionPoster sends data to one API Gateway WebSocket connection.
// *APIGatewayClient implements it; tests substitute their own.
//
// Contract: PostToConnection returns an error matching ErrGone when the
// connection no longer exists; it honours ctx's deadline.
type ConnectionPoster interface {
	PostToConnection(ctx context.Context, connectionID string, data []byte) error
}

// APIGatewayClient is a minimal client for the API Gateway Management API's
// PostToConnection: POST {endpoint}/@connections/{connectionId}, signed with
// SigV4 for service "execute-api". (The SDK's apigatewaymanagementapi module
// is deliberately not a dependency; this one call is all the hook needs.)
type APIGatewayClient struct {
	endpoint    *url.URL
	region      string
	credentials aws.CredentialsProvider
	httpClient  *http.Client
	signer      *v4.Signer
	now         func() time.Time
}

// NewAPIGatewayClient returns a client for the WebSocket API whose
// connection endpoint is endpoint, e.g.
// "https://abc123.execute-api.eu-west-1.amazonaws.com/prod". Region and
// credentials come from cfg; cfg.HTTPClient is used when it is an
// *http.Client, else http.DefaultClient.
func NewAPIGatewayClient(endpoint string, cfg aws.Config) (*APIGatewayClient, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, driver.InvalidArgument("api gateway endpoint", "%q is not an http(s) URL", endpoint)
	}
	if cfg.Region == "" {
		return nil, driver.InvalidArgument("aws region", "must not be empty")
	}
	if cfg.Credentials == nil {
		return nil, driver.InvalidArgument("aws credentials", "must be set")
	}
	hc, ok := cfg.HTTPClient.(*http.Client)
	if !ok || hc == nil {
		hc = http.DefaultClient
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return &APIGatewayClient{
		endpoint: u, region: cfg.Region, credentials: cfg.Credentials,
		httpClient: hc, signer: v4.NewSigner(), now: time.Now,
	}, nil
}

var _ ConnectionPoster = (*APIGatewayClient)(nil)

// PostToConnection sends data to the connection. A 410 answer is ErrGone; any
// other non-2xx answer is a *StatusError.
func (c *APIGatewayClient) PostToConnection(ctx context.Context, connectionID string, data []byte) error {
	if connectionID == "" {
		return driver.InvalidArgument("connection_id", "must not be empty")
	}
	u := *c.endpoint
	u.Path = c.endpoint.Path + "/@connections/" + connectionID
	u.RawPath = c.endpoint.EscapedPath() + "/@connections/" + url.PathEscape(connectionID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("connection %q: %w", connectionID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	creds, err := c.credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("connection %q: aws credentials: %w", connectionID, err)
	}
	sum := sha256.Sum256(data)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", c.region, c.now()); err != nil {
		return fmt.Errorf("connection %q: sign: %w", connectionID, err)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("connection %q: %w", connectionID, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusGone:
		return fmt.Errorf("connection %q: %w", connectionID, ErrGone)
	}
	return fmt.Errorf("connection %q: %w", connectionID, &StatusError{StatusCode: resp.StatusCode, Code: errorCode(resp.Header, body)})
}

// errorCode extracts the AWS error code from a REST-JSON error answer.
func errorCode(h http.Header, body []byte) string {
	code := h.Get("X-Amzn-Errortype")
	if code == "" {
		var b struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &b) == nil {
			code = b.Type
		}
	}
	// "ThrottlingException:http://internal.amazon.com/..." and
	// "com.amazon#ThrottlingException" both name ThrottlingException.
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return code
}
