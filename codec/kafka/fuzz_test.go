package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// fuzzLimits keep fuzz runs small; the framers must respect them whatever
// the input claims.
var fuzzLimits = Limits{MaxFrameSize: 1 << 20, MaxHeaderSize: 256, MaxCaptureSize: 4096, MaxInFlight: 16}

// trace is a framer run rendered as text, to compare runs.
type trace struct {
	bytes.Buffer
	lim Limits
	t   *testing.T
}

func (tr *trace) RequestHeader(f *RequestFrame) bool { return f.Header.CorrelationID%2 == 0 }

func (tr *trace) Request(f *RequestFrame, body []byte) {
	if body != nil && (len(body) != int(f.Size) || len(body) > int(tr.lim.MaxCaptureSize)) {
		tr.t.Fatalf("captured %d bytes of a %d-byte frame (max %d)", len(body), f.Size, tr.lim.MaxCaptureSize)
	}
	if f.HeaderLen > int(f.Size) {
		tr.t.Fatalf("header length %d beyond frame size %d", f.HeaderLen, f.Size)
	}
	fmt.Fprintf(&tr.Buffer, "req@%d size=%d key=%d v=%d id=%d client=%q acks=%d hl=%d body=%d err=%v\n",
		f.Offset, f.Size, f.Header.APIKey, f.Header.APIVersion, f.Header.CorrelationID, f.Header.ClientID,
		f.Acks, f.HeaderLen, len(body), f.Err)
}

func (tr *trace) ResponseHeader(f *ResponseFrame) bool { return true }

func (tr *trace) Response(f *ResponseFrame, body []byte) {
	if body != nil && (len(body) != int(f.Size) || len(body) > int(tr.lim.MaxCaptureSize)) {
		tr.t.Fatalf("captured %d bytes of a %d-byte frame", len(body), f.Size)
	}
	fmt.Fprintf(&tr.Buffer, "resp@%d size=%d id=%d key=%d hl=%d body=%d err=%v\n",
		f.Offset, f.Size, f.CorrelationID, f.APIKey, f.HeaderLen, len(body), f.Err)
	if body != nil && RewritesAddresses(f.APIKey) {
		if out, err := RewriteResponse(f.APIKey, f.APIVersion, body[f.HeaderLen:], relayAddr); err == nil {
			fmt.Fprintf(&tr.Buffer, "rewritten %d bytes\n", len(out))
		}
	}
}

// chunked feeds data to w in chunks whose sizes cycle through sizes.
func chunked(w interface{ Write([]byte) (int, error) }, data []byte, sizes []byte) error {
	for i := 0; len(data) > 0; i++ {
		n := 1
		if len(sizes) > 0 {
			n = int(sizes[i%len(sizes)]) + 1
		}
		n = min(n, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// FuzzRequestFramer checks that the request framer never panics, respects
// its limits, and frames a stream the same way whatever its chunking.
func FuzzRequestFramer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 10, 0, 3, 0, 4, 0, 0, 0, 9, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		DecodeRequestHeader(data)
		whole := &trace{lim: fuzzLimits, t: t}
		errWhole := chunked(NewRequestFramer(fuzzLimits, whole), data, []byte{255, 255, 255, 255})
		split := &trace{lim: fuzzLimits, t: t}
		sizes := data[:min(len(data), 3)]
		fr := NewRequestFramer(fuzzLimits, split)
		errSplit := chunked(fr, data, sizes)
		if len(fr.prefix) > fuzzLimits.MaxHeaderSize || cap(fr.buf) > 2*int(fuzzLimits.MaxCaptureSize) {
			t.Fatalf("framer holds %d header bytes, %d capture bytes", len(fr.prefix), cap(fr.buf))
		}
		if whole.String() != split.String() || (errWhole == nil) != (errSplit == nil) {
			t.Fatalf("chunking changed the result:\n%s%v\n--- vs ---\n%s%v", whole.String(), errWhole, split.String(), errSplit)
		}
		if errWhole != nil && !errors.Is(errWhole, ErrInvalidSize) {
			t.Fatalf("unexpected stream error %v", errWhole)
		}
	})
}

// FuzzResponseFramer frames a response stream whose first frame answers a
// request of key at version, capturing every frame and rewriting the ones
// that carry broker addresses.
func FuzzResponseFramer(f *testing.F) {
	f.Add(int16(3), int16(12), AppendResponseFrame(nil, 3, 12, 0, []byte{0, 0, 0, 0, 1, 1, 0, 1, 0}))
	f.Fuzz(func(t *testing.T, key, version int16, data []byte) {
		run := func(sizes []byte) (string, error) {
			tr := &trace{lim: fuzzLimits, t: t}
			fr := NewResponseFramer(fuzzLimits, tr)
			if len(data) >= 8 {
				if err := fr.Expect(int32(binary.BigEndian.Uint32(data[4:])), key, version, 0); err != nil {
					t.Fatal(err)
				}
			}
			err := chunked(fr, data, sizes)
			return tr.String(), err
		}
		a, errA := run([]byte{255, 255, 255, 255})
		b, errB := run(data[:min(len(data), 3)])
		if a != b || (errA == nil) != (errB == nil) {
			t.Fatalf("chunking changed the result:\n%s%v\n--- vs ---\n%s%v", a, errA, b, errB)
		}
	})
}

// FuzzRewrite checks that a rewrite never panics and that its output is
// canonical: an identity rewrite of it gives the same bytes back.
func FuzzRewrite(f *testing.F) {
	f.Add(int16(3), int16(12), []byte{0, 0, 0, 0, 1, 1, 0, 1, 0})
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		key = []int16{KeyMetadata, KeyFindCoordinator, KeyDescribeCluster}[uint16(key)%3]
		out, err := RewriteResponse(key, version, body, relayAddr)
		if err != nil {
			return
		}
		again, err := RewriteResponse(key, version, out, identityAddr)
		if err != nil {
			t.Fatalf("rewritten output does not decode: %v", err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("rewrite not stable:\n%x\n%x", out, again)
		}
	})
}

// FuzzErrorResponse checks that synthesizing an error response to any
// request bytes never panics and yields a well-framed response.
func FuzzErrorResponse(f *testing.F) {
	f.Add(int16(0), int16(9), []byte{})
	f.Fuzz(func(t *testing.T, key, version int16, req []byte) {
		frame, err := ErrorResponse(key, version, 5, req, ErrCodeClusterAuthorizationFailed)
		if err != nil {
			return
		}
		if int(binary.BigEndian.Uint32(frame)) != len(frame)-4 {
			t.Fatalf("frame size %d for %d bytes", binary.BigEndian.Uint32(frame), len(frame)-4)
		}
		if id, _, err := DecodeResponseHeader(frame[4:], ResponseHeaderVersion(key, version)); err != nil || id != 5 {
			t.Fatalf("header: id %d, err %v", id, err)
		}
	})
}
