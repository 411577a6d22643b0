package filters

// Tapped is a Conn whose bytes an observer sees: OnRead gets each chunk read
// from downstream (client to server), OnWrite each chunk written to downstream
// (server to client), before it is written. A non-nil error from either fails
// that Read or Write, which ends the connection.
//
// The callbacks run on the goroutine that reads or writes; one direction's
// callback is never called concurrently with itself. The chunk is only valid
// during the call.
type Tapped struct {
	Conn
	OnRead  func(p []byte) error
	OnWrite func(p []byte) error
}

// Tap wraps c so that onRead and onWrite see its bytes; either may be nil.
func Tap(c Conn, onRead, onWrite func(p []byte) error) *Tapped {
	return &Tapped{Conn: c, OnRead: onRead, OnWrite: onWrite}
}

// Read reads from the wrapped conn and shows the bytes to OnRead.
func (t *Tapped) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 && t.OnRead != nil {
		if ferr := t.OnRead(p[:n]); ferr != nil {
			return 0, ferr
		}
	}
	return n, err
}

// Write shows p to OnWrite and then writes it to the wrapped conn.
func (t *Tapped) Write(p []byte) (int, error) {
	if t.OnWrite != nil && len(p) > 0 {
		if err := t.OnWrite(p); err != nil {
			return 0, err
		}
	}
	return t.Conn.Write(p)
}
