package proxy

import "time"

// drain stops accepting and lets open connections finish until the drain
// deadline, then cancels and closes what is left. It blocks until all are
// gone. The caller sets the deadline first (setDeadline), synchronously, so
// that an adoption right after (which clears it) cannot be overtaken by a
// drain goroutine that starts late.
func (l *listener) drain() {
	l.stopAccepting()
	l.signalDrain()
	defer l.drained.Store(true)
	defer l.chains.Load().retire()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	for {
		var expire <-chan time.Time
		var t *time.Timer
		if dl := l.drainDeadline(); !dl.IsZero() {
			t = time.NewTimer(time.Until(dl))
			expire = t.C
		}
		select {
		case <-done:
		case <-l.kick:
		case <-expire:
			l.closeConns()
			<-done
			return
		}
		if t != nil {
			t.Stop()
		}
		select {
		case <-done:
			return
		default:
		}
	}
}

// setDeadline sets when this listener's and its adopted listeners'
// draining connections are closed; zero keeps them.
func (l *listener) setDeadline(t time.Time) {
	l.dlMu.Lock()
	l.deadline = t
	l.dlMu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	for _, a := range l.adopted {
		a.setDeadline(t)
	}
}

func (l *listener) drainDeadline() time.Time {
	l.dlMu.Lock()
	defer l.dlMu.Unlock()
	return l.deadline
}

// signalDrain tells every open connection's filters that the listener
// drains (filters.Session.Draining).
func (l *listener) signalDrain() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ac := range l.conns {
		if s := ac.ov.s.Load(); s != nil {
			s.StartDrain()
		}
	}
}

// closeConns cancels and closes every open connection.
func (l *listener) closeConns() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ac := range l.conns {
		ac.cancel()
		ac.raw.Close()
	}
}

// stopAccepting closes the listening socket; connections already accepted
// carry on. Apply calls it before returning, so a removed listener refuses
// new connections as soon as the reload is done.
func (l *listener) stopAccepting() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.ov.close()
	l.ln.Close()
}
