package testenv

import (
	"strings"
	"testing"
)

const nodes3x1 = `07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,hostname4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002,hostname2 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003,hostname3 master - 0 1426238318243 3 connected 10923-16383
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005,hostname5 slave 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected
824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30006@31006,hostname6 slave 292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 0 1426238317741 6 connected
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001,hostname1 myself,master - 0 0 1 connected 0-5460 [5460->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
`

func TestParseClusterNodes(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantNodes int
		wantOwner map[int]string // slot -> owner ID prefix; "" means nobody
		wantErr   string
	}{
		{
			name: "3 masters 3 replicas, one migrating", input: nodes3x1, wantNodes: 6,
			wantOwner: map[int]string{0: "e7d1", 5460: "e7d1", 5461: "67ed", 10922: "67ed", 10923: "292f", 16383: "292f"},
		},
		{
			name:      "single slots and gaps",
			input:     "a 127.0.0.1:1@2 myself,master - 0 0 1 connected 7 9-10\n",
			wantNodes: 1, wantOwner: map[int]string{7: "a", 8: "", 9: "a", 10: "a", 11: ""},
		},
		{name: "short line", input: "a 127.0.0.1:1@2 master - 0 0 1\n", wantErr: "want at least 8"},
		{name: "slot out of range", input: "a h:1@2 master - 0 0 1 connected 0-16384\n", wantErr: "out of [0, 16384)"},
		{name: "reversed range", input: "a h:1@2 master - 0 0 1 connected 9-3\n", wantErr: "out of"},
		{name: "not a number", input: "a h:1@2 master - 0 0 1 connected x\n", wantErr: "slot range \"x\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseClusterNodes(tt.input)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(v) != tt.wantNodes {
				t.Fatalf("%d nodes, want %d", len(v), tt.wantNodes)
			}
			for slot, want := range tt.wantOwner {
				got := ""
				for _, e := range v {
					if e.serves(slot) {
						got = e.id
					}
				}
				if !strings.HasPrefix(got, want) || (want == "" && got != "") {
					t.Errorf("owner of slot %d = %q, want prefix %q", slot, got, want)
				}
			}
		})
	}
}

func TestClusterSignature(t *testing.T) {
	a, err := parseClusterNodes(nodes3x1)
	if err != nil {
		t.Fatal(err)
	}
	// Another node's view: same topology, other flags, order and link state.
	other := strings.ReplaceAll(nodes3x1, "myself,master", "master")
	other = strings.ReplaceAll(other, "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002,hostname2 master",
		"67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002,hostname2 myself,master")
	lines := strings.Split(strings.TrimSpace(other), "\n")
	lines[0], lines[5] = lines[5], lines[0]
	b, err := parseClusterNodes(strings.Join(lines, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.signature() != b.signature() {
		t.Fatalf("signatures differ:\n%s\n--\n%s", a.signature(), b.signature())
	}
	moved := strings.Replace(nodes3x1, "connected 0-5460", "connected 0-5459", 1)
	c, _ := parseClusterNodes(moved)
	if c.signature() == a.signature() {
		t.Fatal("signature ignores a slot owner change")
	}
}

func FuzzParseClusterNodes(f *testing.F) {
	f.Add(nodes3x1)
	f.Add("a 127.0.0.1:1@2 myself,master - 0 0 1 connected 7 9-10\n")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseClusterNodes(s)
		if err != nil {
			return
		}
		for _, e := range v {
			for _, r := range e.ranges {
				lo, hi, err := slotRange(r)
				if err != nil || !e.serves(lo) || !e.serves(hi) {
					t.Fatalf("range %q accepted but not served (%v)", r, err)
				}
			}
		}
		_ = v.signature()
	})
}

func BenchmarkParseClusterNodes(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(nodes3x1)))
	for b.Loop() {
		if _, err := parseClusterNodes(nodes3x1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGroupAlive(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		groupAlive(1 << 30) // no such group: the full /proc scan a poll does
	}
}
