package driver_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

func ExampleNormalize() {
	v, err := driver.Normalize("state", map[string]any{
		"count": uint8(3),
		"ratio": float32(0.5),
		"tags":  []string{"a", "b"},
	})
	fmt.Printf("%#v %v\n", v, err)

	_, err = driver.Normalize("state", map[string]any{"items": []any{1, struct{}{}}})
	fmt.Println(errors.Is(err, session.ErrInvalidArgument), err)
	// Output:
	// map[string]interface {}{"count":3, "ratio":0.5, "tags":[]interface {}{"a", "b"}} <nil>
	// true invalid argument: state.items[1]: cannot store a value of type struct {}
}

func ExampleMarshalStrandsMessage() {
	stamp := time.Date(2026, 5, 15, 10, 46, 33, 123456000, time.UTC)
	b, err := driver.MarshalStrandsMessage(&session.Message{
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

	m, err := driver.UnmarshalStrandsMessage(b)
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
	a, err := driver.UnmarshalStrandsAgent([]byte(`{
  "agent_id": "default",
  "state": {"foo": "bar"},
  "conversation_manager_state": {"__name__": "SlidingWindowConversationManager", "removed_message_count": 2, "model_call_count": 0},
  "created_at": "2026-05-15T10:46:33.123456+00:00"
}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(a.ID, a.State["foo"], a.ConversationManagerState["removed_message_count"], a.InternalState, a.CreatedAt)

	_, err = driver.UnmarshalStrandsAgent([]byte(`{"agent_id": "default", "state": {}}`))
	fmt.Println(err)
	// Output:
	// default bar 2 map[] 2026-05-15 10:46:33.123456 +0000 UTC
	// agent "default": invalid argument: conversation_manager_state: is missing
}

func ExampleFormatPythonTime() {
	fmt.Println(driver.FormatPythonTime(time.Date(2026, 5, 15, 12, 46, 33, 120000000, time.FixedZone("CEST", 7200))))
	fmt.Println(driver.FormatPythonTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	t, _ := driver.ParsePythonTime("2026-05-15T10:46:33Z")
	fmt.Println(t)
	// Output:
	// 2026-05-15T10:46:33.120000+00:00
	// 2026-01-01T00:00:00+00:00
	// 2026-05-15 10:46:33 +0000 UTC
}

func ExamplePythonFloat() {
	for _, f := range []float64{1, 0.1, 1e16, 1.5e-5} {
		fmt.Println(driver.PythonFloat(f))
	}
	// Output:
	// 1.0
	// 0.1
	// 1e+16
	// 1.5e-05
}

func ExampleValidateAgentID() {
	fmt.Println(driver.ValidateSessionID("user@example.com"))
	fmt.Println(driver.ValidateAgentID("user@example.com"))
	// Output:
	// <nil>
	// invalid argument: agent_id: "user@example.com" must not contain "."
}

func ExampleVerifyViewerPassword() {
	password := driver.NewViewerPassword() // give this to the viewer
	stored := driver.HashViewerPassword(password)

	fmt.Println(driver.VerifyViewerPassword(stored, password))
	fmt.Println(driver.VerifyViewerPassword(stored, "guess"))
	fmt.Println(driver.VerifyViewerPassword("legacy-plaintext", "legacy-plaintext"))
	// Output:
	// true
	// false
	// true
}

// A backend's write path: validate and normalize once, then store the
// prepared copy, which shares nothing with the caller's message.
func ExamplePrepareMessage() {
	in := &session.Message{ID: 0, Message: session.ChatMessage{
		Role:    session.RoleUser,
		Content: []session.ContentBlock{session.ToolUseBlock("t1", "search", map[string]any{"page": 2})},
	}}
	stored, err := driver.PrepareMessage(in, time.Date(2026, 5, 15, 10, 46, 33, 123456789, time.UTC))
	if err != nil {
		panic(err)
	}
	in.Message.Content[0]["added"] = true // the caller's change does not reach the prepared copy
	page := stored.Message.Content[0]["toolUse"].(map[string]any)["input"].(map[string]any)["page"]
	fmt.Printf("%T %v %s\n", page, len(stored.Message.Content[0]), stored.CreatedAt.Format(time.RFC3339Nano))

	_, err = driver.PrepareMessage(&session.Message{Message: session.ChatMessage{Role: "system"}}, time.Now())
	fmt.Println(errors.Is(err, session.ErrInvalidArgument), err)
	// Output:
	// int64 1 2026-05-15T10:46:33.123456Z
	// true invalid argument: message.role: "system" must be "user" or "assistant"
}
