package filters

import "testing"

// TestDetach: a session detaches only when the server gave its
// end-of-connection work, which Finish then runs once; Finish on a session
// that did not detach leaves the end to the server.
func TestDetach(t *testing.T) {
	s := &Session{}
	if s.Detach() || s.Detached() {
		t.Fatal("detached without the server's work")
	}
	runs := 0
	s = &Session{}
	s.OnFinish(func() { runs++ })
	s.Finish()
	if runs != 0 {
		t.Fatal("Finish ran the server's work for a session not detached")
	}
	s = &Session{}
	s.OnFinish(func() { runs++ })
	if !s.Detach() || !s.Detached() {
		t.Fatal("Detach refused with the server's work set")
	}
	s.Finish()
	s.Finish()
	if runs != 1 {
		t.Fatalf("the server's work ran %d times, want 1", runs)
	}
}
