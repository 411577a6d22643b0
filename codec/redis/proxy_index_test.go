package redis

import "testing"

func TestCommandIndex(t *testing.T) {
	seen := make(map[int]bool, CommandCount())
	for i := range commandTable {
		ci := Lookup([]byte(commandTable[i].Name))
		idx := ci.Index()
		if idx != i {
			t.Fatalf("%s: Index() = %d, want %d", ci.Name, idx, i)
		}
		seen[idx] = true
	}
	if len(seen) != CommandCount() {
		t.Fatalf("indexes not dense: %d of %d", len(seen), CommandCount())
	}
	other := CommandInfo{Name: "GET"}
	if got := other.Index(); got != -1 {
		t.Fatalf("foreign entry: Index() = %d, want -1", got)
	}
	var nilInfo *CommandInfo
	if got := nilInfo.Index(); got != -1 {
		t.Fatalf("nil: Index() = %d, want -1", got)
	}
}
