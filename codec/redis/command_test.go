package redis

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // "" for unknown
	}{
		{name: "upper", input: "GET", want: "GET"},
		{name: "lower", input: "get", want: "GET"},
		{name: "mixed", input: "zRangeByScore", want: "ZRANGEBYSCORE"},
		{name: "underscore", input: "georadiusbymember_ro", want: "GEORADIUSBYMEMBER_RO"},
		{name: "unknown", input: "NOPE"},
		{name: "empty", input: ""},
		{name: "too long", input: strings.Repeat("a", maxNameLen+1)},
		{name: "non-ascii fold is not applied", input: "GEt\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ci := Lookup([]byte(tt.input))
			got := ""
			if ci != nil {
				got = ci.Name
			}
			if got != tt.want {
				t.Fatalf("Lookup(%q) = %q, want %q", tt.input, got, tt.want)
			}
		})
	}
}

func TestCommandName(t *testing.T) {
	known := Command{Args: [][]byte{[]byte("hgetall"), []byte("k")}}
	if allocs := testing.AllocsPerRun(100, func() { _ = known.Name() }); allocs != 0 {
		t.Fatalf("Name allocates %v for a known command", allocs)
	}
	if known.Name() != "HGETALL" {
		t.Fatal(known.Name())
	}
	if got := (Command{Args: [][]byte{[]byte("myModCmd")}}).Name(); got != "MYMODCMD" {
		t.Fatal(got)
	}
	if got := (Command{}).Name(); got != "" || (Command{}).Info() != nil {
		t.Fatal(got)
	}
}

// TestCommandTable checks table invariants every entry must satisfy.
func TestCommandTable(t *testing.T) {
	for _, ci := range commandTable {
		if ci.Name != strings.ToUpper(ci.Name) || ci.Arity == 0 {
			t.Errorf("%s: bad name or arity", ci.Name)
		}
		if ci.FirstKey > 0 && (ci.Step <= 0 || (ci.LastKey > 0 && ci.LastKey < ci.FirstKey)) {
			t.Errorf("%s: bad key range", ci.Name)
		}
		if ci.Keys == KeysNumkeys && (ci.Numkeys <= ci.FirstKey || !ci.Flags.Has(FlagMultiKey)) {
			t.Errorf("%s: bad numkeys spec", ci.Name)
		}
		if ci.Flags.Has(FlagWrite|FlagReadOnly) && !ci.Flags.Has(FlagAdmin) {
			t.Errorf("%s: both write and readonly", ci.Name)
		}
	}
	for _, name := range []string{"GET", "SET", "HSET", "LPUSH", "SADD", "ZADD", "XADD", "GEOADD", "PFADD",
		"SETBIT", "EVAL", "EVALSHA", "FCALL", "SUBSCRIBE", "MULTI", "PING", "AUTH", "FLUSHALL", "CONFIG", "KEYS"} {
		if Lookup([]byte(name)) == nil {
			t.Errorf("%s missing from the table", name)
		}
	}
}

func TestAppendKeyIndexes(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []int
		wantErr error
	}{
		{name: "get", input: "GET k", want: []int{1}},
		{name: "get arity", input: "GET", wantErr: ErrWrongArity},
		{name: "get extra", input: "GET a b", wantErr: ErrWrongArity},
		{name: "set options", input: "SET k v EX 10", want: []int{1}},
		{name: "mget", input: "MGET a b c", want: []int{1, 2, 3}},
		{name: "mset", input: "MSET a 1 b 2", want: []int{1, 3}},
		{name: "del", input: "DEL a b", want: []int{1, 2}},
		{name: "blpop", input: "BLPOP a b 0", want: []int{1, 2}},
		{name: "rename", input: "RENAME a b", want: []int{1, 2}},
		{name: "bitop", input: "BITOP AND dst a b", want: []int{2, 3, 4}},
		{name: "object", input: "OBJECT ENCODING k", want: []int{2}},
		{name: "eval", input: "EVAL s 2 a b arg", want: []int{3, 4}},
		{name: "eval no keys", input: "EVAL s 0", want: nil},
		{name: "eval numkeys too big", input: "EVAL s 3 a b", wantErr: ErrBadNumkeys},
		{name: "eval numkeys negative", input: "EVAL s -1", wantErr: ErrBadNumkeys},
		{name: "eval numkeys not a number", input: "EVAL s x", wantErr: ErrBadNumkeys},
		{name: "fcall_ro", input: "fcall_ro f 1 k", want: []int{3}},
		{name: "zunionstore", input: "ZUNIONSTORE d 2 a b WEIGHTS 1 2", want: []int{1, 3, 4}},
		{name: "zinter", input: "ZINTER 2 a b", want: []int{2, 3}},
		{name: "blmpop", input: "BLMPOP 0 2 a b LEFT", want: []int{3, 4}},
		{name: "xread", input: "XREAD COUNT 2 STREAMS a b 0 0", want: []int{4, 5}},
		{name: "xreadgroup", input: "XREADGROUP GROUP g c streams a >", want: []int{5}},
		{name: "xread unbalanced", input: "XREAD STREAMS a b 0", wantErr: ErrWrongArity},
		{name: "xread no streams", input: "XREAD COUNT 1 BLOCK 0", wantErr: ErrWrongArity},
		{name: "ping", input: "PING", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args [][]byte
			for _, f := range strings.Fields(tt.input) {
				args = append(args, []byte(f))
			}
			ci := Lookup(args[0])
			if ci == nil {
				t.Fatalf("%s not in table", args[0])
			}
			got, err := ci.AppendKeyIndexes(nil, args)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
