package kafkabroker

import "errors"

// maxQueued bounds the requests a connection may have awaiting responses,
// forwarded and refused together.
const maxQueued = 2 * kcodecMaxInFlight

// kcodecMaxInFlight mirrors kcodec.DefaultMaxInFlight, the framer's own bound.
const kcodecMaxInFlight = 1024

var errQueueFull = errors.New("too many requests awaiting responses")

// entry is a request awaiting its response: a forwarded request is answered
// by the broker (corr), a refused one by inject.
type entry struct {
	corr   int32
	inject []byte
}

// queue is a FIFO ring of entries in request order.
type queue struct {
	buf        []entry
	head, size int
	forwarded  int // entries with inject == nil
}

func (q *queue) len() int { return q.forwarded }

func (q *queue) push(e entry) error {
	if q.size == len(q.buf) {
		if q.size >= maxQueued {
			return errQueueFull
		}
		nb := make([]entry, max(8, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = e
	q.size++
	if e.inject == nil {
		q.forwarded++
	}
	return nil
}

// peek returns the oldest entry.
func (q *queue) peek() (entry, bool) {
	if q.size == 0 {
		return entry{}, false
	}
	return q.buf[q.head], true
}

// pop drops the oldest entry.
func (q *queue) pop() {
	e := q.buf[q.head]
	if e.inject == nil {
		q.forwarded--
	}
	q.buf[q.head] = entry{}
	q.head = (q.head + 1) % len(q.buf)
	q.size--
}

// answered removes the forwarded entry for corr (normally the oldest: a
// broker answers in request order) and appends to dst the injected
// responses that were waiting for it.
func (q *queue) answered(corr int32, dst [][]byte) [][]byte {
	for q.size > 0 {
		e := q.buf[q.head]
		q.pop()
		if e.inject != nil {
			dst = append(dst, e.inject)
			continue
		}
		if e.corr == corr {
			break
		}
	}
	for q.size > 0 && q.buf[q.head].inject != nil {
		dst = append(dst, q.buf[q.head].inject)
		q.pop()
	}
	return dst
}
