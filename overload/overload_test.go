package overload_test

import (
	"errors"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/overload"
	"github.com/sluice-proxy/sluice/stats"
)

const heapName = config.FixedHeapMonitor

func parse(t *testing.T, yaml string) *config.OverloadManager {
	t.Helper()
	c, err := config.Parse("o.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c.OverloadManager
}

func cfgYAML(actions string) string {
	return `
overload_manager:
  refresh_interval: 10ms
  resource_monitors:
    - {name: envoy.resource_monitors.fixed_heap, typed_config: {max_heap_size_bytes: 1073741824}}
  actions:
` + actions
}

// fixed is an injected pressure.
type fixed struct {
	mu  sync.Mutex
	v   float64
	err error
}

func (f *fixed) Pressure() (float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.v, f.err
}

func (f *fixed) set(v float64, err error) { f.mu.Lock(); f.v, f.err = v, err; f.mu.Unlock() }

func gauge(st *stats.Store, name string) int64 { v, _ := st.GaugeValue(name); return v }

func counter(st *stats.Store, name string) uint64 { v, _ := st.CounterValue(name); return v }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestTriggers: threshold and scaled triggers turn pressure into the
// action's value, the largest trigger wins, and the stats follow.
func TestTriggers(t *testing.T) {
	st := stats.New()
	m := overload.New(st.Root(), quiet, nil)
	m.Apply(parse(t, cfgYAML(`
    - name: envoy.overload_actions.stop_accepting_connections
      triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.9}}]
    - name: envoy.overload_actions.reset_high_memory_stream
      triggers: [{name: envoy.resource_monitors.fixed_heap, scaled: {scaling_threshold: 0.5, saturation_threshold: 0.9}}]
`)))
	m.Close() // the test drives Refresh itself
	inj := &fixed{}
	m.SetMonitor(heapName, inj)
	stop, reset := m.Action(config.ActionStopAcceptingConnections), m.Action(config.ActionResetHighMemoryStream)
	var seen []float64
	var mu sync.Mutex
	cancel := stop.Subscribe(func(v float64) { mu.Lock(); seen = append(seen, v); mu.Unlock() })
	defer cancel()
	tests := []struct {
		pressure          float64
		stopV, resetV     float64
		pressurePct, scal int64
	}{
		{0.2, 0, 0, 20, 0},
		{0.7, 0, 0.5, 70, 50},
		{0.9, 1, 1, 90, 100},
		{0.95, 1, 1, 95, 100},
		{0.6, 0, 0.25, 60, 25},
	}
	for _, tc := range tests {
		inj.set(tc.pressure, nil)
		m.Refresh()
		if got := stop.Value(); got != tc.stopV {
			t.Errorf("pressure %g: stop_accepting_connections = %g, want %g", tc.pressure, got, tc.stopV)
		}
		if got := reset.Value(); got < tc.resetV-1e-9 || got > tc.resetV+1e-9 {
			t.Errorf("pressure %g: reset_high_memory_stream = %g, want %g", tc.pressure, got, tc.resetV)
		}
		if got := gauge(st, "overload."+heapName+".pressure"); got != tc.pressurePct {
			t.Errorf("pressure %g: pressure gauge %d, want %d", tc.pressure, got, tc.pressurePct)
		}
		if got := gauge(st, "overload.envoy.overload_actions.reset_high_memory_stream.scale_percent"); got != tc.scal {
			t.Errorf("pressure %g: scale_percent %d, want %d", tc.pressure, got, tc.scal)
		}
		wantActive := int64(0)
		if tc.stopV == 1 {
			wantActive = 1
		}
		if got := gauge(st, "overload.envoy.overload_actions.stop_accepting_connections.active"); got != wantActive {
			t.Errorf("pressure %g: active %d, want %d", tc.pressure, got, wantActive)
		}
	}
	mu.Lock()
	if want := []float64{0, 1, 0}; len(seen) != 3 || seen[0] != 0 || seen[1] != 1 || seen[2] != 0 {
		t.Errorf("subscriber saw %v, want %v", seen, want)
	}
	mu.Unlock()

	// A failed read is counted and leaves the last value in force.
	inj.set(0, errors.New("boom"))
	m.Refresh()
	if got := counter(st, "overload."+heapName+".failed_updates"); got != 1 {
		t.Errorf("failed_updates = %d", got)
	}
	if got := reset.Value(); got < 0.25-1e-9 || got > 0.25+1e-9 {
		t.Errorf("after a failed update the value moved to %g", got)
	}
	// Dropping the section turns every action off.
	m.Apply(nil)
	if stop.Value() != 0 || reset.Value() != 0 {
		t.Errorf("without overload_manager: %g %g", stop.Value(), reset.Value())
	}
}

type stream struct {
	n     int64
	reset bool
}

func (s *stream) BufferedBytes() int64 { return s.n }
func (s *stream) Reset(string)         { s.reset = true }

type streams []*stream

func (ss streams) EachStream(fn func(overload.Stream)) {
	for _, s := range ss {
		if !s.reset {
			fn(s)
		}
	}
}

// TestResetHighMemoryStream reproduces Envoy's bucket rule with a 1 KiB
// minimum: at scaled value v the top floor(8v)+1 of the eight power-of-two
// classes are reset; streams under the minimum never are.
func TestResetHighMemoryStream(t *testing.T) {
	st := stats.New()
	const k = 1 << 10
	ss := streams{{n: 100}, {n: k}, {n: 3 * k}, {n: 40 * k}, {n: 200 * k}, {n: 1 << 30}}
	m := overload.New(st.Root(), quiet, ss)
	m.Apply(parse(t, cfgYAML(`
    - name: envoy.overload_actions.reset_high_memory_stream
      triggers: [{name: envoy.resource_monitors.fixed_heap, scaled: {scaling_threshold: 0, saturation_threshold: 1}}]
  buffer_factory_config: {minimum_account_to_track_power_of_two_bytes: 10}
`)))
	m.Close() // the test drives Refresh itself
	// The loop's first refresh read the real heap (pressure above 0, so the
	// top class may have been reset): start from a clean slate.
	for _, s := range ss {
		s.reset = false
	}
	base := counter(st, "envoy.overload_actions.reset_high_memory_stream.count")
	inj := &fixed{}
	m.SetMonitor(heapName, inj)
	steps := []struct {
		pressure float64
		wantSet  []bool // reset state of ss after the refresh
		count    uint64
	}{
		{0, []bool{false, false, false, false, false, false}, 0},
		// 0.1: one class, the top (128 KiB and up): 200 KiB and 1 GiB.
		{0.1, []bool{false, false, false, false, true, true}, 2},
		// 0.5: five classes, 8 KiB and up: 40 KiB.
		{0.5, []bool{false, false, false, true, true, true}, 3},
		// 0.99: all eight classes, 1 KiB and up; 100 bytes stays.
		{0.99, []bool{false, true, true, true, true, true}, 5},
	}
	for _, s := range steps {
		inj.set(s.pressure, nil)
		m.Refresh()
		for i, want := range s.wantSet {
			if ss[i].reset != want {
				t.Errorf("pressure %g: stream of %d bytes reset=%v, want %v", s.pressure, ss[i].n, ss[i].reset, want)
			}
		}
		if got := counter(st, "envoy.overload_actions.reset_high_memory_stream.count") - base; got != s.count {
			t.Errorf("pressure %g: count = %d, want %d", s.pressure, got, s.count)
		}
	}
}

// TestFixedHeapAndShrinkHeap: the fixed_heap monitor sees a real
// allocation push the pressure over the threshold and its release bring it
// back; shrink_heap then returns the freed memory to the OS.
func TestFixedHeapAndShrinkHeap(t *testing.T) {
	const ballast = 96 << 20
	runtime.GC()
	base, err := overload.HeapInUse()
	if err != nil {
		t.Fatal(err)
	}
	max := 2 * (base + ballast*2/3)
	st := stats.New()
	m := overload.New(st.Root(), quiet, nil)
	c := parse(t, cfgYAML(`
    - name: envoy.overload_actions.shrink_heap
      triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.5}}]
`))
	c.ResourceMonitors[0].TypedConfig.MaxHeapSizeBytes = max
	m.Apply(c)
	defer m.Close()
	active := "overload.envoy.overload_actions.shrink_heap.active"
	on := func() bool { return gauge(st, active) == 1 }
	b := make([]byte, ballast)
	poll.Eventually(t, 10*time.Second, on, "shrink_heap not active with the ballast held")
	runtime.KeepAlive(b)
	released := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := released()
	b = nil
	runtime.GC()
	poll.Eventually(t, 10*time.Second, func() bool { return !on() }, "shrink_heap still active after the release")
	poll.Eventually(t, 10*time.Second, func() bool { return released() >= before+ballast/2 },
		"the freed ballast was not returned to the OS: released %d -> %d", before, func() any { return released() })
	t.Logf("heap released to the OS: %d MiB -> %d MiB", before>>20, released()>>20)
}
