// Package guard keeps a panic in code that works for one connection (a
// filter, a codec, a library it calls) from ending the process: the
// goroutine or event-loop callback that panicked recovers, the connection it
// served is closed, and the panic is logged with its stack and the
// connection's identity and counted in server.contained_panics.
//
// recover only works in the deferred function itself, so each place that
// contains panics defers its own closure that calls recover and hands the
// value to Recovered; Guard does the logging and counting in one place.
package guard

import (
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/sluice-proxy/sluice/stats"
)

// PanicError is a recovered panic, carried as an error to the goroutine
// that owns the connection (an event loop fails the flow with it).
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Recovered wraps v, the value recover returned, with the stack of the
// goroutine that is panicking. Call it from the deferred function, before
// the stack unwinds.
func Recovered(v any) *PanicError {
	return &PanicError{Value: v, Stack: debug.Stack()}
}

// Guard logs and counts contained panics. The zero value and nil log to
// slog's default logger and count nothing, for tests that build pieces
// without a server.
type Guard struct {
	Log    *slog.Logger
	Panics *stats.Counter // server.contained_panics
}

// Contain logs p at error level with what was being done and attrs (the
// connection's identity), and counts it.
func (g *Guard) Contain(p *PanicError, what string, attrs ...any) {
	log := slog.Default()
	if g != nil && g.Log != nil {
		log = g.Log
	}
	if g != nil && g.Panics != nil {
		g.Panics.Inc()
	}
	log.Error("panic contained: "+what, append(attrs, "panic", fmt.Sprint(p.Value), "stack", string(p.Stack))...)
}

// Go runs fn on a new goroutine; a panic in it is contained (logged with
// what and attrs, counted) and then onPanic runs, if not nil, to close what
// fn was serving.
func (g *Guard) Go(what string, onPanic func(*PanicError), fn func(), attrs ...any) {
	go func() {
		defer func() {
			if v := recover(); v != nil {
				p := Recovered(v)
				g.Contain(p, what, attrs...)
				if onPanic != nil {
					onPanic(p)
				}
			}
		}()
		fn()
	}()
}
