package config

import (
	"errors"
	"fmt"
	"strconv"
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

// Index returns "path[i]". (Not fmt.Sprintf: loaders call it for every list
// element, 100,000 endpoints in a large xDS update.)
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// fillLines gives each problem without a line the line of its path, or of
// the nearest enclosing path that was read from the file ("listeners[0]"
// for a missing "listeners[0].name").
func (e *Errors) fillLines(lines map[string]int) {
	for i := range e.List {
		fe := &e.List[i]
		for p := fe.Path; fe.Line == 0 && p != ""; p = parentPath(p) {
			fe.Line = lines[p]
		}
	}
}

// parentPath drops the last ".name" or "[i]" of path.
func parentPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// parserProblems are the messages of yaml's parser (not its scanner). Its
// errors print a 0-based line, the scanner's a 1-based one.
var parserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document",
	"found undefined tag handle",
}

// syntaxError splits a yaml syntax error ("yaml: line 3: did not find
// expected key") into a 1-based line (0 when unknown) and the message.
func syntaxError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, m, ok := strings.Cut(rest, ": "); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, msg = v, m
			}
		}
	}
	for _, p := range parserProblems {
		if msg == p {
			return line + 1, msg
		}
	}
	return line, msg
}

// At turns an error whose message starts with a field path of c
// ("listeners[0].address: bind: address already in use", as the server's
// Apply reports them) into an *Errors naming c's file and the path's line.
// Other errors are returned as they are.
func (c *Config) At(err error) error {
	if err == nil {
		return nil
	}
	var errs *Errors
	if errors.As(err, &errs) {
		return err
	}
	path, msg, ok := strings.Cut(err.Error(), ": ")
	if !ok || strings.ContainsAny(path, " \t") {
		return err
	}
	e := &Errors{File: c.source, List: []FieldError{{Path: path, Msg: msg}}}
	e.fillLines(c.lines)
	if e.List[0].Line == 0 {
		return err // not a path of this config
	}
	if c.sourcePath != nil {
		c.locate(e)
	}
	return e
}

// SetSourcePaths is for a config translated from another format (an Envoy
// bootstrap, config/envoy): f maps a path of c ("listeners[0].address") to
// where the user wrote it ("static_resources.listeners[0].address"), and
// CheckFiles, CheckAddresses and At report problems there, without the
// translated text's lines.
func (c *Config) SetSourcePaths(f func(path string) string) { c.sourcePath = f }

// locate gives each problem the path and line the user wrote it at.
func (c *Config) locate(e *Errors) {
	if c.sourcePath == nil {
		e.fillLines(c.lines)
		return
	}
	for i := range e.List {
		e.List[i].Path, e.List[i].Line = c.sourcePath(e.List[i].Path), 0
	}
}
