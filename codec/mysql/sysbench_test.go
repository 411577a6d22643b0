package mysql

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSysbenchChunking decodes the recorded sysbench connections as
// recorded (rows whole in their chunks: the in-place paths) and cut into
// small pieces (every packet copied through the framer): the events must be
// the same, and the result sets those of oltp_read_only.
func TestSysbenchChunking(t *testing.T) {
	tests := []struct {
		name string
		want string // rows of the result sets of the first transaction
	}{
		{name: "sysbench_ps", want: "1 1 1 1 1 1 1 1 1 1 100 1 100 100"},
		{name: "sysbench_text", want: "1 1 1 1 1 1 1 1 1 1 100 1 100 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := decodeRecords(readGzip(t, "testdata/"+tt.name+".cap.gz"))
			var rows []string
			whole := sysbenchEvents(recs, 0, func(ev *Event) {
				if ev.Kind == EventResultSet && len(rows) < 14 {
					rows = append(rows, strconv.FormatUint(ev.Rows, 10))
				}
			})
			if got := strings.Join(rows, " "); got != tt.want {
				t.Errorf("rows of the first transaction: %s, want %s", got, tt.want)
			}
			for _, chunk := range []int{1, 7, 130} {
				if got := sysbenchEvents(recs, chunk, nil); !slices.Equal(got, whole) {
					t.Errorf("chunk %d: %d events differ from the %d of whole records", chunk, len(got), len(whole))
				}
			}
		})
	}
}

// sysbenchEvents feeds recs (cut into chunk-byte pieces, 0: as recorded)
// and returns every event rendered by short.
func sysbenchEvents(recs []record, chunk int, also func(*Event)) []string {
	var out []string
	s := NewSession(Config{}, func(ev *Event) {
		out = append(out, short(ev))
		if also != nil {
			also(ev)
		}
	})
	for _, r := range recs {
		for p := r.data; len(p) > 0; {
			n := len(p)
			if chunk > 0 {
				n = min(n, chunk)
			}
			s.Feed(r.dir, p[:n])
			p = p[n:]
		}
	}
	return out
}
