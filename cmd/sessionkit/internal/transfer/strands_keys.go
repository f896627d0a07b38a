package transfer

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/sessionkit/sessionkit/session/driver"
)

// The top-level keys of each Strands file (strands-agents 1.62: Session,
// SessionAgent and SessionMessage as the SDK writes them). The store keeps
// exactly these fields of a file, so a key outside them (one a later SDK
// might add) would be dropped on import and missing from the export: the
// import refuses it instead, naming the file and the key. Unknown keys
// inside the free-form values (state, messages) are kept, not refused.
var (
	sessionFileKeys = []string{"session_id", "session_type", "created_at", "updated_at"}
	agentFileKeys   = []string{"agent_id", "state", "conversation_manager_state", "_internal_state", "created_at", "updated_at"}
	messageFileKeys = []string{"message_id", "message", "redact_message", "created_at", "updated_at"}
)

// checkKeys reports the first top-level key of the JSON object b that is
// not in known, as an InvalidArgument naming name and the key. A b that is
// not an object is left to the file's decoder to refuse.
func checkKeys(name string, b []byte, known []string) error {
	var doc map[string]json.RawMessage
	if json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var unknown []string
	for k := range doc {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("%s: %w", name, driver.InvalidArgument("file",
		"key %q is not part of the Strands file and would be lost: the import maps only %v", unknown[0], known))
}
