package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

func ExampleNormalize() {
	v, err := session.Normalize("state", map[string]any{
		"count": uint8(3),
		"ratio": float32(0.5),
		"tags":  []string{"a", "b"},
	})
	fmt.Printf("%#v %v\n", v, err)

	_, err = session.Normalize("state", map[string]any{"items": []any{1, struct{}{}}})
	fmt.Println(errors.Is(err, session.ErrInvalidArgument), err)
	// Output:
	// map[string]interface {}{"count":3, "ratio":0.5, "tags":[]interface {}{"a", "b"}} <nil>
	// true invalid argument: state.items[1]: cannot store a value of type struct {}
}

func ExampleMarshalStrandsMessage() {
	stamp := time.Date(2026, 5, 15, 10, 46, 33, 123456000, time.UTC)
	b, err := session.MarshalStrandsMessage(&session.Message{
		ID: 0,
		Message: session.ChatMessage{
			Role:    session.RoleUser,
			Content: []session.ContentBlock{session.TextBlock("Hello!"), {"image": map[string]any{"format": "png", "source": map[string]any{"bytes": []byte("PNG")}}}},
		},
		CreatedAt: stamp,
		UpdatedAt: stamp,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))

	m, err := session.UnmarshalStrandsMessage(b)
	fmt.Println(m.ID, m.Message.Role, err)
	// Output:
	// {
	//   "message": {
	//     "role": "user",
	//     "content": [
	//       {
	//         "text": "Hello!"
	//       },
	//       {
	//         "image": {
	//           "format": "png",
	//           "source": {
	//             "bytes": {
	//               "__bytes_encoded__": true,
	//               "data": "UE5H"
	//             }
	//           }
	//         }
	//       }
	//     ]
	//   },
	//   "message_id": 0,
	//   "redact_message": null,
	//   "created_at": "2026-05-15T10:46:33.123456+00:00",
	//   "updated_at": "2026-05-15T10:46:33.123456+00:00"
	// }
	// 0 user <nil>
}

func ExampleUnmarshalStrandsAgent() {
	a, err := session.UnmarshalStrandsAgent([]byte(`{
  "agent_id": "default",
  "state": {"foo": "bar"},
  "conversation_manager_state": {"__name__": "SlidingWindowConversationManager", "removed_message_count": 2, "model_call_count": 0},
  "created_at": "2026-05-15T10:46:33.123456+00:00"
}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(a.ID, a.State["foo"], a.ConversationManagerState["removed_message_count"], a.InternalState, a.CreatedAt)

	_, err = session.UnmarshalStrandsAgent([]byte(`{"agent_id": "default", "state": {}}`))
	fmt.Println(err)
	// Output:
	// default bar 2 map[] 2026-05-15 10:46:33.123456 +0000 UTC
	// agent "default": invalid argument: conversation_manager_state: is missing
}

func ExampleFormatPythonTime() {
	fmt.Println(session.FormatPythonTime(time.Date(2026, 5, 15, 12, 46, 33, 120000000, time.FixedZone("CEST", 7200))))
	fmt.Println(session.FormatPythonTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	t, _ := session.ParsePythonTime("2026-05-15T10:46:33Z")
	fmt.Println(t)
	// Output:
	// 2026-05-15T10:46:33.120000+00:00
	// 2026-01-01T00:00:00+00:00
	// 2026-05-15 10:46:33 +0000 UTC
}

func ExamplePythonFloat() {
	for _, f := range []float64{1, 0.1, 1e16, 1.5e-5} {
		fmt.Println(session.PythonFloat(f))
	}
	// Output:
	// 1.0
	// 0.1
	// 1e+16
	// 1.5e-05
}

func ExampleValidateAgentID() {
	fmt.Println(session.ValidateSessionID("user@example.com"))
	fmt.Println(session.ValidateAgentID("user@example.com"))
	// Output:
	// <nil>
	// invalid argument: agent_id: "user@example.com" must not contain "."
}

func ExampleVerifyViewerPassword() {
	password := session.NewViewerPassword() // give this to the viewer
	stored := session.HashViewerPassword(password)

	fmt.Println(session.VerifyViewerPassword(stored, password))
	fmt.Println(session.VerifyViewerPassword(stored, "guess"))
	fmt.Println(session.VerifyViewerPassword("legacy-plaintext", "legacy-plaintext"))
	// Output:
	// true
	// false
	// true
}

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
