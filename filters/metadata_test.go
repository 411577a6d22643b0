package filters

import "testing"

// TestSessionMetadata: each namespace keeps the last value published under
// it, namespaces do not see each other's, and an absent one reports false.
func TestSessionMetadata(t *testing.T) {
	s := &Session{}
	if v, ok := s.Metadata("a"); ok || v != nil {
		t.Fatalf("empty session: %v, %v", v, ok)
	}
	s.SetMetadata("a", 1)
	s.SetMetadata("b", "x")
	s.SetMetadata("a", 2)
	for ns, want := range map[string]any{"a": 2, "b": "x"} {
		if v, ok := s.Metadata(ns); !ok || v != want {
			t.Errorf("%s: %v, %v; want %v", ns, v, ok, want)
		}
	}
	if _, ok := s.Metadata("c"); ok {
		t.Error("c: present, never published")
	}
	if len(s.meta) != 2 {
		t.Errorf("%d entries for two namespaces", len(s.meta))
	}
}
