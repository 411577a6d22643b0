package redis

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll parses every command of src and returns their args as strings,
// checking that each Raw re-parses to the same args.
func readAll(t *testing.T, src io.Reader, lim Limits) ([][]string, error) {
	t.Helper()
	r := NewReader(src, lim)
	var out [][]string
	for {
		cmd, err := r.ReadCommand()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		args := make([]string, len(cmd.Args))
		for i, a := range cmd.Args {
			args[i] = string(a)
		}
		out = append(out, args)
		if len(cmd.Raw) == 0 || cmd.Raw[len(cmd.Raw)-1] != '\n' {
			t.Fatalf("Raw %q does not end a line", cmd.Raw)
		}
	}
}

func TestReader(t *testing.T) {
	small := Limits{MaxBulkLen: 5, MaxMultibulkLen: 2, MaxInlineLen: 10, MaxQueryLen: 40}
	tests := []struct {
		name    string
		input   string
		lim     Limits
		want    [][]string
		wantErr error
	}{
		{name: "get", input: "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", want: [][]string{{"GET", "foo"}}},
		{name: "pipeline", input: "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$0\r\n\r\n",
			want: [][]string{{"GET", "a"}, {"SET", "b", ""}}},
		{name: "binary bulk", input: "*1\r\n$4\r\n\r\n\x00\n\r\n", want: [][]string{{"\r\n\x00\n"}}},
		{name: "empty multibulk skipped", input: "*0\r\n*-1\r\n*-10\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}}},
		{name: "inline", input: "PING\r\nSET a b\nget  a \r\n", want: [][]string{{"PING"}, {"SET", "a", "b"}, {"get", "a"}}},
		{name: "inline blank lines", input: "\r\n\n  \t\r\nPING\n", want: [][]string{{"PING"}}},
		{name: "inline quotes", input: "SET \"a b\" 'c d' \"\\x41\\n\\t\\q\" 'it\\'s' \"\"\n",
			want: [][]string{{"SET", "a b", "c d", "A\n\tq", "it's", ""}}},
		{name: "inline mid-word quote", input: "SET a\"b c\"d\n", wantErr: ErrUnbalancedQuotes},
		{name: "inline mid-word quote ends arg", input: "SET a\"b c\" d\n", want: [][]string{{"SET", "ab c", "d"}}},
		{name: "inline bad hex kept", input: "ECHO \"\\xZZ\"\n", want: [][]string{{"ECHO", "xZZ"}}},
		{name: "inline NUL ends line", input: "GET a\x00b c\nPING\n", want: [][]string{{"GET", "a"}, {"PING"}}},
		{name: "inline vertical tab is part of arg", input: "GET a\vb\n", want: [][]string{{"GET", "a\vb"}}},
		{name: "unbalanced double", input: "SET \"abc\n", wantErr: ErrUnbalancedQuotes},
		{name: "unbalanced single", input: "SET 'abc\n", wantErr: ErrUnbalancedQuotes},
		{name: "quote not followed by space", input: "SET \"a\"b\n", wantErr: ErrUnbalancedQuotes},
		{name: "expected dollar", input: "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
			wantErr: &ProtocolError{"Protocol error: expected '$', got 'f'"}},
		{name: "multibulk not a number", input: "*x\r\n", wantErr: ErrInvalidMultibulkLength},
		{name: "multibulk leading zero", input: "*01\r\n", wantErr: ErrInvalidMultibulkLength},
		{name: "multibulk plus sign", input: "*+1\r\n", wantErr: ErrInvalidMultibulkLength},
		{name: "multibulk too long", input: "*1048577\r\n", wantErr: ErrInvalidMultibulkLength},
		{name: "multibulk at limit", input: "*1048576\r\n", wantErr: io.ErrUnexpectedEOF},
		{name: "bulk negative", input: "*1\r\n$-1\r\n", wantErr: ErrInvalidBulkLength},
		{name: "bulk not a number", input: "*1\r\n$1x\r\n", wantErr: ErrInvalidBulkLength},
		{name: "bulk too long", input: "*1\r\n$536870913\r\n", wantErr: ErrInvalidBulkLength},
		{name: "bulk at limit", input: "*1\r\n$536870912\r\nabc", wantErr: io.ErrUnexpectedEOF},
		{name: "truncated header", input: "*2\r\n$3\r", wantErr: io.ErrUnexpectedEOF},
		{name: "truncated inline", input: "PING", wantErr: io.ErrUnexpectedEOF},
		{name: "small bulk at limit", lim: small, input: "*1\r\n$5\r\nhello\r\n", want: [][]string{{"hello"}}},
		{name: "small bulk over limit", lim: small, input: "*1\r\n$6\r\nhello!\r\n", wantErr: ErrInvalidBulkLength},
		{name: "small multibulk at limit", lim: small, input: "*2\r\n$1\r\na\r\n$1\r\nb\r\n", want: [][]string{{"a", "b"}}},
		{name: "small multibulk over limit", lim: small, input: "*3\r\n", wantErr: ErrInvalidMultibulkLength},
		{name: "small inline at limit", lim: small, input: "0123456789\n", want: [][]string{{"0123456789"}}},
		{name: "small inline CR counts", lim: small, input: "0123456789\r\n", wantErr: ErrTooBigInline},
		{name: "small inline over limit", lim: small, input: "0123456789A\n", wantErr: ErrTooBigInline},
		{name: "small inline no newline at limit", lim: small, input: "0123456789", wantErr: io.ErrUnexpectedEOF},
		{name: "small inline no newline over limit", lim: small, input: "0123456789A", wantErr: ErrTooBigInline},
		{name: "small mbulk count string", lim: small, input: "*00000000000", wantErr: ErrTooBigMbulkCount},
		{name: "small bulk count string", lim: small, input: "*1\r\n$00000000000", wantErr: ErrTooBigBulkCount},
		{name: "small query at limit", lim: small, input: "*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n", want: [][]string{{"hello", "world"}}},
		{name: "small query over limit", lim: Limits{MaxQueryLen: 20}, input: "*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n", wantErr: ErrQueryBufferLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunked := range []bool{false, true} {
				var src io.Reader = strings.NewReader(tt.input)
				if chunked {
					src = iotest.OneByteReader(src)
				}
				got, err := readAll(t, src, tt.lim)
				if !sameErr(err, tt.wantErr) {
					t.Fatalf("chunked=%v: err = %v, want %v", chunked, err, tt.wantErr)
				}
				if tt.wantErr == nil && !equalArgs(got, tt.want) {
					t.Fatalf("chunked=%v: got %q, want %q", chunked, got, tt.want)
				}
			}
		})
	}
}

