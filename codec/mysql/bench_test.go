package mysql

import (
	"compress/gzip"
	"io"
	"os"
	"testing"
)

// BenchmarkSessionLargeResult decodes the captured 5000-row result set
// session (both directions, as recorded) per iteration.
func BenchmarkSessionLargeResult(b *testing.B) {
	raw, err := os.ReadFile("testdata/large_result.cap")
	if err != nil {
		b.Fatal(err)
	}
	recs := decodeRecords(raw)
	var total int64
	for _, r := range recs {
		total += int64(len(r.data))
	}
	var rows uint64
	s := NewSession(Config{}, func(ev *Event) {
		if ev.Kind == EventResultSet {
			rows += ev.Rows
		}
	})
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		*s = Session{fn: s.fn, sqlPrefix: s.sqlPrefix, fr: s.fr}
		s.fr[0].Reset()
		s.fr[1].Reset()
		for _, r := range recs {
			s.Feed(r.dir, r.data)
		}
	}
	if rows == 0 {
		b.Fatal("no rows decoded")
	}
}

// BenchmarkFramerRows frames a stream of 100-byte rows in 16 KiB chunks.
func BenchmarkFramerRows(b *testing.B) {
	row := make([]byte, 100)
	var stream []byte
	for i := 0; len(stream) < 1<<20; i++ {
		stream = append(stream, pkt(uint8(i), row)...)
	}
	f := NewFramer(minPrefix)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		for p := stream; len(p) > 0; {
			chunk := p[:min(len(p), 16<<10)]
			p = p[len(chunk):]
			for len(chunk) > 0 {
				_, n, _ := f.Next(chunk)
				chunk = chunk[n:]
			}
		}
	}
}

// BenchmarkSessionSysbench decodes recorded sysbench oltp_read_only
// connections (4 transactions, 64 commands: prepared statements or query
// text) per iteration, as the observer's codec sees them.
func BenchmarkSessionSysbench(b *testing.B) {
	for _, name := range []string{"sysbench_ps", "sysbench_text"} {
		b.Run(name, func(b *testing.B) {
			recs := decodeRecords(readGzip(b, "testdata/"+name+".cap.gz"))
			var total int64
			for _, r := range recs {
				total += int64(len(r.data))
			}
			var results int
			s := NewSession(Config{}, func(ev *Event) {
				if ev.Kind == EventResultSet {
					results++
				}
			})
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				*s = Session{fn: s.fn, sqlPrefix: s.sqlPrefix, fr: s.fr}
				s.fr[0].Reset()
				s.fr[1].Reset()
				for _, r := range recs {
					s.Feed(r.dir, r.data)
				}
			}
			if results == 0 {
				b.Fatal("no result sets decoded")
			}
		})
	}
}

func readGzip(tb testing.TB, path string) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}
