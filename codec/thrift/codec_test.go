package thrift

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	athrift "github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

func TestDecodeEveryCombination(t *testing.T) {
	for _, c := range combos {
		t.Run(c.t.String()+"/"+c.p.String(), func(t *testing.T) {
			var hdr map[string]string
			if c.t == TransportHeader {
				hdr = map[string]string{"tenant": "blue"}
			}
			one := libWrite(t, c.t, c.p, "describe", athrift.CALL, 41, describeArgs(), hdr)
			two := libWrite(t, c.t, c.p, "Admin:whoami", athrift.ONEWAY, 42, &calc.AdminWhoamiArgs{}, hdr)
			tr, pr := TransportAuto, ProtocolAuto
			if c.p == ProtocolLaxBinary {
				pr = ProtocolLaxBinary // lax binary cannot be detected
				tr = c.t
			}
			d := NewDecoder(bufio.NewReader(bytes.NewReader(append(one, two...))), tr, pr, 1<<20)
			m, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != "describe" || m.Type != Call || m.SeqID != 41 || m.Transport != c.t || m.Size != len(one) {
				t.Fatalf("got %+v", m)
			}
			if !reflect.DeepEqual(m.Headers, hdr) {
				t.Fatalf("headers %v, want %v", m.Headers, hdr)
			}
			m2, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			if m2.Name != "Admin:whoami" || m2.Type != Oneway || m2.SeqID != 42 {
				t.Fatalf("second: %+v", m2)
			}
			if _, err := d.Next(); err != io.EOF {
				t.Fatalf("at end: %v, want EOF", err)
			}
			// Re-encode to every combination, renamed and renumbered, and
			// read it back with the library.
			for _, to := range combos {
				out, err := Encode(nil, m, Target{Transport: to.t, Protocol: to.p, Headers: map[string]string{"x": "y"}}, "Calc:describe", 9000)
				if err != nil {
					t.Fatalf("encode to %v/%v: %v", to.t, to.p, err)
				}
				var got calc.CalcDescribeArgs
				name, typ, seq, h := libRead(t, out, to.t, to.p, &got)
				if name != "Calc:describe" || typ != athrift.CALL || seq != 9000 {
					t.Fatalf("to %v/%v: %s %d %d", to.t, to.p, name, typ, seq)
				}
				if !reflect.DeepEqual(&got, describeArgs()) {
					t.Fatalf("to %v/%v: body %+v", to.t, to.p, got.It)
				}
				if to.t == TransportHeader && h["x"] != "y" {
					t.Fatalf("header lost: %v", h)
				}
			}
		})
	}
}

func TestReplyOutcome(t *testing.T) {
	ok := libWrite(t, TransportFramed, ProtocolCompact, "fail", athrift.REPLY, 1, &calc.CalcFailResult{Success: athrift.Int32Ptr(3)}, nil)
	declared := libWrite(t, TransportFramed, ProtocolBinary, "fail", athrift.REPLY, 2, &calc.CalcFailResult{Err: &calc.CalcError{Code: 7}}, nil)
	void := libWrite(t, TransportFramed, ProtocolBinary, "whoami", athrift.REPLY, 3, &calc.CalcWhoamiArgs{}, nil)
	m := &Message{Transport: TransportFramed, Protocol: ProtocolBinary, Name: "x", SeqID: 4}
	exc, err := AppException(nil, m, ExcInternalError, "boom")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want ReplyOutcome
	}{{"success", ok, ReplySuccess}, {"declared", declared, ReplyError}, {"void", void, ReplySuccess}, {"exception", exc, ReplyException}} {
		d := NewDecoder(bufio.NewReader(bytes.NewReader(tc.in)), TransportAuto, ProtocolAuto, 1<<20)
		m, err := d.Next()
		if err != nil {
			t.Fatal(tc.name, err)
		}
		if got := m.Outcome(); got != tc.want {
			t.Errorf("%s: outcome %d, want %d", tc.name, got, tc.want)
		}
	}
	// The library's client sees our exception as a TApplicationException.
	mem := &athrift.TMemoryBuffer{Buffer: bytes.NewBuffer(exc)}
	pr := athrift.NewTBinaryProtocolConf(athrift.NewTFramedTransportConf(mem, nil), nil)
	if _, typ, seq, err := pr.ReadMessageBegin(t.Context()); err != nil || typ != athrift.EXCEPTION || seq != 4 {
		t.Fatalf("%v %v %v", typ, seq, err)
	}
	e := athrift.NewTApplicationException(0, "")
	if err := e.Read(t.Context(), pr); err != nil || e.TypeId() != athrift.INTERNAL_ERROR || e.Error() != "boom" {
		t.Fatalf("%v %v", e, err)
	}
}

func TestBadInput(t *testing.T) {
	call := libWrite(t, TransportFramed, ProtocolBinary, "add", athrift.CALL, 1, &calc.CalcAddArgs{A: 1, B: 2}, nil)
	unframed := libWrite(t, TransportUnframed, ProtocolBinary, "echo", athrift.CALL, 1, &calc.CalcEchoArgs{S: string(make([]byte, 4000))}, nil)
	for _, tc := range []struct {
		name string
		in   []byte
		tr   Transport
		max  int
		want error
	}{
		{"truncated frame", call[:len(call)-3], TransportAuto, 1 << 20, io.ErrUnexpectedEOF},
		{"oversized frame", call, TransportFramed, 16, ErrTooLarge},
		{"oversized unframed", unframed, TransportAuto, 1024, ErrTooLarge},
		{"truncated unframed", unframed[:100], TransportAuto, 1 << 20, io.ErrUnexpectedEOF},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n"), TransportAuto, 1 << 20, ErrMalformed},
		{"negative frame", []byte{0xff, 0xff, 0xff, 0xff, 0x80, 1, 0, 1}, TransportFramed, 1 << 20, ErrMalformed},
		{"short", []byte{0, 0, 0}, TransportAuto, 1 << 20, io.ErrUnexpectedEOF},
	} {
		d := NewDecoder(bufio.NewReader(bytes.NewReader(tc.in)), tc.tr, ProtocolAuto, tc.max)
		if _, err := d.Next(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
