package testenv

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// numSlots is the number of Redis Cluster hash slots.
const numSlots = 16384

// clusterView is one node's CLUSTER NODES reply.
type clusterView []clusterEntry

// clusterEntry is one line of CLUSTER NODES.
type clusterEntry struct {
	id     string
	addr   string // host:port, without @cport
	master string // master's ID for a replica, "" for a master
	flags  []string
	ranges []string              // slot ranges as printed, e.g. "0-5460"
	slots  [numSlots / 64]uint64 // bit i set: serves slot i
}

// parseClusterNodes parses CLUSTER NODES output: one node per line,
// "id ip:port@cport[,hostname] flags master ping pong epoch link slot...".
func parseClusterNodes(s string) (clusterView, error) {
	var v clusterView
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("testenv: CLUSTER NODES line %q: %d fields, want at least 8", line, len(f))
		}
		e := clusterEntry{id: f[0], flags: strings.Split(f[2], ",")}
		e.addr, _, _ = strings.Cut(f[1], "@")
		if f[3] != "-" {
			e.master = f[3]
		}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") { // [slot->-id] or [slot-<-id]: a migration in progress
				continue
			}
			lo, hi, err := slotRange(r)
			if err != nil {
				return nil, fmt.Errorf("testenv: CLUSTER NODES line %q: %w", line, err)
			}
			for i := lo; i <= hi; i++ {
				e.slots[i/64] |= 1 << (i % 64)
			}
			e.ranges = append(e.ranges, r)
		}
		v = append(v, e)
	}
	return v, nil
}

// slotRange parses "N" or "LO-HI".
func slotRange(r string) (int, int, error) {
	a, b, isRange := strings.Cut(r, "-")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, fmt.Errorf("slot range %q: %w", r, err)
	}
	hi := lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, fmt.Errorf("slot range %q: %w", r, err)
		}
	}
	if lo < 0 || hi >= numSlots || lo > hi {
		return 0, 0, fmt.Errorf("slot range %q out of [0, %d)", r, numSlots)
	}
	return lo, hi, nil
}

// serves reports whether e owns slot.
func (e *clusterEntry) serves(slot int) bool { return e.slots[slot/64]&(1<<(slot%64)) != 0 }

// has reports whether flag is among e's flags.
func (e *clusterEntry) has(flag string) bool { return slices.Contains(e.flags, flag) }

// signature describes who masters what and who replicates whom, the same
// from every node once the cluster has converged (it leaves out flags such as
// myself and fail?, which differ between observers).
func (v clusterView) signature() string {
	lines := make([]string, 0, len(v))
	for _, e := range v {
		m := e.master
		if m == "" {
			m = "-"
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %s", e.id, e.addr, m, strings.Join(e.ranges, ",")))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
