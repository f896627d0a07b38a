package driver

import (
	"fmt"
	"math"

	"github.com/sessionkit/sessionkit/session"
)

// The checks below take their field path as a *valuePath and render it
// (String) only when they report an error. Escape analysis cannot keep a
// path chain on the stack (the checks recurse and errors keep the text),
// so callers first check with a nil path, which allocates nothing: field
// and at of nil are nil. Only when that fails do they check again with
// the real path, for the error to name the field (checkNamed).

// field returns the path of key under p; nil when p is nil.
func (p *valuePath) field(key string) *valuePath {
	if p == nil {
		return nil
	}
	return &valuePath{parent: p, key: key}
}

// at returns the path of list item i under p; nil when p is nil.
func (p *valuePath) at(i int) *valuePath {
	if p == nil {
		return nil
	}
	return &valuePath{parent: p, index: i, isIndex: true}
}

// checkNamed runs check with no path and, only when it fails, again with
// the path path() returns, so a valid value costs no path allocations and
// an invalid one gets an error naming its field.
func checkNamed[T any](check func(*valuePath, T) error, path func() *valuePath, v T) error {
	if check(nil, v) == nil {
		return nil
	}
	return check(path(), v)
}

// checkBlock checks canonical content block b found at path.
func checkBlock(path *valuePath, b map[string]any) error {
	if len(b) == 0 {
		return InvalidArgument(path.String(), "is empty; a content block needs a kind such as text or toolUse")
	}
	for kind, v := range b {
		p := path.field(kind)
		var err error
		switch kind {
		case "text":
			err = wantString(p, v, false)
		case "toolUse":
			err = checkToolUse(p, v)
		case "toolResult":
			err = checkToolResult(p, v)
		case "image", "video":
			err = checkMedia(p, v, false)
		case "document":
			err = checkMedia(p, v, true)
		case "reasoningContent":
			err = checkReasoning(p, v)
		case "cachePoint":
			err = withObject(p, v, func(m map[string]any) error { return requireString(p, m, "type") })
		case "guardContent":
			err = checkGuard(p, v)
		case "citationsContent":
			err = checkCitations(p, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// withObject calls f with v when v is an object.
func withObject(path *valuePath, v any, f func(map[string]any) error) error {
	m, ok := v.(map[string]any)
	if !ok {
		return InvalidArgument(path.String(), "is %s, not an object", kindOf(v))
	}
	return f(m)
}

// wantString checks that v is a string, and not empty when nonEmpty.
func wantString(path *valuePath, v any, nonEmpty bool) error {
	s, ok := v.(string)
	if !ok {
		return InvalidArgument(path.String(), "is %s, not a string", kindOf(v))
	}
	if nonEmpty && s == "" {
		return InvalidArgument(path.String(), "must not be empty")
	}
	return nil
}

// requireString checks that m[key] is a non-empty string.
func requireString(path *valuePath, m map[string]any, key string) error {
	v, ok := m[key]
	if !ok {
		return InvalidArgument(path.field(key).String(), "is required")
	}
	return wantString(path.field(key), v, true)
}

// optionalString checks m[key], when present, is a string.
func optionalString(path *valuePath, m map[string]any, key string) error {
	if v, ok := m[key]; ok {
		return wantString(path.field(key), v, false)
	}
	return nil
}

func wantBytes(path *valuePath, v any) error {
	if _, ok := v.([]byte); !ok {
		return InvalidArgument(path.String(), `is %s, not binary data ({"__bytes_encoded__": true, "data": "<base64>"} in JSON)`, kindOf(v))
	}
	return nil
}

func checkToolUse(path *valuePath, v any) error {
	return withObject(path, v, func(m map[string]any) error {
		if err := requireString(path, m, "toolUseId"); err != nil {
			return err
		}
		if err := requireString(path, m, "name"); err != nil {
			return err
		}
		if _, ok := m["input"]; !ok {
			return InvalidArgument(path.field("input").String(), "is required")
		}
		return nil
	})
}

func checkToolResult(path *valuePath, v any) error {
	return withObject(path, v, func(m map[string]any) error {
		if err := requireString(path, m, "toolUseId"); err != nil {
			return err
		}
		if st, ok := m["status"]; ok && st != "success" && st != "error" {
			return InvalidArgument(path.field("status").String(), "%v must be \"success\" or \"error\"", st)
		}
		cp := path.field("content")
		items, ok := m["content"].([]any)
		if !ok {
			if _, has := m["content"]; !has {
				return InvalidArgument(cp.String(), "is required")
			}
			return InvalidArgument(cp.String(), "is %s, not a list", kindOf(m["content"]))
		}
		for i, it := range items {
			p := cp.at(i)
			im, ok := it.(map[string]any)
			if !ok {
				return InvalidArgument(p.String(), "is %s, not an object", kindOf(it))
			}
			// A tool result's items are text, json, image, document or
			// video blocks: the content-block rules cover them all.
			if err := checkBlock(p, im); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkMedia checks an image, video or document block: a format, a source
// holding bytes or an S3 location, and for documents a name.
func checkMedia(path *valuePath, v any, named bool) error {
	return withObject(path, v, func(m map[string]any) error {
		if err := requireString(path, m, "format"); err != nil {
			return err
		}
		if named {
			if err := requireString(path, m, "name"); err != nil {
				return err
			}
		}
		sp := path.field("source")
		src, ok := m["source"]
		if !ok {
			return InvalidArgument(sp.String(), "is required")
		}
		return withObject(sp, src, func(s map[string]any) error {
			if len(s) == 0 {
				return InvalidArgument(sp.String(), "is empty; give bytes or s3Location")
			}
			if b, ok := s["bytes"]; ok {
				if err := wantBytes(sp.field("bytes"), b); err != nil {
					return err
				}
			}
			if loc, ok := s["s3Location"]; ok {
				lp := sp.field("s3Location")
				return withObject(lp, loc, func(l map[string]any) error { return requireString(lp, l, "uri") })
			}
			return nil
		})
	})
}

func checkReasoning(path *valuePath, v any) error {
	return withObject(path, v, func(m map[string]any) error {
		rt, hasText := m["reasoningText"]
		rc, hasRedacted := m["redactedContent"]
		if !hasText && !hasRedacted {
			return InvalidArgument(path.String(), "needs reasoningText or redactedContent")
		}
		if hasRedacted {
			if err := wantBytes(path.field("redactedContent"), rc); err != nil {
				return err
			}
		}
		if hasText {
			tp := path.field("reasoningText")
			return withObject(tp, rt, func(t map[string]any) error {
				if _, ok := t["text"]; !ok {
					return InvalidArgument(tp.field("text").String(), "is required")
				}
				if err := wantString(tp.field("text"), t["text"], false); err != nil {
					return err
				}
				return optionalString(tp, t, "signature")
			})
		}
		return nil
	})
}

func checkGuard(path *valuePath, v any) error {
	return withObject(path, v, func(m map[string]any) error {
		txt, hasText := m["text"]
		img, hasImage := m["image"]
		if !hasText && !hasImage {
			return InvalidArgument(path.String(), "needs text or image")
		}
		if hasImage {
			if err := checkMedia(path.field("image"), img, false); err != nil {
				return err
			}
		}
		if !hasText {
			return nil
		}
		tp := path.field("text")
		return withObject(tp, txt, func(t map[string]any) error {
			if _, ok := t["text"]; !ok {
				return InvalidArgument(tp.field("text").String(), "is required")
			}
			if err := wantString(tp.field("text"), t["text"], false); err != nil {
				return err
			}
			q, ok := t["qualifiers"]
			if !ok {
				return nil
			}
			qp := tp.field("qualifiers")
			qs, ok := q.([]any)
			if !ok {
				return InvalidArgument(qp.String(), "is %s, not a list", kindOf(q))
			}
			for i, e := range qs {
				if err := wantString(qp.at(i), e, true); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

func checkCitations(path *valuePath, v any) error {
	return withObject(path, v, func(m map[string]any) error {
		for _, key := range []string{"citations", "content"} {
			raw, ok := m[key]
			if !ok {
				continue
			}
			lp := path.field(key)
			items, ok := raw.([]any)
			if !ok {
				return InvalidArgument(lp.String(), "is %s, not a list", kindOf(raw))
			}
			for i, it := range items {
				ip := lp.at(i)
				if err := withObject(ip, it, func(o map[string]any) error { return optionalString(ip, o, "text") }); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// usageCounters are the Strands Usage and Metrics fields of an assistant
// message's metadata; they count tokens or milliseconds.
var usageCounters = map[string][]string{
	"usage":   {"inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens", "cacheWriteInputTokens"},
	"metrics": {"latencyMs", "timeToFirstByteMs"},
}

// checkMessageMetadata checks the usage and metrics counters of a Strands
// message's metadata: numbers, never negative. Other keys are free-form.
func checkMessageMetadata(path *valuePath, md map[string]any) error {
	if len(md) == 0 {
		return nil
	}
	for group, keys := range usageCounters {
		g, ok := md[group]
		if !ok {
			continue
		}
		gp := path.field(group)
		err := withObject(gp, g, func(m map[string]any) error {
			for _, k := range keys {
				v, ok := m[k]
				if !ok {
					continue
				}
				if err := nonNegativeNumber(gp.field(k), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func nonNegativeNumber(path *valuePath, v any) error {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return InvalidArgument(path.String(), "%d is negative", x)
		}
	case float64:
		if x < 0 {
			return InvalidArgument(path.String(), "%v is negative", x)
		}
	default:
		return InvalidArgument(path.String(), "is %s, not a number", kindOf(v))
	}
	return nil
}

// checkMetrics rejects negative or non-finite event-loop metrics.
func checkMetrics(m *session.EventLoopMetrics) error {
	const p = "event_loop_metrics"
	if err := checkUsage(p+".accumulated_usage", m.AccumulatedUsage); err != nil {
		return err
	}
	if m.InvocationUsage != nil {
		if err := checkUsage(p+".invocation_usage", *m.InvocationUsage); err != nil {
			return err
		}
	}
	am := m.AccumulatedMetrics
	c := m.CycleMetrics
	checks := []struct {
		field string
		v     float64
	}{
		{p + ".accumulated_metrics.latencyMs", float64(am.LatencyMs)},
		{p + ".accumulated_metrics.timeToFirstByteMs", float64(am.TimeToFirstByteMs)},
		{p + ".cycle_metrics.cycle_count", float64(c.CycleCount)},
		{p + ".cycle_metrics.total_duration", c.TotalDuration},
		{p + ".cycle_metrics.average_cycle_time", c.AverageCycleTime},
	}
	for name, tu := range m.ToolUsage {
		tp := fmt.Sprintf("%s.tool_usage[%q]", p, name)
		checks = append(checks, []struct {
			field string
			v     float64
		}{
			{tp + ".call_count", float64(tu.CallCount)},
			{tp + ".success_count", float64(tu.SuccessCount)},
			{tp + ".error_count", float64(tu.ErrorCount)},
			{tp + ".total_time", tu.TotalTime},
			{tp + ".average_time", tu.AverageTime},
			{tp + ".success_rate", tu.SuccessRate},
		}...)
	}
	for _, c := range checks {
		if err := nonNegativeFinite(c.field, c.v); err != nil {
			return err
		}
	}
	return nil
}

func checkUsage(path string, u session.Usage) error {
	for _, c := range []struct {
		field string
		v     int64
	}{
		{"inputTokens", u.InputTokens}, {"outputTokens", u.OutputTokens}, {"totalTokens", u.TotalTokens},
		{"cacheReadInputTokens", u.CacheReadInputTokens}, {"cacheWriteInputTokens", u.CacheWriteInputTokens},
	} {
		if c.v < 0 {
			return InvalidArgument(path+"."+c.field, "%d is negative", c.v)
		}
	}
	return nil
}

func nonNegativeFinite(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return InvalidArgument(field, "%v must be a finite number, not negative", v)
	}
	return nil
}

// kindOf names v's JSON type for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case []byte:
		return "binary data"
	}
	return fmt.Sprintf("%T", v)
}
