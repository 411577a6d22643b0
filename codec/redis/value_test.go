package redis

import (
	"errors"
	"reflect"
	"testing"
)

func TestDecodeReply(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    Value // Raw fields are checked separately
		wantErr error
	}{
		{name: "simple", input: "+OK\r\n", want: Value{Type: '+', Str: []byte("OK")}},
		{name: "error", input: "-MOVED 1 h:2\r\n", want: Value{Type: '-', Str: []byte("MOVED 1 h:2")}},
		{name: "integer", input: ":-42\r\n", want: Value{Type: ':', Int: -42, Str: []byte("-42")}},
		{name: "bulk", input: "$3\r\na\r\n\r\n", want: Value{Type: '$', Str: []byte("a\r\n")}},
		{name: "null bulk", input: "$-1\r\n", want: Value{Type: '$', Null: true}},
		{name: "null", input: "_\r\n", want: Value{Type: '_', Null: true}},
		{name: "bool", input: "#t\r\n", want: Value{Type: '#', Int: 1, Str: []byte("t")}},
		{name: "array", input: "*2\r\n:1\r\n$-1\r\n",
			want: Value{Type: '*', Elems: []Value{{Type: ':', Int: 1, Str: []byte("1")}, {Type: '$', Null: true}}}},
		{name: "map", input: "%1\r\n+k\r\n:2\r\n",
			want: Value{Type: '%', Elems: []Value{{Type: '+', Str: []byte("k")}, {Type: ':', Int: 2, Str: []byte("2")}}}},
		{name: "attribute dropped", input: "|1\r\n+a\r\n+b\r\n:3\r\n", want: Value{Type: ':', Int: 3, Str: []byte("3")}},
		{name: "bad integer", input: ":1x\r\n", wantErr: ErrBadReply},
		{name: "bad bool", input: "#x\r\n", wantErr: ErrBadReply},
		{name: "bad null", input: "_x\r\n", wantErr: ErrBadReply},
		{name: "incomplete", input: "*2\r\n:1\r\n", wantErr: ErrIncomplete},
		{name: "incomplete bulk", input: "$3\r\nab", wantErr: ErrIncomplete},
		{name: "bad bulk end", input: "$1\r\nabc", wantErr: ErrBadReply},
		{name: "empty", input: "", wantErr: ErrIncomplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := DecodeReply([]byte(tt.input))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if n != len(tt.input) || string(got.Raw) != tt.input {
				t.Fatalf("n = %d, Raw = %q; want all of %q", n, got.Raw, tt.input)
			}
			if !reflect.DeepEqual(stripRaw(got), stripRaw(tt.want)) {
				t.Fatalf("got %+v, want %+v", stripRaw(got), stripRaw(tt.want))
			}
			if fn, _ := FrameReply([]byte(tt.input)); fn != n {
				t.Fatalf("FrameReply = %d, DecodeReply = %d", fn, n)
			}
		})
	}
}

// stripRaw clears Raw and normalises empty slices for comparison.
func stripRaw(v Value) Value {
	v.Raw = nil
	if len(v.Str) == 0 {
		v.Str = nil
	}
	if len(v.Elems) == 0 {
		v.Elems = nil
	}
	for i := range v.Elems {
		v.Elems[i] = stripRaw(v.Elems[i])
	}
	return v
}

// TestDecodeHugeCountBounded checks a huge declared count costs memory in
// proportion to the bytes present, not to the count.
func TestDecodeHugeCountBounded(t *testing.T) {
	b := []byte("*1000000000\r\n:1\r\n")
	var err error
	allocs := testing.AllocsPerRun(10, func() { _, _, err = DecodeReply(b) })
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("err = %v", err)
	}
	if allocs > 1 {
		t.Fatalf("allocs = %v", allocs)
	}
	v, _, err := decode([]byte("*1000000000\r\n:1\r\n:2\r\n:3\r\n"), 0)
	if !errors.Is(err, ErrIncomplete) || v.Elems != nil {
		t.Fatalf("v = %+v, err = %v", v, err)
	}
}

func TestMergeMGETRaw(t *testing.T) {
	a, _, _ := DecodeReply([]byte("*2\r\n$1\r\nx\r\n$-1\r\n"))
	b, _, _ := DecodeReply([]byte("*1\r\n$2\r\nyz\r\n"))
	out := AppendArrayHeader(nil, len(a.Elems)+len(b.Elems))
	for _, e := range append(a.Elems, b.Elems...) {
		out = append(out, e.Raw...)
	}
	if want := "*3\r\n$1\r\nx\r\n$-1\r\n$2\r\nyz\r\n"; string(out) != want {
		t.Fatalf("merged = %q, want %q", out, want)
	}
}
