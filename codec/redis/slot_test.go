package redis

import "testing"

func TestHashSlot(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  int
	}{
		// Values from the Redis documentation and CLUSTER KEYSLOT.
		{name: "somekey", input: "somekey", want: 11058},
		{name: "tag", input: "foo{hash_tag}", want: 2515},
		{name: "check value", input: "123456789", want: 0x31C3},
		{name: "empty", input: "", want: 0},
		{name: "same tag same slot", input: "{user1000}.followers", want: HashSlot([]byte("user1000"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashSlot([]byte(tt.input)); got != tt.want {
				t.Fatalf("HashSlot(%q) = %d, want %d", tt.input, got, tt.want)
			}
		})
	}
	if CRC16([]byte("123456789")) != 0x31C3 {
		t.Fatal("CRC16/XMODEM check value mismatch")
	}
}

func TestHashTag(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{name: "no braces", input: "foo", want: "foo"},
		{name: "tag", input: "{user1000}.following", want: "user1000"},
		{name: "empty tag hashes whole key", input: "foo{}{bar}", want: "foo{}{bar}"},
		{name: "first open brace", input: "foo{{bar}}zap", want: "{bar"},
		{name: "first tag only", input: "foo{bar}{zap}", want: "bar"},
		{name: "no close", input: "foo{bar", want: "foo{bar"},
		{name: "close before open", input: "}foo{bar}", want: "bar"},
		{name: "tag at end", input: "a{b}", want: "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(HashTag([]byte(tt.input))); got != tt.want {
				t.Fatalf("HashTag(%q) = %q, want %q", tt.input, got, tt.want)
			}
		})
	}
}