func sameErr(err, want error) bool {
	if err == nil || want == nil {
		return err == want
	}
	return errors.Is(err, want) || err.Error() == want.Error()
}

func equalArgs(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00|") != strings.Join(b[i], "\x00|") || len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}

func TestReaderStickyError(t *testing.T) {
	r := NewReader(strings.NewReader("*x\r\n*1\r\n$4\r\nPING\r\n"), Limits{})
	for range 2 {
		if _, err := r.ReadCommand(); !errors.Is(err, ErrInvalidMultibulkLength) {
			t.Fatalf("err = %v, want %v", err, ErrInvalidMultibulkLength)
		}
	}
	if got := AppendErr(nil, ErrInvalidMultibulkLength.Error()); string(got) != "-ERR Protocol error: invalid multibulk length\r\n" {
		t.Fatalf("reply = %q", got)
	}
}

// TestReaderRawValidUntilFill drains a pipeline with Next and checks every
// Raw is still intact before the next Fill.
func TestReaderRawValidUntilFill(t *testing.T) {
	in := "*1\r\n$4\r\nPING\r\nECHO \"a b\"\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
	r := NewReader(strings.NewReader(in), Limits{})
	if err := r.Fill(); err != nil {
		t.Fatal(err)
	}
	var raws []string
	var joined []byte
	for {
		cmd, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		raws = append(raws, string(cmd.Raw))
		joined = append(joined, cmd.Raw...)
	}
	if len(raws) != 3 || string(joined) != in || r.Buffered() != 0 {
		t.Fatalf("raws = %q, buffered %d", raws, r.Buffered())
	}
}

// TestReaderLargeBulk checks that a large value ends in a buffer of its own
// size (no doubling past it) and that a declared-but-unsent bulk does not
// grow the buffer.
func TestReaderLargeBulk(t *testing.T) {
	const size = 8<<20 + 123
	val := bytes.Repeat([]byte("v"), size)
	cmd := AppendCommand(nil, []byte("SET"), []byte("k"), val)
	r := NewReader(&chunkReader{data: cmd, chunk: 64 << 10}, Limits{})
	got, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Args[2], val) {
		t.Fatal("value mismatch")
	}
	if len(r.buf) != len(cmd) {
		t.Fatalf("buffer = %d bytes, want exactly the command's %d", len(r.buf), len(cmd))
	}
	if _, err := r.ReadCommand(); err != io.EOF {
		t.Fatalf("err = %v, want EOF", err)
	}

	r = NewReader(strings.NewReader("*2\r\n$3\r\nSET\r\n$536870912\r\nabc"), Limits{})
	if _, err := r.ReadCommand(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v", err)
	}
	if len(r.buf) != defaultBufSize {
		t.Fatalf("buffer grew to %d for an unsent bulk", len(r.buf))
	}
}

// TestReaderShrinks checks the buffer returns to its default size after a
// large command.
func TestReaderShrinks(t *testing.T) {
	in := AppendCommand(nil, []byte("SET"), []byte("k"), bytes.Repeat([]byte("x"), 1<<20))
	in = AppendCommandString(in, "GET", "k")
	r := NewReader(&chunkReader{data: in, chunk: 32 << 10}, Limits{})
	for range 2 {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.ReadCommand(); err != io.EOF {
		t.Fatal(err)
	}
	if len(r.buf) != defaultBufSize {
		t.Fatalf("buffer is %d bytes after draining, want %d", len(r.buf), defaultBufSize)
	}
}

func TestReaderNoAllocs(t *testing.T) {
	src := &loopReader{data: pipeline(16)}
	r := NewReader(src, Limits{})
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ReadCommand allocates %v per command", allocs)
	}
	inl := NewReader(&loopReader{data: []byte("SET \"a b\" 'c' d\r\n")}, Limits{})
	allocs = testing.AllocsPerRun(1000, func() {
		if _, err := inl.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("inline ReadCommand allocates %v per command", allocs)
	}
}

// chunkReader returns data in chunks of at most chunk bytes.
type chunkReader struct {
	data  []byte
	chunk int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// loopReader repeats data forever.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], l.data[l.off:])
		n += m
		l.off = (l.off + m) % len(l.data)
	}
	return n, nil
}

// pipeline returns n commands alternating SET and GET, as redis-benchmark -P n sends.
func pipeline(n int) []byte {
	var b []byte
	for i := range n {
		if i%2 == 0 {
			b = AppendCommandString(b, "SET", "key:000000000042", "xxx")
		} else {
			b = AppendCommandString(b, "GET", "key:000000000042")
		}
	}
	return b
}

// zeroReader returns 0, nil forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	if _, err := NewReader(zeroReader{}, Limits{}).ReadCommand(); err != io.ErrNoProgress {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}
