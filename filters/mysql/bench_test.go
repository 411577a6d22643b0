package mysql

import (
	"reflect"
	"testing"
)

// TestSysbenchReplay replays both sysbench captures through the filter and
// checks what it counted and published, so that the benchmarks below
// measure a filter that decodes what it sees.
func TestSysbenchReplay(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		wantParsed uint64 // setup prepares + steady statements
		wantSelect uint64
	}{
		{name: "prepared", path: sysbenchPS, wantParsed: 7, wantSelect: 5},
		{name: "text", path: sysbenchText, wantParsed: 64, wantSelect: 56},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := loadSysbench(t, tt.path)
			rp := newReplayer(t, sc, false)
			for i := range sc.steps {
				rp.exchange(t, &sc.steps[i])
			}
			st := rp.f.stats
			if got := st.QueriesParsed.Value(); got != tt.wantParsed {
				t.Errorf("queries_parsed = %d, want %d", got, tt.wantParsed)
			}
			if got := st.StmtSelect.Value(); got != tt.wantSelect {
				t.Errorf("statements_select = %d, want %d", got, tt.wantSelect)
			}
			if st.DecoderErrors.Value() != 0 || st.ProtocolErrors.Value() != 0 || st.QueriesParseError.Value() != 0 {
				t.Errorf("decoder_errors %d protocol_errors %d parse_errors %d", st.DecoderErrors.Value(),
					st.ProtocolErrors.Value(), st.QueriesParseError.Value())
			}
			// Every query's response ended: one latency sample per command.
			if got := st.QueryTime.Snapshot().Count; got != 64 {
				t.Errorf("query_time samples = %d, want 64", got)
			}
			rp.exchange(t, &sc.steps[1]) // a point select: the last statement published
			meta, _ := rp.s.Metadata(MetadataNamespace)
			want := map[string][]string{"sbtest.sbtest1": {"select"}}
			if tt.name == "text" && !reflect.DeepEqual(meta, want) {
				t.Errorf("metadata = %v, want %v", meta, want)
			}
		})
	}
}

// BenchmarkSysbench replays recorded oltp_read_only exchanges through the
// filter, one command and its whole response per op: all 64 of the capture
// in turn ("all"), or only those of one shape.
func BenchmarkSysbench(b *testing.B) {
	for _, mode := range []struct{ name, path string }{{"ps", sysbenchPS}, {"text", sysbenchText}} {
		sc := loadSysbench(b, mode.path)
		for _, shape := range []string{"all", "point", "range", "sum", "order", "distinct", "begin"} {
			var steps []*exchange
			var bytes int64
			for i := range sc.steps {
				if e := &sc.steps[i]; shape == "all" || e.shape == shape {
					steps = append(steps, e)
					bytes += int64(len(e.client))
					for _, s := range e.server {
						bytes += int64(len(s))
					}
				}
			}
			b.Run(mode.name+"/"+shape, func(b *testing.B) {
				rp := newReplayer(b, sc, false)
				b.SetBytes(bytes / int64(len(steps)))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					rp.exchange(b, steps[i])
					if i++; i == len(steps) {
						i = 0
					}
				}
			})
		}
	}
}

// BenchmarkSysbenchGated is the text replay with a SQL gate in the chain:
// every statement is held until complete, parsed and checked.
func BenchmarkSysbenchGated(b *testing.B) {
	sc := loadSysbench(b, sysbenchText)
	rp := newReplayer(b, sc, true)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rp.exchange(b, &sc.steps[i])
		if i++; i == len(sc.steps) {
			i = 0
		}
	}
}
