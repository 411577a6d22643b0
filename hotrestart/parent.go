package hotrestart

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Parent is what a running sluice offers the sluice that replaces it.
type Parent interface {
	// ListenerFiles returns a duplicate of the listening socket of each
	// running listener whose configured address is in addrs, with the
	// address it was asked by. The caller closes the files.
	ListenerFiles(addrs []string) ([]string, []*os.File)
	// Counters returns every counter's value by full name.
	Counters() map[string]uint64
	// ShutdownAdmin closes the admin server, whose address the child binds.
	ShutdownAdmin()
	// Started returns when the first epoch started (Envoy's
	// uptime_all_epochs counts from there).
	Started() time.Time
	// Drain stops accepting and returns once open connections are done (or
	// the drain time is over); the process exits after the reply is sent.
	Drain()
}

// Server answers one child at a time on the socket of this epoch.
type Server struct {
	ln     *net.UnixListener
	p      Parent
	log    *slog.Logger
	wg     sync.WaitGroup
	closed chan struct{}
	// Drained is closed once a child's drain request was answered: the
	// process should exit.
	Drained chan struct{}
	once    sync.Once
}

// Listen serves p on the socket name (see SocketName).
func Listen(name string, p Parent, log *slog.Logger) (*Server, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, p: p, log: log, closed: make(chan struct{}), Drained: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Close stops serving and waits for the serving goroutines.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.ln.Close()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("hot restart: accept", "err", err)
			}
			return
		}
		// One child at a time: a second one waits for the first.
		s.serve(c)
	}
}

func (s *Server) serve(c *net.UnixConn) {
	defer c.Close()
	if err := samePeer(c); err != nil {
		s.log.Warn("hot restart: refused a peer", "err", err)
		return
	}
	go func() { <-s.closed; c.Close() }()
	for {
		m, files, err := recv(c)
		closeAll(files) // a child sends none
		if err != nil {
			return
		}
		var reply message
		var out []*os.File
		switch m.Op {
		case "hello":
			if m.Version != Version {
				reply.Error = "hot restart version " + m.Version + " does not match the parent's " + Version
			}
			reply.Version = Version
			reply.Started = s.p.Started().UnixMilli()
		case "listeners":
			reply.Addresses, out = s.p.ListenerFiles(m.Addresses)
			s.log.Info("hot restart: handing listening sockets to the new process", "addresses", reply.Addresses)
		case "counters":
			reply.Counters = s.p.Counters()
		case "shutdown_admin":
			s.p.ShutdownAdmin()
		case "drain":
			s.log.Info("hot restart: the new process serves; draining")
			s.p.Drain()
			reply.Counters = s.p.Counters()
		default:
			reply.Error = "unknown op " + m.Op
		}
		reply.Op = m.Op
		err = send(c, &reply, out)
		closeAll(out)
		if m.Op == "drain" {
			s.once.Do(func() { close(s.closed) })
			close(s.Drained)
			return
		}
		if err != nil {
			return
		}
	}
}

// samePeer admits only a process of this one's user (or root): an abstract
// socket has no file permissions, and the peer could take the sockets and
// stop this process.
func samePeer(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	if uid := uint32(os.Getuid()); cred.Uid != uid && cred.Uid != 0 {
		return fmt.Errorf("peer pid %d runs as uid %d, not %d", cred.Pid, cred.Uid, uid)
	}
	return nil
}
