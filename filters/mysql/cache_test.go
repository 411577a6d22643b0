package mysql

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

func TestParseCache(t *testing.T) {
	type query struct{ sql, db string }
	tests := []struct {
		name       string
		input      []query // parsed in order through one cache
		want       string  // metadata of the last, or "error"
		wantHits   uint64
		wantMisses uint64
	}{
		{name: "literals share a shape", input: []query{{"SELECT c FROM t WHERE id=1", "app"}, {"SELECT c FROM t WHERE id=22", "app"}},
			want: "map[app.t:[select]]", wantHits: 1, wantMisses: 1},
		{name: "comments share a shape", input: []query{{"SELECT c FROM t /* req 1 */", "app"}, {"SELECT c FROM t /* req 2 */", "app"}},
			want: "map[app.t:[select]]", wantHits: 1, wantMisses: 1},
		{name: "the current database is part of the key", input: []query{{"SELECT c FROM t", "a"}, {"SELECT c FROM t", "b"}},
			want: "map[b.t:[select]]", wantMisses: 2},
		{name: "digits of names are not literals", input: []query{{"SELECT c FROM t1", ""}, {"SELECT c FROM t2", ""}},
			want: "map[t2:[select]]", wantMisses: 2},
		{name: "hints are keyed verbatim", input: []query{{"SELECT /*+ NO_INDEX_MERGE() */ c FROM t WHERE id=1", ""},
			{"SELECT /*+ NO_INDEX_MERGE() */ c FROM t WHERE id=2", ""}, {"SELECT /*+ NO_INDEX_MERGE() */ c FROM t WHERE id=2", ""}},
			want: "map[t:[select]]", wantHits: 1, wantMisses: 2},
		{name: "errors are cached", input: []query{{"SELEKT 1", ""}, {"SELEKT 2", ""}}, want: "error", wantHits: 1, wantMisses: 1},
		{name: "long text is not cached", input: []query{{"SELECT c FROM t WHERE id=1" + strings.Repeat(" ", maxCachedSQL), ""},
			{"SELECT c FROM t WHERE id=1" + strings.Repeat(" ", maxCachedSQL), ""}}, want: "map[t:[select]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := newParseCache(64, nil, nil)
			var res *parsed
			for _, q := range tt.input {
				res = pc.parse([]byte(q.sql), q.db)
			}
			got := "error"
			if res.err == nil {
				got = fmt.Sprint(res.meta)
			}
			st := pc.stats()
			if got != tt.want || st.Hits != tt.wantHits || st.Misses != tt.wantMisses {
				t.Errorf("got %s hits %d misses %d, want %s hits %d misses %d", got, st.Hits, st.Misses,
					tt.want, tt.wantHits, tt.wantMisses)
			}
		})
	}
}

// TestParseCacheBounded: many shapes never grow the cache past its size.
func TestParseCacheBounded(t *testing.T) {
	pc := newParseCache(32, nil, nil)
	for i := range 500 {
		pc.parse(fmt.Appendf(nil, "SELECT c FROM t%d WHERE id=%d", i, i), "db")
	}
	if st := pc.stats(); st.Entries > 32 || st.Misses != 500 {
		t.Errorf("stats %+v: want at most 32 entries and 500 misses", st)
	}
}

// TestParseCacheConcurrent parses the same shapes from several goroutines
// (run with -race): every result is right.
func TestParseCacheConcurrent(t *testing.T) {
	pc := newParseCache(16, nil, nil)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				table := fmt.Sprintf("t%d", i%20)
				res := pc.parse(fmt.Appendf(nil, "SELECT c FROM %s WHERE id=%d", table, g*1000+i), "db")
				if res.err != nil || !reflect.DeepEqual(res.meta, map[string][]string{"db." + table: {"select"}}) {
					errs <- fmt.Sprintf("goroutine %d query %d: %v %v", g, i, res.meta, res.err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestCacheSharedByConnections: two connections of one filter share its
// cache, and connections of another filter do not.
func TestCacheSharedByConnections(t *testing.T) {
	newFilter := func() *Filter {
		f, err := New(&Config{StatPrefix: "c", MaxSQLBytes: DefaultMaxSQLBytes, ParseCacheSize: DefaultParseCacheSize}, &filters.Env{Stats: stats.New().Root()})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	session := func(f *Filter, sql string) {
		rp := &replayer{f: f, s: &filters.Session{}, rc: &replayConn{}, buf: make([]byte, 4096)}
		rp.c, _ = f.Observe(rp.s, rp.rc)
		rp.record(t, true, greeting())
		rp.record(t, false, login())
		rp.record(t, true, codec.AppendOK(nil, 2, 0, 0, gm.SERVER_STATUS_AUTOCOMMIT, 0))
		rp.record(t, false, query(sql))
		rp.record(t, true, codec.AppendOK(nil, 1, 0, 0, gm.SERVER_STATUS_AUTOCOMMIT, 0))
	}
	f1, f2 := newFilter(), newFilter()
	session(f1, "SELECT c FROM t WHERE id=1")
	session(f1, "SELECT c FROM t WHERE id=2")
	session(f2, "SELECT c FROM t WHERE id=3")
	if st := f1.cache.stats(); st.Hits != 1 || st.Misses != 1 {
		t.Errorf("filter 1 cache %+v, want 1 hit 1 miss", st)
	}
	if st := f2.cache.stats(); st.Hits != 0 || st.Misses != 1 {
		t.Errorf("filter 2 cache %+v, want 0 hits 1 miss", st)
	}
}
