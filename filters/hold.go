package filters

import "io"

// holdReadSize is the size of one downstream read through a HoldReader.
const holdReadSize = 32 << 10

// HoldReader serves client bytes through a decision, for observers that hold
// bytes back until they can judge them (a SQL statement judged by gates).
// Each chunk read from the source goes to decide, which returns the bytes
// that may pass on now: possibly none while a statement is still held, a
// sub-slice of the chunk, or the decider's own buffer; they must stay valid
// until the next decide call. An error from decide or from the source ends
// the stream: it is returned once the released bytes are consumed (at once,
// for decide) and by every later Read. The zero value is ready to use; it is
// not safe for concurrent use.
type HoldReader struct {
	buf   []byte
	ready []byte
	err   error
}

// Read fills p from the released bytes, reading and deciding more as needed.
func (h *HoldReader) Read(src io.Reader, p []byte, decide func(chunk []byte) ([]byte, error)) (int, error) {
	if h.buf == nil {
		h.buf = make([]byte, holdReadSize)
	}
	for len(h.ready) == 0 {
		if h.err != nil {
			return 0, h.err
		}
		n, err := src.Read(h.buf)
		if n > 0 {
			out, derr := decide(h.buf[:n])
			if derr != nil {
				h.err = derr
				return 0, derr
			}
			h.ready = out
		}
		if err != nil {
			h.err = err
		}
	}
	n := copy(p, h.ready)
	h.ready = h.ready[n:]
	return n, nil
}

// Fail makes every later Read return err (nil clears a sticky end).
func (h *HoldReader) Fail(err error) { h.err = err }
