package redis

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

type parsed struct {
	args [][]string
	err  error
}

// parseStream reads all commands of data through src.
func parseStream(src io.Reader, lim Limits) (parsed, *Reader) {
	r := NewReader(src, lim)
	var p parsed
	for {
		cmd, err := r.ReadCommand()
		if err != nil {
			if err != io.EOF {
				p.err = err
			}
			return p, r
		}
		a := make([]string, len(cmd.Args))
		for i := range cmd.Args {
			a[i] = string(cmd.Args[i])
		}
		p.args = append(p.args, a)
		again := NewReader(bytes.NewReader(cmd.Raw), lim)
		c2, err := again.ReadCommand()
		if err != nil || len(c2.Args) != len(a) {
			panic("Raw does not re-parse to the same command")
		}
		for i := range a {
			if string(c2.Args[i]) != a[i] {
				panic("Raw re-parses to different args")
			}
		}
	}
}

// FuzzReader checks the request reader never panics, gives the same result
// whatever the read sizes, returns Raw slices that re-parse identically, and
// never grows its buffer past what the input justifies.
func FuzzReader(f *testing.F) {
	lim := Limits{MaxBulkLen: 1 << 16, MaxMultibulkLen: 1 << 10, MaxInlineLen: 256}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The header fast path must agree with the general path.
		hr := NewReader(nil, lim)
		if v, cr, ok := hr.fastLen(data, 1); ok {
			nl, err := hr.line(data, 1, ErrTooBigBulkCount)
			if err != nil || nl != cr {
				t.Fatalf("fastLen cr %d, line %d %v", cr, nl, err)
			}
			if ll, ok := parseInt(data[1:nl]); !ok || ll != v {
				t.Fatalf("fastLen %d, parseInt %d %v", v, ll, ok)
			}
		}
		whole, r := parseStream(bytes.NewReader(data), lim)
		bytewise, _ := parseStream(iotest.OneByteReader(bytes.NewReader(data)), lim)
		if !equalArgs(whole.args, bytewise.args) || !sameErr(whole.err, bytewise.err) {
			t.Fatalf("whole read %q %v, byte-wise %q %v", whole.args, whole.err, bytewise.args, bytewise.err)
		}
		if len(r.buf) > max(defaultBufSize, 5*len(data)) {
			t.Fatalf("buffer %d bytes for %d bytes of input", len(r.buf), len(data))
		}
		var pe *ProtocolError
		if whole.err != nil && !errors.As(whole.err, &pe) && whole.err != io.ErrUnexpectedEOF {
			t.Fatalf("unexpected error type %T: %v", whole.err, whole.err)
		}
	})
}

// FuzzReply checks that FrameReply, ReplyScanner fed byte by byte and
// DecodeReply agree, and that none panics.
func FuzzReply(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 0 {
			l1, n1, e1 := header(data)
			l2, n2, e2 := headerSlow(data)
			if l1 != l2 || n1 != n2 || e1 != e2 {
				t.Fatalf("header fast path %d %d %v, slow %d %d %v", l1, n1, e1, l2, n2, e2)
			}
		}
		fn, ferr := FrameReply(data)
		sn, serr := scanBytewise(data)
		if fn != sn || (ferr == nil) != (serr == nil) {
			t.Fatalf("FrameReply %d %v, byte-wise scan %d %v", fn, ferr, sn, serr)
		}
		v, dn, derr := DecodeReply(data)
		switch {
		case derr == nil:
			if ferr != nil || fn != dn || !bytes.Equal(v.Raw, data[:dn]) {
				t.Fatalf("decoded %d bytes, framed %d %v", dn, fn, ferr)
			}
		case ferr != nil:
			if errors.Is(derr, ErrIncomplete) {
				t.Fatalf("framer error %v, decoder incomplete", ferr)
			}
		case fn == 0:
			// Framer incomplete: the decoder is incomplete too, or stricter.
		default:
			if errors.Is(derr, ErrIncomplete) {
				t.Fatalf("framed %d bytes, decoder incomplete", fn)
			}
		}
	})
}
