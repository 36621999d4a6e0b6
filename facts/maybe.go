package facts

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Maybe holds a value that fix8524 may or may not have been able to read. The zero value is
// unknown ("not gathered"): a fact that could not be read is never mistaken for "none".
//
// In JSON a known value is the value itself; an unknown one is {"unknown": "reason"}. An absent
// field decodes as unknown. Maybe is used only with non-object types (strings, numbers, bools,
// slices), so the two shapes never collide.
type Maybe[T any] struct {
	Value  T
	Known  bool
	Reason string // why the value is unknown; empty when Known
}

// Some returns a known value.
func Some[T any](v T) Maybe[T] { return Maybe[T]{Value: v, Known: true} }

// Unknown returns an unknown value with the reason it could not be read.
func Unknown[T any](reason string) Maybe[T] { return Maybe[T]{Reason: reason} }

// Get returns the value and whether it is known.
func (m Maybe[T]) Get() (T, bool) { return m.Value, m.Known }

// Why returns the reason a value is unknown, or "not gathered" when none was recorded.
func (m Maybe[T]) Why() string {
	if m.Known {
		return ""
	}
	if m.Reason == "" {
		return "not gathered"
	}
	return m.Reason
}

type unknownJSON struct {
	Unknown string `json:"unknown"`
}

// MarshalJSON implements json.Marshaler.
func (m Maybe[T]) MarshalJSON() ([]byte, error) {
	if !m.Known {
		return json.Marshal(unknownJSON{Unknown: m.Why()})
	}
	return json.Marshal(m.Value)
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *Maybe[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*m = Maybe[T]{Reason: "null in input"}
		return nil
	}
	if len(b) > 0 && b[0] == '{' {
		var u unknownJSON
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&u); err != nil {
			return fmt.Errorf("expected a value or {\"unknown\": reason}: %w", err)
		}
		*m = Maybe[T]{Reason: u.Unknown}
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Some(v)
	return nil
}
