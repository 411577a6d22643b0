package postgres

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/poll"
)

// TestLoopMetadataFollowsStatementOrder: on an event loop a new statement
// shape is parsed off the loop while the next, cached one is answered at
// once. The session's metadata must end as the last statement's, not as
// whichever parse finished last (the deferred one, here every time).
func TestLoopMetadataFollowsStatementOrder(t *testing.T) {
	f, _ := newTestFilter(t, nil)
	s := newSession()
	fc := &fakeConn{}
	c := newConn(f, s, fc, fc, nil)
	c.started, c.onLoop, c.pause = true, true, &filters.Pause{}
	const cheap = "SELECT * FROM cheap WHERE id = 2"
	if _, _, err := f.cache.parse([]byte(cheap)); err != nil { // its shape is cached
		t.Fatal(err)
	}
	want := map[string][]string{"cheap": {"select"}}
	for i := range 10 {
		before := f.stats.StatementsParsed.Value()
		c.query([]byte(fmt.Sprintf("SELECT * FROM new_table_%d AS t%d", i, i)), false) // parsed off the loop
		c.query([]byte(cheap), false)                                                  // answered from the cache
		poll.Eventually(t, 10*time.Second, func() bool { return f.stats.StatementsParsed.Value() == before+2 },
			"the deferred parse did not finish")
		got, _ := s.Metadata(MetadataNamespace)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: metadata %v, want the last statement's %v", i, got, want)
		}
	}
}
