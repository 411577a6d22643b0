package lb

import (
	"fmt"
	"testing"
)

// hosts returns endpoints keyed "127.0.0.1:<port>" for each port, weight 1.
func hosts(ports ...int) []Endpoint {
	eps := make([]Endpoint, len(ports))
	for i, p := range ports {
		eps[i] = Endpoint{Key: fmt.Sprintf("127.0.0.1:%d", p), Weight: 1}
	}
	return eps
}

// weighted returns endpoints "10.0.0.<i>:80" with the given weights.
func weighted(ws ...uint32) []Endpoint {
	eps := make([]Endpoint, len(ws))
	for i, w := range ws {
		eps[i] = Endpoint{Key: fmt.Sprintf("10.0.0.%d:80", i+1), Weight: w}
	}
	return eps
}

func mustPolicy(t testing.TB, name string, cfg Config) Policy {
	t.Helper()
	p, err := New(name, cfg)
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return p
}

func mustBuild(t testing.TB, p Policy, eps []Endpoint) Picker {
	t.Helper()
	pk, err := p.Build(eps)
	if err != nil {
		t.Fatalf("%s.Build: %v", p.Name(), err)
	}
	return pk
}
