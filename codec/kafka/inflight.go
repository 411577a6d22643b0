package kafka

import "fmt"

// pending is what a ResponseFramer remembers about a request in flight.
type pending struct {
	key, version int16
	stamp        int64
}

// inFlight maps correlation ids to the requests awaiting responses, bounded
// by Limits.MaxInFlight. A Go map reuses its buckets after deletes, so a
// steady request/response flow does not allocate.
type inFlight struct {
	max int
	m   map[int32]pending
}

func (t *inFlight) add(id int32, p pending) error {
	if t.m == nil {
		t.m = make(map[int32]pending)
	}
	if _, dup := t.m[id]; dup {
		return fmt.Errorf("%w: %d", ErrDuplicateCorrelationID, id)
	}
	if len(t.m) >= t.max {
		return fmt.Errorf("%w: %d", ErrTooManyInFlight, t.max)
	}
	t.m[id] = p
	return nil
}

func (t *inFlight) take(id int32) (pending, bool) {
	p, ok := t.m[id]
	if ok {
		delete(t.m, id)
	}
	return p, ok
}
