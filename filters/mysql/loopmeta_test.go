package mysql

import (
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/stats"
)

// TestLoopMetadataFollowsStatementOrder: on an event loop a new statement
// shape is parsed off the loop while the next, cached one is answered at
// once. The session's metadata must end as the last statement's, not as
// whichever parse finished last.
func TestLoopMetadataFollowsStatementOrder(t *testing.T) {
	cfg := NewConfig()
	cfg.StatPrefix = "t"
	f, err := New(cfg, &filters.Env{Stats: stats.New().Root()})
	if err != nil {
		t.Fatal(err)
	}
	s := &filters.Session{Log: slog.New(slog.DiscardHandler)}
	c := newConn(f, s, &fakeConn{})
	c.started, c.onLoop, c.pause = true, true, &filters.Pause{}
	const cheap = "SELECT * FROM cheap WHERE id = 2"
	f.cache.parse([]byte(cheap), "") // its shape is cached
	want := map[string][]string{"cheap": {"select"}}
	for i := range 10 {
		before := f.stats.QueriesParsed.Value()
		c.statement(&codec.Event{SQL: []byte(fmt.Sprintf("SELECT * FROM new_table_%d AS t%d", i, i))}) // parsed off the loop
		c.statement(&codec.Event{SQL: []byte(cheap)})                                                  // answered from the cache
		poll.Eventually(t, 10*time.Second, func() bool { return f.stats.QueriesParsed.Value() == before+2 },
			"the deferred parse did not finish")
		got, _ := s.Metadata(MetadataNamespace)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: metadata %v, want the last statement's %v", i, got, want)
		}
	}
}
