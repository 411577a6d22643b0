package redis

import (
	"io"
	"strings"
	"testing"
)

func TestEncoders(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{name: "simple", input: AppendSimpleString(nil, "PONG"), want: "+PONG\r\n"},
		{name: "ok", input: AppendOK([]byte("x")), want: "x+OK\r\n"},
		{name: "error", input: AppendError(nil, "WRONGTYPE bad\r\ninjected"), want: "-WRONGTYPE bad  injected\r\n"},
		{name: "err", input: AppendErr(nil, "Protocol error: invalid bulk length"), want: "-ERR Protocol error: invalid bulk length\r\n"},
		{name: "arity", input: AppendWrongArity(nil, "get"), want: "-ERR wrong number of arguments for 'get' command\r\n"},
		{name: "int", input: AppendInt(nil, -12), want: ":-12\r\n"},
		{name: "bulk", input: AppendBulk(nil, []byte("a\r\nb")), want: "$4\r\na\r\nb\r\n"},
		{name: "empty bulk", input: AppendBulkString(nil, ""), want: "$0\r\n\r\n"},
		{name: "null bulk", input: AppendNullBulk(nil), want: "$-1\r\n"},
		{name: "null array", input: AppendNullArray(nil), want: "*-1\r\n"},
		{name: "array header", input: AppendArrayHeader(nil, 3), want: "*3\r\n"},
		{name: "command", input: AppendCommandString(nil, "GET", "k"), want: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"},
		{name: "command bytes", input: AppendCommand(nil, []byte("PING")), want: "*1\r\n$4\r\nPING\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.input) != tt.want {
				t.Fatalf("got %q, want %q", tt.input, tt.want)
			}
		})
	}
}

// TestEncodeRoundTrip encodes commands and replies and parses them back.
func TestEncodeRoundTrip(t *testing.T) {
	args := []string{"SET", "k\x00", strings.Repeat("v", 1000), ""}
	r := NewReader(strings.NewReader(string(AppendCommandString(nil, args...))), Limits{})
	cmd, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		if string(cmd.Args[i]) != a {
			t.Fatalf("arg %d = %q", i, cmd.Args[i])
		}
	}
	if _, err := r.ReadCommand(); err != io.EOF {
		t.Fatal(err)
	}
	reply := AppendArrayHeader(nil, 3)
	reply = AppendBulkString(reply, "x")
	reply = AppendNullBulk(reply)
	reply = AppendInt(reply, 7)
	v, n, err := DecodeReply(reply)
	if err != nil || n != len(reply) || len(v.Elems) != 3 || v.Elems[2].Int != 7 || !v.Elems[1].Null {
		t.Fatalf("v = %+v, n = %d, err = %v", v, n, err)
	}
}
