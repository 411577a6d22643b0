package config

import (
	"fmt"
	"strings"
)

// FieldError is one problem in a config: where (the field path, such as
// "listeners[0].filters[1].tcp_proxy.cluster", and the YAML line when known)
// and why.
type FieldError struct {
	Path string
	Line int
	Msg  string
}

// Errors collects every problem found in one config file, so that a user sees
// them all at once. It is an error when it holds at least one.
type Errors struct {
	File string
	List []FieldError
}

// Add records a problem at path.
func (e *Errors) Add(path, format string, args ...any) {
	e.List = append(e.List, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// AddLine records a problem at path, with the YAML line it came from.
func (e *Errors) AddLine(path string, line int, format string, args ...any) {
	e.List = append(e.List, FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds problems and nil otherwise.
func (e *Errors) Err() error {
	if len(e.List) == 0 {
		return nil
	}
	return e
}

// Error renders one "FILE: field.path: reason" line per problem.
func (e *Errors) Error() string {
	var b strings.Builder
	for i, fe := range e.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		file := e.File
		if file == "" {
			file = "config"
		}
		path := fe.Path
		if path == "" {
			path = "(root)"
		}
		fmt.Fprintf(&b, "%s: %s: %s", file, path, fe.Msg)
		if fe.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", fe.Line)
		}
	}
	return b.String()
}

// Join returns "path.name", or name when path is empty.
func Join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Index returns "path[i]".
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
