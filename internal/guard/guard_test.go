package guard

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-proxy/sluice/stats"
)

func TestGoContainsPanic(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	st := stats.New()
	g := &Guard{Log: slog.New(slog.NewTextHandler(&lockedWriter{&mu, &logs}, nil)),
		Panics: st.Root().Sub("server").Counter("contained_panics")}
	got := make(chan *PanicError, 1)
	g.Go("test work", func(p *PanicError) { got <- p }, func() { panic("on purpose") }, "conn", 7)
	p := <-got
	if p.Value != "on purpose" || !strings.Contains(string(p.Stack), "guard_test.go") {
		t.Fatalf("panic %v, stack %s", p.Value, p.Stack)
	}
	if n := g.Panics.Value(); n != 1 {
		t.Fatalf("contained_panics = %d, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"panic contained: test work", "conn=7", `panic="on purpose"`, "stack="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}
}

func TestNilGuardLogsToDefault(t *testing.T) {
	var g *Guard
	g.Contain(&PanicError{Value: "x"}, "nil guard") // must not panic itself
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
