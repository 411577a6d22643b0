package cluster

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrRecentConnectFailure is Pool.Get's error during the backoff after a
// failed dial.
var ErrRecentConnectFailure = errors.New("recent connect failure")

// PoolConn is what a Pool holds: a multiplexed upstream connection that
// knows when it died and can be closed.
type PoolConn interface {
	Dead() bool
	Close()
}

// Pool is the generic part of a protocol's per-host pool of multiplexed
// connections (redis_proxy's): a fixed number of slots, the caller's id
// picking one, so that one caller's requests stay on one connection, in
// order. Get is lock-free while the slot's connection lives; dials are
// serialized, and after a failed dial Get fails at once for Backoff, so a
// pipeline to a dead host costs one connect attempt, not one per request.
// What a connection does (framing, batching) is the protocol's.
type Pool[T any, C interface {
	*T
	PoolConn
}] struct {
	// Open dials and prepares a new connection (through Cluster.Dial, for
	// breakers and upstream_cx_* stats). Set before the first Get.
	Open    func() (C, error)
	Backoff time.Duration

	slots    []atomic.Pointer[T]
	mu       sync.Mutex // serializes dials
	failedAt atomic.Int64
}

// NewPool returns a pool of n slots (n >= 1).
func NewPool[T any, C interface {
	*T
	PoolConn
}](n int, backoff time.Duration, open func() (C, error)) *Pool[T, C] {
	return &Pool[T, C]{Open: open, Backoff: backoff, slots: make([]atomic.Pointer[T], max(n, 1))}
}

// Get returns a live connection for caller id, dialing if needed.
func (p *Pool[T, C]) Get(id uint64) (C, error) {
	slot := &p.slots[id%uint64(len(p.slots))]
	if c := C(slot.Load()); c != nil && !c.Dead() {
		return c, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := C(slot.Load()); c != nil && !c.Dead() {
		return c, nil
	}
	if t := p.failedAt.Load(); t != 0 && time.Since(time.Unix(0, t)) < p.Backoff {
		return nil, ErrRecentConnectFailure
	}
	c, err := p.Open()
	if err != nil {
		p.failedAt.Store(time.Now().UnixNano())
		return nil, err
	}
	p.failedAt.Store(0)
	slot.Store((*T)(c))
	return c, nil
}

// Ready returns caller id's live connection without dialing or waiting for
// a dial: nil when there is none (an event loop, which must not block, then
// hands the send to a goroutine that calls Get).
func (p *Pool[T, C]) Ready(id uint64) C {
	if c := C(p.slots[id%uint64(len(p.slots))].Load()); c != nil && !c.Dead() {
		return c
	}
	return nil
}

// CloseAll closes every connection the pool holds; later Gets dial anew.
func (p *Pool[T, C]) CloseAll() {
	for i := range p.slots {
		if c := C(p.slots[i].Load()); c != nil {
			c.Close()
		}
	}
}
