package filters

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestHoldReader: bytes pass only when decide releases them, in order; a
// decide error ends the stream at once and stays.
func TestHoldReader(t *testing.T) {
	var h HoldReader
	var held []byte
	// Hold everything until a ';' arrives, then release it all.
	decide := func(chunk []byte) ([]byte, error) {
		held = append(held, chunk...)
		if i := bytes.LastIndexByte(held, ';'); i >= 0 {
			out := append([]byte(nil), held[:i+1]...)
			held = held[i+1:]
			return out, nil
		}
		return nil, nil
	}
	src := io.MultiReader(bytes.NewReader([]byte("SEL")), bytes.NewReader([]byte("ECT 1;SEL")), bytes.NewReader([]byte("ECT 2;")))
	var got bytes.Buffer
	p := make([]byte, 4)
	for {
		n, err := h.Read(src, p, decide)
		got.Write(p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got.String() != "SELECT 1;SELECT 2;" {
		t.Fatalf("released %q", got.String())
	}

	var h2 HoldReader
	boom := errors.New("denied")
	_, err := h2.Read(bytes.NewReader([]byte("x")), p, func([]byte) ([]byte, error) { return nil, boom })
	if err != boom {
		t.Fatalf("decide error: %v", err)
	}
	if _, err := h2.Read(bytes.NewReader([]byte("y")), p, decide); err != boom {
		t.Fatalf("error not sticky: %v", err)
	}
}
