//go:build !linux

package ioloop

import (
	"errors"
	"net"
	"time"
)

// Event loops are Linux only (epoll); elsewhere New fails and every pipe
// uses a goroutine per direction.

// Group is empty outside Linux.
type Group struct{ onFail func(error) }

// ErrClosed ends the flows of a Group being closed.
var ErrClosed = errors.New("ioloop: event loops closed")

// New fails outside Linux.
func New(int, ...Option) (*Group, error) {
	return nil, errors.New("ioloop: no event loops on this platform")
}

func (*Group) Started() uint64  { return 0 }
func (*Group) BulkBack() uint64 { return 0 }
func (*Group) Len() int         { return 0 }
func (*Group) Failed() uint64   { return 0 }
func (*Group) Close()           {}

// Start always fails outside Linux.
func (*Group) Start(Taps, *net.TCPConn, Meter) (*Flow, error) { return nil, ErrClosed }

// Flow is never made outside Linux.
type Flow struct{}

func (*Flow) Abort()                                        {}
func (*Flow) Done() <-chan struct{}                         { return nil }
func (*Flow) Err() (error, bool)                            { return nil, false }
func (*Flow) First() int32                                  { return 0 }
func (*Flow) Bulk() bool                                    { return false }
func (*Flow) OnDone(func())                                 {}
func (*Flow) TakeBack() (*net.TCPConn, *net.TCPConn, error) { return nil, nil, ErrClosed }

func (p *Pause) wake() {}

// Sock is never made outside Linux.
type Sock struct{}

// SockHandler is what a loop calls for a Sock (see the Linux build).
type SockHandler interface {
	Ready(s *Sock, buf []byte)
	Stopped(s *Sock, err error)
}

// Adopt always fails outside Linux.
func (*Group) Adopt(*net.TCPConn, SockHandler) (*Sock, error) { return nil, ErrClosed }

func (*Group) Adopted() uint64               { return 0 }
func (*Sock) Read([]byte) (int, error)       { return 0, ErrClosed }
func (*Sock) Write([]byte) (int, error)      { return 0, ErrClosed }
func (*Sock) Shutdown()                      {}
func (*Sock) AfterBatch(func())              {}
func (*Sock) Release() (*net.TCPConn, error) { return nil, ErrClosed }
func (*Sock) Close()                         {}

func (*Sock) Detach()                                 {}
func (*Sock) WriteAll([]byte, time.Time) (int, error) { return 0, ErrClosed }
