package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/sessionkit/sessionkit/session"
)

// exampleRepo stands in for a backend in ExampleOpen; only Close is
// implemented.
type exampleRepo struct {
	session.Repository
	dsn string
}

func (exampleRepo) Close() error { return nil }

// A backend package registers its scheme from init, as this one does.
func init() {
	session.Register("example", func(ctx context.Context, u *url.URL) (session.Repository, error) {
		return exampleRepo{dsn: u.String()}, nil
	})
}

func ExampleOpen() {
	repo, err := session.Open(context.Background(), "example://host/db?collection=sessions")
	if err != nil {
		panic(err)
	}
	defer repo.Close()
	fmt.Println(repo.(exampleRepo).dsn)

	_, err = session.Open(context.Background(), "unknown://u:secret@host")
	fmt.Println(errors.Is(err, session.ErrInvalidArgument))
	// Output:
	// example://host/db?collection=sessions
	// true
}

func ExampleRedactURL() {
	fmt.Println(session.RedactURL("mongodb://app:hunter2@db.internal/app?tls=true"))
	fmt.Println(session.RedactURL("sqlite:///var/lib/sk?_auth_pass=hunter2"))
	// Output:
	// mongodb://app:xxxxx@db.internal/app?tls=true
	// sqlite:///var/lib/sk?_auth_pass=xxxxx
}
