package redis

import (
	"errors"
	"strings"
	"testing"
)

// all in a test table stands for the length of the whole input.
const all = -1

func TestFrameReply(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    int // 0: incomplete; all: the whole input
		wantErr error
	}{
		{name: "simple", input: "+OK\r\n", want: all},
		{name: "error then more", input: "-ERR unknown\r\n+OK\r\n", want: 14},
		{name: "integer", input: ":1000\r\n", want: all},
		{name: "bulk", input: "$5\r\nhello\r\n", want: all},
		{name: "empty bulk", input: "$0\r\n\r\n", want: all},
		{name: "bulk with CRLF inside", input: "$4\r\n\r\n\r\n\r\n", want: all},
		{name: "null bulk", input: "$-1\r\n", want: all},
		{name: "null array", input: "*-1\r\n", want: all},
		{name: "empty array", input: "*0\r\n", want: all},
		{name: "mget", input: "*3\r\n$1\r\na\r\n$-1\r\n:1\r\n", want: all},
		{name: "nested", input: "*2\r\n*1\r\n+a\r\n*0\r\n", want: all},
		{name: "resp3 scalars", input: "*6\r\n_\r\n,1.5\r\n#t\r\n(12345678901234567890\r\n!3\r\nbad\r\n=7\r\ntxt:abc\r\n", want: all},
		{name: "map", input: "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", want: all},
		{name: "set and push", input: "~1\r\n>2\r\n+x\r\n+y\r\n", want: all},
		{name: "attribute", input: "|1\r\n+key\r\n+val\r\n:5\r\n", want: all},
		{name: "attribute inside array", input: "*2\r\n|1\r\n+k\r\n+v\r\n:1\r\n:2\r\n", want: all},
		{name: "partial header", input: "$5\r", want: 0},
		{name: "partial bulk", input: "$5\r\nhel", want: 0},
		{name: "partial bulk CR", input: "$5\r\nhello\r", want: 0},
		{name: "partial line", input: "+OK", want: 0},
		{name: "partial array", input: "*2\r\n:1\r\n", want: 0},
		{name: "huge declared array", input: "*1099511627776\r\n", want: 0},
		{name: "bad type", input: "?\r\n", wantErr: ErrBadReply},
		{name: "bad bulk length", input: "$x\r\n", wantErr: ErrBadReply},
		{name: "bulk length leading zero", input: "$05\r\nhello\r\n", wantErr: ErrBadReply},
		{name: "bulk missing CRLF", input: "$1\r\naXY", wantErr: ErrBadReply},
		{name: "line without LF", input: "+OK\rX", wantErr: ErrBadReply},
		{name: "header without LF", input: "$1\rX", wantErr: ErrBadReply},
		{name: "null map", input: "%-1\r\n", wantErr: ErrBadReply},
		{name: "null blob error", input: "!-1\r\n", wantErr: ErrBadReply},
		{name: "streamed string", input: "$?\r\n", wantErr: ErrBadReply},
		{name: "too long header", input: "*" + strings.Repeat("1", 40), wantErr: ErrBadReply},
		{name: "too large length", input: "$1099511627777\r\n", wantErr: ErrBadReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == all {
				tt.want = len(tt.input)
			}
			n, err := FrameReply([]byte(tt.input))
			if !errors.Is(err, tt.wantErr) || n != tt.want {
				t.Fatalf("FrameReply = %d, %v; want %d, %v", n, err, tt.want, tt.wantErr)
			}
			// The scanner fed one byte at a time must agree.
			sn, serr := scanBytewise([]byte(tt.input))
			if !errors.Is(serr, tt.wantErr) || sn != tt.want {
				t.Fatalf("bytewise scan = %d, %v; want %d, %v", sn, serr, tt.want, tt.wantErr)
			}
		})
	}
}

// scanBytewise feeds b to a ReplyScanner one byte at a time, keeping the
// unconsumed bytes as a proxy would, and returns the length of the first
// reply (0 if incomplete).
func scanBytewise(b []byte) (int, error) {
	var s ReplyScanner
	var pend []byte
	total := 0
	for i := range b {
		pend = append(pend, b[i])
		n, done, err := s.Scan(pend)
		if err != nil {
			return 0, err
		}
		total += n
		pend = pend[n:]
		if done {
			return total, nil
		}
	}
	return 0, nil
}

