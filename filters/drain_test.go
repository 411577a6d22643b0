package filters

import "testing"

func TestOnDrain(t *testing.T) {
	s := &Session{}
	ran := make(chan string, 3)
	s.OnDrain(func() { ran <- "a" })
	stop := s.OnDrain(func() { ran <- "stopped" })
	if !stop() {
		t.Fatal("stop of a pending callback reported false")
	}
	if s.Draining() {
		t.Fatal("draining before StartDrain")
	}
	s.StartDrain()
	s.StartDrain() // twice is fine
	if got := <-ran; got != "a" {
		t.Fatalf("ran %q", got)
	}
	s.OnDrain(func() { ran <- "late" }) // registered after: runs at once
	if got := <-ran; got != "late" {
		t.Fatalf("ran %q", got)
	}
}
