// Package jsonerr turns encoding/json's decoding errors into messages for the people who wrote
// or handed over the file: where (line and column) and what was expected, in JSON's words ("a
// list", "an object"), never Go's ("cannot unmarshal array into Go value of type struct {…}").
package jsonerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Error is a decoding error located in the file.
type Error struct {
	Line, Column int // 1-based; 0 when unknown
	Msg          string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Describe explains err, returned by decoding data, without Go type names. Errors that are not
// encoding/json's are returned unchanged.
func Describe(data []byte, err error) error {
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return (&Error{Msg: "not valid JSON: " + strings.TrimPrefix(se.Error(), "json: ")}).at(data, se.Offset)
	case errors.As(err, &te):
		where := "the document"
		if te.Field != "" {
			where = fmt.Sprintf("%q", te.Field)
		}
		return (&Error{Msg: fmt.Sprintf("%s holds %s where %s is expected", where, article(te.Value), expected(te.Type))}).at(data, te.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &Error{Msg: "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")}
	case strings.HasPrefix(err.Error(), "json: "):
		return &Error{Msg: strings.TrimPrefix(err.Error(), "json: ")}
	case err.Error() == "unexpected EOF":
		return &Error{Msg: "the JSON ends too early (truncated file?)"}
	}
	return err
}

func (e *Error) at(data []byte, off int64) *Error {
	if off < 0 || off > int64(len(data)) {
		return e
	}
	e.Line, e.Column = Position(data, off)
	return e
}

// Position is the line and column (1-based) of the byte offset off in data.
func Position(data []byte, off int64) (line, column int) {
	line, column = 1, 1
	for _, c := range data[:min(max(off, 0), int64(len(data)))] {
		if c == '\n' {
			line++
			column = 1
		} else {
			column++
		}
	}
	return line, column
}

// Kind names, in JSON's words, what a token of json.Decoder.Token is or begins: "a list", "an
// object", "a string", "a number", "true or false", "null", "the end of a list" or "the end of
// an object". It never quotes the token: a decoder streaming a file says what it found without
// echoing the file's text.
func Kind(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '[':
			return "a list"
		case '{':
			return "an object"
		case ']':
			return "the end of a list"
		case '}':
			return "the end of an object"
		}
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return "another value"
}

// article names a JSON value kind as UnmarshalTypeError reports it ("array", "number 3", ...).
func article(v string) string {
	kind, _, _ := strings.Cut(v, " ")
	switch kind {
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "null":
		return "null"
	}
	return v
}

// expected names the JSON a Go type reads.
func expected(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a string"
		}
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of at least 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}
