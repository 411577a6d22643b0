package testenv

import (
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"strings"
)

// SlotMigration is a slot being moved between two masters, left half done
// for ASK tests: while it lasts, keys already moved answer -ASK at the
// source, keys not yet moved are still served there.
type SlotMigration struct {
	c        *RedisClusterEnv
	slot     int
	from, to *RedisNode
}

// StartMigration marks slot IMPORTING on to and MIGRATING on from, moving no
// key yet.
func (c *RedisClusterEnv) StartMigration(slot int, from, to *RedisNode) *SlotMigration {
	c.t.Helper()
	if slot < 0 || slot >= numSlots || from == to {
		c.t.Fatalf("testenv: StartMigration(%d, %s, %s): bad slot or same node", slot, from.Addr(), to.Addr())
	}
	c.mustDo(to, "CLUSTER", "SETSLOT", slot, "IMPORTING", from.id)
	c.mustDo(from, "CLUSTER", "SETSLOT", slot, "MIGRATING", to.id)
	return &SlotMigration{c: c, slot: slot, from: from, to: to}
}

// MoveKeys migrates the given keys (which must hash to the slot) to the
// target with MIGRATE.
func (m *SlotMigration) MoveKeys(keys ...string) {
	m.c.t.Helper()
	if len(keys) == 0 {
		return
	}
	args := []any{"MIGRATE", m.to.host, m.to.port, "", 0, 5000}
	if pw := m.to.cfg.password; pw != "" {
		args = append(args, "AUTH", pw)
	}
	args = append(args, "KEYS")
	for _, k := range keys {
		args = append(args, k)
	}
	m.c.mustDo(m.from, args...)
}

// MoveAll migrates every key of the slot still at the source.
func (m *SlotMigration) MoveAll() {
	m.c.t.Helper()
	for {
		v := m.c.mustDo(m.from, "CLUSTER", "GETKEYSINSLOT", m.slot, 100)
		list, _ := v.([]any)
		if len(list) == 0 {
			return
		}
		keys := make([]string, len(list))
		for i, k := range list {
			keys[i] = fmt.Sprint(k)
		}
		m.MoveKeys(keys...)
	}
}

// Finish moves the remaining keys, assigns the slot to the target on every
// master (target first, as the Redis docs advise), and waits for the
// cluster to agree.
func (m *SlotMigration) Finish() {
	m.c.t.Helper()
	m.MoveAll()
	m.c.mustDo(m.to, "CLUSTER", "SETSLOT", m.slot, "NODE", m.to.id)
	m.c.mustDo(m.from, "CLUSTER", "SETSLOT", m.slot, "NODE", m.to.id)
	for _, n := range m.c.Masters() {
		if n != m.to && n != m.from && n.running() {
			m.c.mustDo(n, "CLUSTER", "SETSLOT", m.slot, "NODE", m.to.id)
		}
	}
	m.c.WaitOK()
}

// MigrateSlot moves slot and its keys from one master to another; after it
// returns, the old owner answers -MOVED for the slot's keys.
func (c *RedisClusterEnv) MigrateSlot(slot int, from, to *RedisNode) {
	c.t.Helper()
	c.StartMigration(slot, from, to).Finish()
}

// Failover promotes a replica of master with CLUSTER FAILOVER (a coordinated
// failover: no write is lost), waits for the cluster to agree, and returns
// the new master.
func (c *RedisClusterEnv) Failover(master *RedisNode) *RedisNode {
	c.t.Helper()
	var replica *RedisNode
	for _, r := range c.Replicas(master) {
		if r.running() {
			replica = r
			break
		}
	}
	if replica == nil {
		c.t.Fatalf("testenv: Failover: master %s has no running replica", master.Addr())
	}
	// CLUSTER FAILOVER needs the replica's link to its master up.
	poll.Eventually(c.t, clusterTimeout, func() bool {
		v, err := replica.do("INFO", "replication")
		return err == nil && strings.Contains(fmt.Sprint(v), "master_link_status:up")
	}, "replica %s linked to master %s", replica.Addr(), master.Addr())
	c.mustDo(replica, "CLUSTER", "FAILOVER")
	poll.Eventually(c.t, clusterTimeout, func() bool {
		v, err := replica.do("ROLE")
		list, _ := v.([]any)
		return err == nil && len(list) > 0 && fmt.Sprint(list[0]) == "master"
	}, "replica %s promoted", replica.Addr())
	c.WaitOK()
	return replica
}

// mustDo runs a command on n and fails the test on error.
func (c *RedisClusterEnv) mustDo(n *RedisNode, args ...any) any {
	c.t.Helper()
	v, err := n.do(args...)
	if err != nil {
		c.t.Fatalf("testenv: %s on %s: %v", cmdString(args), n.Addr(), err)
	}
	return v
}

// cmdString renders a command for messages.
func cmdString(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprint(a)
	}
	return strings.Join(parts, " ")
}
