package redis

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// bigSet is a SET whose value is n bytes, with a trailing option.
func bigSet(key string, n int) []byte {
	var b []byte
	b = AppendArrayHeader(b, 5)
	b = AppendBulkString(b, "SET")
	b = AppendBulkString(b, key)
	b = AppendBulk(b, bytes.Repeat([]byte{'v'}, n))
	b = AppendBulkString(b, "PX")
	return AppendBulkString(b, "60000")
}

// streamOne reads commands from src; a command needing more than max bytes
// is streamed and returned as head args + the whole raw bytes.
func streamOne(t *testing.T, rd *Reader, max int) (args []string, raw []byte, streamed bool, err error) {
	t.Helper()
	for {
		cmd, ok, err := rd.Next()
		if err != nil {
			return nil, nil, false, err
		}
		if ok {
			for _, a := range cmd.Args {
				args = append(args, string(a))
			}
			return args, append([]byte(nil), cmd.Raw...), false, nil
		}
		if h, large := rd.Large(max); large {
			for _, a := range h.Args {
				args = append(args, string(a))
			}
			raw = append(raw, h.Raw...)
			rd.StartBody()
			for {
				c, end, err := rd.BodyChunk()
				if err != nil {
					return args, raw, true, err
				}
				if len(c) > rd.BufferSize() {
					t.Fatalf("chunk of %d bytes from a %d-byte buffer", len(c), rd.BufferSize())
				}
				raw = append(raw, c...)
				if end {
					return args, raw, true, nil
				}
			}
		}
		if err := rd.Fill(); err != nil {
			return nil, nil, false, err
		}
	}
}

func TestStreamLargeCommand(t *testing.T) {
	const max = 64 << 10
	big := bigSet("k", 1<<20)
	after := AppendCommandString(nil, "GET", "k")
	input := append(append(append([]byte(nil), big...), bigSet("j", 10)...), after...)
	for _, src := range []struct {
		name string
		r    func() io.Reader
	}{
		{"whole", func() io.Reader { return bytes.NewReader(input) }},
		{"half", func() io.Reader { return iotest.HalfReader(bytes.NewReader(input)) }},
		{"bytes", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(input)) }},
	} {
		t.Run(src.name, func(t *testing.T) {
			rd := NewReader(src.r(), Limits{})
			args, raw, streamed, err := streamOne(t, rd, max)
			if err != nil || !streamed {
				t.Fatalf("first command: streamed %v, err %v", streamed, err)
			}
			if strings.Join(args, " ") != "SET k" || !bytes.Equal(raw, big) {
				t.Fatalf("head args %q, raw %d bytes equal %v", args, len(raw), bytes.Equal(raw, big))
			}
			if rd.BufferSize() > 4*max {
				t.Errorf("buffer grew to %d while streaming", rd.BufferSize())
			}
			args, _, streamed, err = streamOne(t, rd, max)
			if err != nil || streamed || strings.Join(args, " ") != "SET j vvvvvvvvvv PX 60000" {
				t.Fatalf("second command %q streamed %v err %v", args, streamed, err)
			}
			args, _, _, err = streamOne(t, rd, max)
			if err != nil || strings.Join(args, " ") != "GET k" {
				t.Fatalf("third command %q err %v", args, err)
			}
		})
	}
}

func TestStreamBoundaries(t *testing.T) {
	const max = 1000
	// A command of exactly max bytes is held; one byte more streams (when
	// it arrives in pieces: a command read whole in one Fill is complete
	// before Large is asked).
	n := 1
	for len(bigSet("k", n)) < max {
		n++
	}
	for _, tc := range []struct {
		size     int
		streamed bool
	}{{n, false}, {n + 1, true}} {
		b := bigSet("k", tc.size)
		rd := NewReader(iotest.OneByteReader(bytes.NewReader(b)), Limits{})
		_, raw, streamed, err := streamOne(t, rd, max)
		if err != nil || streamed != tc.streamed || !bytes.Equal(raw, b) {
			t.Errorf("value of %d bytes (command %d bytes, limit %d): streamed %v err %v", tc.size, len(b), max, streamed, err)
		}
	}
}

func TestStreamErrors(t *testing.T) {
	big := bigSet("k", 100<<10)
	tests := []struct {
		name    string
		input   []byte
		lim     Limits
		wantErr error
	}{
		{"eof in value", big[:50<<10], Limits{}, io.ErrUnexpectedEOF},
		{"eof before later arg", big[:len(big)-10], Limits{}, io.ErrUnexpectedEOF},
		{"bad later header", append(append([]byte(nil), big[:len(big)-len("$5\r\n60000\r\n")]...), "x5\r\n60000\r\n"...), Limits{}, expectedDollar('x')},
		{"later bulk past MaxQueryLen", big, Limits{MaxQueryLen: int64(len(big)) - 15}, ErrQueryBufferLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd := NewReader(bytes.NewReader(tc.input), tc.lim)
			_, _, streamed, err := streamOne(t, rd, 16<<10)
			if !streamed {
				t.Fatalf("not streamed (err %v)", err)
			}
			if err == nil || err.Error() != tc.wantErr.Error() {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			var pe *ProtocolError
			if errors.As(err, &pe) {
				if _, _, err2 := rd.Next(); err2 == nil {
					t.Fatal("protocol error not sticky")
				}
			}
		})
	}
}

// FuzzStream checks that streaming commands larger than a small limit
// yields, byte for byte, the commands the plain reader returns, and fails
// where it fails.
func FuzzStream(f *testing.F) {
	f.Add(bigSet("k", 300))
	f.Add(append(bigSet("k", 100), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"...))
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200\r\nshort"))
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$70\r\n" + strings.Repeat("x", 70) + "\r\nPING\r\n"))
	lim := Limits{MaxBulkLen: 1 << 12, MaxMultibulkLen: 64, MaxInlineLen: 128, MaxQueryLen: 1 << 13}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want []byte
		plain := NewReader(bytes.NewReader(data), lim)
		var wantErr error
		for {
			cmd, err := plain.ReadCommand()
			if err != nil {
				if err != io.EOF {
					wantErr = err
				}
				break
			}
			want = append(want, cmd.Raw...)
		}
		var got []byte
		rd := NewReader(iotest.OneByteReader(bytes.NewReader(data)), lim)
		var gotErr error
		for gotErr == nil {
			_, raw, _, err := streamOne(t, rd, 64)
			switch {
			case err == io.EOF && rd.Buffered() > 0:
				gotErr = io.ErrUnexpectedEOF
			case err == io.EOF:
				gotErr = io.EOF
			case err != nil:
				gotErr = err
			default:
				got = append(got, raw...)
			}
		}
		if gotErr == io.EOF {
			gotErr = nil
		}
		if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("streamed %q (err %v), plain %q (err %v)", got, gotErr, want, wantErr)
		}
	})
}
