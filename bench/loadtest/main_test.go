package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// logServer answers GET …/agents/{a}/messages?offset=&limit= from stored,
// the texts of the agent's log by position, paging as the API does, with
// the ids given (the position when nil).
func logServer(t *testing.T, stored []string, ids []int) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		type msg struct {
			MessageID int `json:"message_id"`
			Message   struct {
				Content []map[string]string `json:"content"`
			} `json:"message"`
		}
		out := struct {
			Messages []msg `json:"messages"`
			Total    int   `json:"total"`
		}{Messages: []msg{}, Total: len(stored)}
		for i := offset; i < len(stored) && i < offset+limit; i++ {
			m := msg{MessageID: i}
			if ids != nil {
				m.MessageID = ids[i]
			}
			m.Message.Content = []map[string]string{{"text": stored[i]}}
			out.Messages = append(out.Messages, m)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// The read-back must catch each way a store can betray an acknowledgement.
func TestVerify_FindsLostDuplicatedAndMisplacedMessages(t *testing.T) {
	t.Parallel()
	acked := map[string]int{"a": 0, "b": 1, "c": 2}
	tests := []struct {
		name   string
		stored []string
		ids    []int
		want   readBack
	}{
		{"exact", []string{"a", "b", "c"}, nil, readBack{stored: 3, dense: true}},
		{"lost", []string{"a", "b"}, nil, readBack{stored: 2, lost: 1, dense: true}},
		{"duplicated", []string{"a", "b", "c", "c"}, nil, readBack{stored: 4, duplicated: 1, dense: true}},
		{"wrong id", []string{"a", "c", "b"}, nil, readBack{stored: 3, wrongID: 2, dense: true}},
		{"stored without acknowledgement", []string{"a", "b", "x", "c"}, nil, readBack{stored: 4, unacked: 1, wrongID: 1, dense: true}},
		{"gap", []string{"a", "b", "c"}, []int{0, 1, 3}, readBack{stored: 3, wrongID: 1, dense: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := logServer(t, tt.stored, tt.ids)
			got := verify(context.Background(), http.DefaultClient, base, map[string]map[string]int{"a1": acked})
			if got.err != nil {
				t.Fatal(got.err)
			}
			if got != tt.want {
				t.Errorf("verify = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Logs longer than one page are read to the end.
func TestVerify_ReadsEveryPage(t *testing.T) {
	t.Parallel()
	const n = 2500
	stored := make([]string, n)
	acked := map[string]int{}
	for i := range n {
		stored[i] = "m" + strconv.Itoa(i)
		acked[stored[i]] = i
	}
	got := verify(context.Background(), http.DefaultClient, logServer(t, stored, nil), map[string]map[string]int{"a1": acked})
	if got != (readBack{stored: n, dense: true}) {
		t.Errorf("verify = %+v", got)
	}
}
