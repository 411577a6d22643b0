package ioloop

// ended closes Done and starts OnDone's callback, on the loop's thread.
func (fl *Flow) ended() {
	close(fl.done)
	if f := fl.onDone.Swap(nil); f != nil {
		go (*f)()
	}
}

// OnDone has f run on a new goroutine once the flow has ended or was given
// back (as Done), instead of a goroutine waiting on Done for the whole life
// of the connection: that goroutine's stack (8 KiB after a connection's
// set-up) was most of the memory of an idle proxied connection (issue 20).
// Call it at most once per flow; f runs at once (on a new goroutine) when
// the flow has already ended.
func (fl *Flow) OnDone(f func()) {
	fl.onDone.Store(&f)
	select {
	case <-fl.done:
		// Ended before the Store, or ended is running: whichever of the
		// two takes the callback back runs it.
		if fl.onDone.CompareAndSwap(&f, nil) {
			go f()
		}
	default:
	}
}
