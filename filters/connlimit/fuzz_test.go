package connlimit

import (
	"testing"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// FuzzConnectionLimit drives the filter with any sequence of connections
// opening (even bytes) and the oldest admitted one closing (odd bytes):
// never more than max_connections are admitted at once, the gauge always
// equals the admitted count, and every refusal is counted.
func FuzzConnectionLimit(f *testing.F) {
	f.Add(uint8(2), []byte{0, 0, 0, 1, 0, 1, 1, 1})
	f.Fuzz(func(t *testing.T, max uint8, ops []byte) {
		cfg := &Config{StatPrefix: "f", MaxConnections: uint64(max%8) + 1}
		store := stats.New()
		fl, err := New(cfg, &filters.Env{Stats: store.Root()})
		if err != nil {
			t.Fatal(err)
		}
		var open []*filters.Session
		var refused uint64
		for _, op := range ops {
			if op%2 == 0 {
				s := &filters.Session{}
				if _, err := fl.Observe(s, nil); err != nil {
					refused++
				} else {
					open = append(open, s)
				}
			} else if len(open) > 0 {
				open[0].RunOnClose()
				open = open[1:]
			}
			if uint64(len(open)) > cfg.MaxConnections {
				t.Fatalf("%d admitted at once, max %d", len(open), cfg.MaxConnections)
			}
			if g, _ := store.GaugeValue("connection_limit.f.active_connections"); g != int64(len(open)) {
				t.Fatalf("active_connections %d, %d open", g, len(open))
			}
		}
		if c, _ := store.CounterValue("connection_limit.f.limited_connections"); c != refused {
			t.Fatalf("limited_connections %d, refused %d", c, refused)
		}
	})
}
