package redis

import (
	"golang.org/x/sys/unix"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// blocking runs a blocking command (BLPOP, BRPOP, BLMOVE, BZPOPMIN,
// XREAD BLOCK...) on a connection of this client's own, so that it blocks
// nobody else. The client's earlier replies are written first, and the
// client's next command is read only after the reply, as redis-server does
// for a blocked client.
func (c *client) blocking(cmd redis.Command, ci *redis.CommandInfo, keys []int) bool {
	t, ok := c.routeKeys(cmd.Args, keys, false)
	if !ok {
		return true
	}
	raw := c.wire(cmd, t.rt, keys)
	if ci.Flags.Has(redis.FlagWrite) {
		c.noteWrite(t.hp)
	}
	if !c.drain() {
		return false
	}
	d, err := c.dedicatedTo(t.hp)
	if err != nil {
		c.reply(replyUpstreamFailure)
		return true
	}
	if t.host != nil {
		t.host.BeginRequest()
	}
	stop := c.watchHangup(d.close)
	r, err := d.roundTrip(raw)
	stop()
	if err == nil && c.p.cfg.Settings.EnableRedirection && r[0] == '-' {
		r, err = c.followDedicated(t, raw, r)
	}
	if t.host != nil {
		t.host.EndRequest(err == nil)
	}
	if err != nil {
		c.dropDedicated(t.hp)
		c.reply(replyUpstreamFailure)
		return true
	}
	c.reply(r)
	return true
}

// watchHangup runs onHangup if the client hangs up while the reader waits
// for a reply that may never come (BLPOP k 0, WAIT 1 0), as redis-server
// frees a blocked client at EOF, or if sluice closes the client's connection
// meanwhile (drain); onHangup closes the dedicated connections waited on, so
// the wait ends in an upstream failure and the reader then finds the EOF. It
// polls the socket for POLLRDHUP without reading, so bytes the client sends
// meanwhile stay for the reader; each poll lasts at most 100 ms, because
// it holds the socket (a Close waits for it), and an eventfd in the same
// poll lets stop end the watch at once. stop waits for the watcher.
func (c *client) watchHangup(onHangup func()) (stop func()) {
	if c.raw == nil { // not a plain TCP client (tests, TLS)
		return func() {}
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	c.s.Go(func() {
		defer close(done)
		for {
			hup, stopped := false, false
			err := c.raw.Control(func(fd uintptr) {
				fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}, {Fd: int32(efd), Events: unix.POLLIN}}
				if n, err := unix.Poll(fds, 100); err == nil && n > 0 {
					stopped = fds[1].Revents != 0
					hup = !stopped && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
				}
			})
			switch {
			case stopped:
				return
			case hup, err != nil: // err: sluice closed the connection
				onHangup()
				return
			}
		}
	})
	return func() {
		unix.Write(efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		<-done
		unix.Close(efd)
	}
}

// followDedicated follows one MOVED or ASK for a blocking command.
func (c *client) followDedicated(t target, raw, r []byte) ([]byte, error) {
	rd, ok := redis.ParseRedirect(r)
	if !ok {
		return r, nil
	}
	hp, _ := c.p.redirectPool(t, rd)
	if hp == nil {
		return r, nil
	}
	d, err := c.dedicatedTo(hp)
	if err != nil {
		return nil, err
	}
	if rd.Ask {
		if _, err := d.roundTrip(askingCmd); err != nil {
			return nil, err
		}
	}
	return d.roundTrip(raw)
}

var askingCmd = []byte("*1\r\n$6\r\nASKING\r\n")

// dedicatedTo returns this client's own connection to hp's address.
func (c *client) dedicatedTo(hp *hostPool) (*dedicated, error) {
	if d := c.pinned[hp.addr]; d != nil {
		return d, nil
	}
	nc, err := hp.open()
	if err != nil {
		return nil, err
	}
	if c.pinned == nil {
		c.pinned = map[string]*dedicated{}
	}
	d := &dedicated{nc: nc}
	c.pinned[hp.addr] = d
	return d, nil
}

func (c *client) dropDedicated(hp *hostPool) {
	if d := c.pinned[hp.addr]; d != nil {
		d.close()
		delete(c.pinned, hp.addr)
	}
}