// TestReplyScannerStream walks a stream of replies in odd-sized chunks and
// checks each reply boundary.
func TestReplyScannerStream(t *testing.T) {
	replies := []string{"+OK\r\n", "$3\r\nabc\r\n", "*2\r\n$1\r\nx\r\n:7\r\n", "-MOVED 1 h:1\r\n", "%1\r\n+k\r\n*0\r\n"}
	stream := []byte(strings.Join(replies, ""))
	for chunk := 1; chunk <= 7; chunk++ {
		var s ReplyScanner
		var pend []byte
		var got []int
		cur := 0
		for off := 0; off < len(stream); off += chunk {
			pend = append(pend, stream[off:min(off+chunk, len(stream))]...)
			for len(pend) > 0 {
				n, done, err := s.Scan(pend)
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				cur += n
				pend = pend[n:]
				if done {
					got = append(got, cur)
					cur = 0
				} else {
					break
				}
			}
		}
		if len(got) != len(replies) {
			t.Fatalf("chunk %d: got %d replies, want %d", chunk, len(got), len(replies))
		}
		for i, r := range replies {
			if got[i] != len(r) {
				t.Fatalf("chunk %d: reply %d length %d, want %d", chunk, i, got[i], len(r))
			}
		}
	}
}

func TestFrameReplyDeepNesting(t *testing.T) {
	deep := strings.Repeat("*1\r\n", 100000) + ":1\r\n"
	n, err := FrameReply([]byte(deep))
	if err != nil || n != len(deep) {
		t.Fatalf("FrameReply = %d, %v", n, err)
	}
	if _, _, err := DecodeReply([]byte(deep)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("DecodeReply err = %v, want ErrTooDeep", err)
	}
	atLimit := strings.Repeat("*1\r\n", MaxReplyDepth) + ":1\r\n"
	if _, n, err := DecodeReply([]byte(atLimit)); err != nil || n != len(atLimit) {
		t.Fatalf("DecodeReply at limit = %d, %v", n, err)
	}
	over := "*1\r\n" + atLimit
	if _, _, err := DecodeReply([]byte(over)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("DecodeReply over limit err = %v", err)
	}
}

func TestFrameReplyNoAllocs(t *testing.T) {
	b := []byte("*3\r\n$1\r\na\r\n$-1\r\n%1\r\n+k\r\n:1\r\n")
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := FrameReply(b); err != nil || n != len(b) {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("FrameReply allocates %v", allocs)
	}
}

func TestAggregateHeader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    int64
		wantLen int
		wantErr error
	}{
		{name: "array", input: "*3\r\n", want: 3, wantLen: 4},
		{name: "null array", input: "*-1\r\n", want: -1, wantLen: 5},
		{name: "map counts values", input: "%2\r\n", want: 4, wantLen: 4},
		{name: "set", input: "~10\r\n", want: 10, wantLen: 5},
		{name: "incomplete", input: "*3\r", want: 0, wantLen: 0},
		{name: "empty", input: "", want: 0, wantLen: 0},
		{name: "not aggregate", input: "$3\r\n", wantErr: ErrBadReply},
		{name: "null set", input: "~-1\r\n", wantErr: ErrBadReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, hl, err := AggregateHeader([]byte(tt.input))
			if !errors.Is(err, tt.wantErr) || n != tt.want || hl != tt.wantLen {
				t.Fatalf("got %d %d %v, want %d %d %v", n, hl, err, tt.want, tt.wantLen, tt.wantErr)
			}
		})
	}
}

// TestMergeWithoutDecoding merges two MGET replies element by element.
func TestMergeWithoutDecoding(t *testing.T) {
	parts := []string{"*2\r\n$1\r\nx\r\n$-1\r\n", "*1\r\n$2\r\nyz\r\n"}
	var body []byte
	total := 0
	for _, p := range parts {
		b := []byte(p)
		n, off, err := AggregateHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			m, err := FrameReply(b[off:])
			if err != nil || m == 0 {
				t.Fatal(m, err)
			}
			body = append(body, b[off:off+m]...)
			off += m
		}
		total += int(n)
	}
	got := append(AppendArrayHeader(nil, total), body...)
	if want := "*3\r\n$1\r\nx\r\n$-1\r\n$2\r\nyz\r\n"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
