package overload

import (
	"runtime/debug"
	"sort"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// Stream is a connection reset_high_memory_stream may reset. BufferedBytes
// is what the connection holds in sluice's buffers now (0 when it does not
// know); Reset closes the connection, logging and counting why.
type Stream interface {
	BufferedBytes() int64
	Reset(reason string)
}

// StreamSource lists the open connections; the server's listeners are one.
// fn must not block.
type StreamSource interface {
	EachStream(fn func(Stream))
}

// Envoy's buffer accounting: eight power-of-two memory classes from the
// minimum tracked size up, the last open-ended; at pressure p the top
// floor(8p)+1 classes are reset, at most 50 streams per refresh.
const (
	memoryClasses     = 8
	maxResetsPerCycle = 50
)

// shrinkEvery is how often shrink_heap returns memory while saturated, as
// Envoy's shrink_heap timer does.
const shrinkEvery = 10 * time.Second

// shrinkHeap returns free heap memory to the OS while shrink_heap is
// saturated (at most every shrinkEvery), and once more when it turns off:
// the pressure fell because memory was freed, and returning it then is what
// brings the RSS down after a burst. m.mu is held.
func (m *Manager) shrinkHeap() {
	a := m.actions[config.ActionShrinkHeap]
	on := a.Saturated()
	wasOn := !m.lastFree.IsZero()
	switch {
	case on && time.Since(m.lastFree) >= shrinkEvery:
		debug.FreeOSMemory()
		m.lastFree = time.Now()
	case !on && wasOn:
		debug.FreeOSMemory()
		m.lastFree = time.Time{}
	}
}

// resetStreams closes the connections holding the most buffered bytes while
// reset_high_memory_stream has a value. m.mu is held.
func (m *Manager) resetStreams() {
	v := m.actions[config.ActionResetHighMemoryStream].Value()
	if v <= 0 || m.streams == nil || m.cfg == nil {
		return
	}
	minBytes := int64(1) << m.cfg.MinTrackedPowerOfTwo()
	classes := min(int(v*memoryClasses)+1, memoryClasses)
	lowest := memoryClasses - classes // the lowest class reset
	type cand struct {
		s Stream
		n int64
	}
	var cs []cand
	m.streams.EachStream(func(s Stream) {
		n := s.BufferedBytes()
		if n >= minBytes && memoryClass(n, minBytes) >= lowest {
			cs = append(cs, cand{s, n})
		}
	})
	sort.Slice(cs, func(i, j int) bool { return cs[i].n > cs[j].n })
	if len(cs) > maxResetsPerCycle {
		cs = cs[:maxResetsPerCycle]
	}
	for _, c := range cs {
		c.s.Reset("overload_manager: reset_high_memory_stream")
	}
	if len(cs) > 0 {
		m.resets.Add(uint64(len(cs)))
		m.log.Warn("overload: reset the connections holding the most buffered bytes",
			"connections", len(cs), "largest_bytes", cs[0].n, "classes", classes)
	}
}

// memoryClass returns n's class: 0 for [min, 2min), ..., 7 for 128min and up.
func memoryClass(n, minBytes int64) int {
	c := 0
	for n >= 2*minBytes && c < memoryClasses-1 {
		n >>= 1
		c++
	}
	return c
}
