// Package ioloop is the server's epoll event loops, which move the bytes of
// plain TCP connections the way haproxy and PgBouncer do (see loop_linux.go),
// and serve single sockets for terminal filters that own their requests, the
// way twemproxy does (Sock, sock_linux.go: redis_proxy's clients and
// upstream connections).
// The server creates one Group, sized by --io-loops, hands it to filters
// through their build environment (filters.Env.Loops) and closes it at
// shutdown; nothing about the loops is process-global, so two servers in
// one process (tests) have their own.
//
// Hand-written on epoll rather than github.com/panjf2000/gnet/v2 (v2.9.7)
// or github.com/cloudwego/netpoll, after reading both (issue 20 asked):
//   - gnet's Client.Enroll adopts an accepted net.Conn and registers it on
//     the loop's thread (the race fixed here cannot happen there), but it
//     adopts one conn at a time onto a loop it picks itself, so a flow's
//     two ends may land on different loops and every forwarded chunk would
//     cross threads through AsyncWrite's queue; each gnet conn also keeps
//     its own inbound and outbound elastic buffers, where a loop here reads
//     into one shared 64 KiB buffer and keeps bytes only for a peer that
//     did not take them (the idle-memory goal is 16 KiB per connection).
//   - netpoll runs handlers on a goroutine pool, not on the poller thread,
//     and its connections come from its own listener and dialer; the
//     hand-off per message is the cost the loops exist to avoid.
//
// Neither gives a bulk flow back to Go's splice path or shows each chunk to
// observers in place. What they would replace is about 500 lines here
// (registration, backpressure, half-close); keeping it costs the bugs a
// review found, now fixed and covered by TestChurnWithResets,
// TestLoopCannotEndAFlowBeingRegistered and TestEpollFailureStopsOneLoop.
package ioloop

import (
	"net"
	"sync/atomic"
)

// Taps is what a loop needs to move a downstream connection's bytes itself,
// instead of a goroutine calling the Conn's Read and Write: the plain TCP
// connection underneath, the bytes a Read would have returned before
// reading it, and the callbacks the observers above it want per chunk.
type Taps struct {
	TCP *net.TCPConn
	// Pending goes upstream before anything read from TCP. The callbacks
	// have already seen it.
	Pending []byte
	// OnRead sees each chunk read from TCP before it goes upstream; OnWrite
	// each chunk for TCP before it is written. Either may be nil; an error
	// ends the connection, as from the Conn's Read or Write. They run on the
	// loop's thread and must not block.
	OnRead, OnWrite func(p []byte) error
	// Pause, when set, lets OnRead stop the loop reading TCP until work
	// done elsewhere is finished; nil: never.
	Pause *Pause
}

// Pause lets an observer take work that must not run on a loop's thread
// (a SQL parse that misses the cache) off it while keeping its connection
// in order: OnRead calls Hold, the chunk it saw goes on, and the loop reads
// nothing more from that client until the work calls Release. The other
// connections of the loop never wait, and a client sending only new
// statements is slowed to the parser's pace instead of queueing without
// bound. Holds count: reading resumes at the last Release.
type Pause struct {
	held atomic.Int32
	fl   atomic.Pointer[Flow] // set once the flow is in its loop
}

// Hold stops reading after the current chunk; call it from OnRead (or while
// the Taps are being made, before Start).
func (p *Pause) Hold() { p.held.Add(1) }

// Release undoes one Hold, from any goroutine.
func (p *Pause) Release() {
	if p.held.Add(-1) == 0 {
		p.wake()
	}
}

// Meter receives a flow's byte counts, on the loop's thread.
type Meter interface {
	// Moved counts n bytes written to the other side; fromUp says the
	// bytes came from upstream.
	Moved(fromUp bool, n int64)
	// Buffered adds delta to the bytes held for the other side.
	Buffered(fromUp bool, delta int64)
}

// DefaultCount is the loop count for procs cores when --io-loops is not
// given: one loop per two cores, at least one. A loop per core measured
// worse on a 2-core box shared with the database and the clients
// (bench/postgres.sh -S: 30133 tps with two loops, 39332 with one, in one
// run): each loop then sees fewer ready sockets per epoll_wait and its
// thread sleeps and wakes more often, and the loops leave no core to the
// rest of the process (accepts, handshakes, other filters' goroutines).
func DefaultCount(procs int) int { return max(1, (procs+1)/2) }

// Option configures a Group at New.
type Option func(*Group)

// OnLoopFailure has f called, on the failing loop's thread, when a loop
// stops on an epoll error (its connections are closed; new ones take the
// other loops or, with none left, the goroutine path). The server counts
// them in server.io_loop_failures.
func OnLoopFailure(f func(error)) Option { return func(g *Group) { g.onFail = f } }
