package redis

import (
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
	r, err := d.roundTrip(raw)
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

// followDedicated follows one MOVED or ASK for a blocking command.
func (c *client) followDedicated(t target, raw, r []byte) ([]byte, error) {
	rd, ok := redis.ParseRedirect(r)
	if !ok {
		return r, nil
	}
	hp := c.p.redirectPool(t, rd)
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
