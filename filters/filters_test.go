package filters

import (
	"strings"
	"sync"
	"testing"
)

type cfgA struct{ N int }

var registerOK sync.Once

func TestRegisterRefusesBadFactories(t *testing.T) {
	newA := func() *cfgA { return &cfgA{N: 1} }
	build := func(c *cfgA, _ *Env) (int, error) { return c.N, nil }
	registerOK.Do(func() { Register(Typed("test_registry_ok", Observer, newA, build)) }) // -count=N reruns
	for _, tc := range []struct {
		name string
		f    Factory
	}{
		{"nil", nil},
		{"empty name", Typed("", Observer, newA, build)},
		{"duplicate", Typed("test_registry_ok", Observer, newA, build)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			Register(tc.f)
		})
	}
	if _, ok := Lookup("test_registry_ok"); !ok {
		t.Fatal("registered factory not found")
	}
	found := false
	for _, n := range Names() {
		found = found || n == "test_registry_ok"
	}
	if !found {
		t.Fatal("Names lacks the registered factory")
	}
}

func TestTypedBuild(t *testing.T) {
	f := Typed("x", Terminal, func() *cfgA { return &cfgA{N: 7} }, func(c *cfgA, _ *Env) (int, error) { return c.N * 2, nil })
	got, err := f.Build(f.NewConfig(), nil)
	if err != nil || got.(int) != 14 {
		t.Fatalf("Build = %v, %v", got, err)
	}
	if _, err := f.Build(&struct{}{}, nil); err == nil || !strings.Contains(err.Error(), "want *filters.cfgA") {
		t.Fatalf("wrong config type: %v", err)
	}
}

// closeNoError has a Close the server's filters.Closer check would miss.
type closeNoError struct{}

func (*closeNoError) Close() {}

// closeWithError is a proper Closer.
type closeWithError struct{}

func (*closeWithError) Close() error { return nil }

func TestTypedRefusesCloseWithoutError(t *testing.T) {
	newA := func() *cfgA { return &cfgA{} }
	for _, tc := range []struct {
		name      string
		typed     func()
		wantPanic string
	}{
		{"Close without error", func() {
			Typed("bad_close", Terminal, newA, func(*cfgA, *Env) (*closeNoError, error) { return nil, nil })
		}, "want func() error"},
		{"Close() error", func() {
			Typed("good_close", Terminal, newA, func(*cfgA, *Env) (*closeWithError, error) { return nil, nil })
		}, ""},
		{"no Close", func() { Typed("no_close", Terminal, newA, func(*cfgA, *Env) (int, error) { return 0, nil }) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				v := recover()
				switch {
				case tc.wantPanic == "" && v != nil:
					t.Fatalf("panicked: %v", v)
				case tc.wantPanic != "" && (v == nil || !strings.Contains(v.(string), tc.wantPanic)):
					t.Fatalf("panic %v, want %q", v, tc.wantPanic)
				}
			}()
			tc.typed()
		})
	}
}

func TestRetained(t *testing.T) {
	made := 0
	mk := func() any { made++; return &made }
	var none *Retained
	if none.Get("k", mk) == nil || none.Get("k", mk) == nil || made != 2 {
		t.Fatalf("nil Retained: made %d values, want one per call", made)
	}
	var r Retained
	a, b := r.Get("k", mk), r.Get("k", mk)
	if a != b || made != 3 {
		t.Fatalf("Get twice: %p %p, made %d; want the value kept", a, b, made)
	}
	if r.Get("other", mk); made != 4 {
		t.Fatal("another key shared a value")
	}
}

func TestAsCloser(t *testing.T) {
	for _, tc := range []struct {
		name    string
		input   any
		want    bool
		wantErr string
	}{
		{"closer", &closeWithError{}, true, ""},
		{"no Close", 3, false, ""},
		{"nil", nil, false, ""},
		{"Close without error", &closeNoError{}, false, "want func() error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := AsCloser(tc.input)
			if (c != nil) != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("AsCloser = %v, %v; want closer %v, error %q", c, err, tc.want, tc.wantErr)
			}
		})
	}
}
