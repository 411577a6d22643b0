package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestWatcherPoll: a content is handed over once the same bytes were read at
// two polls in a row, never in the middle of a rewrite.
func TestWatcherPoll(t *testing.T) {
	type step struct {
		write  *string // new content before the poll; nil: unchanged
		remove bool    // remove the file before the poll
		want   string  // handed over content; "-" for none
	}
	s := func(v string) *string { return &v }
	const orig, full = "a: 1\nb: 2\n", "a: 1\nb: 3\n"
	tests := []struct {
		name  string
		steps []step
	}{
		{"unchanged", []step{{want: "-"}, {want: "-"}}},
		{"changed once", []step{{write: s(full), want: "-"}, {want: full}, {want: "-"}}},
		{"truncate then write", []step{{write: s(""), want: "-"}, {write: s("a: 1\n"), want: "-"}, {write: s(full), want: "-"}, {want: full}}},
		{"empty held", []step{{write: s(""), want: "-"}, {want: ""}}},
		{"changed back before settling", []step{{write: s(full), want: "-"}, {write: s(orig), want: "-"}, {want: "-"}}},
		{"unreadable is no change", []step{{remove: true, want: "-"}, {remove: true, want: "-"}, {write: s(orig), want: "-"}, {want: "-"}}},
		{"unreadable in between", []step{{write: s(full), want: "-"}, {remove: true, want: "-"}, {write: s(full), want: "-"}, {want: full}}},
		{"two changes", []step{{write: s(full), want: "-"}, {want: full}, {write: s(orig), want: "-"}, {want: orig}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "sluice.yaml")
			if err := os.WriteFile(file, []byte(orig), 0o644); err != nil {
				t.Fatal(err)
			}
			w := config.NewWatcher(file, []byte(orig))
			for i, st := range tc.steps {
				if st.remove {
					os.Remove(file)
				}
				if st.write != nil {
					// In place, as an editor that truncates and writes.
					if err := os.WriteFile(file, []byte(*st.write), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				b, ok := w.Poll()
				got := "-"
				if ok {
					got = string(b)
				}
				if got != st.want {
					t.Fatalf("poll %d: handed over %q, want %q", i, got, st.want)
				}
			}
		})
	}
}

// TestWatcherSetCurrent: a content a SIGHUP reload read already is not
// handed over again.
func TestWatcherSetCurrent(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	os.WriteFile(file, []byte("a: 1\n"), 0o644)
	w := config.NewWatcher(file, []byte("a: 1\n"))
	os.WriteFile(file, []byte("a: 2\n"), 0o644)
	if _, ok := w.Poll(); ok {
		t.Fatal("handed over at the first poll")
	}
	w.SetCurrent([]byte("a: 2\n"))
	for i := range 3 {
		if b, ok := w.Poll(); ok {
			t.Fatalf("poll %d handed over %q, the current content", i, b)
		}
	}
}

// TestWatcherSymlinkSwap: a Kubernetes ConfigMap volume swaps a "..data"
// symlink to a new directory; the watcher reads through it.
func TestWatcherSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"v1": "a: 1\n", "v2": "a: 2\n"} {
		os.Mkdir(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "sluice.yaml"), []byte(content), 0o644)
	}
	if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "sluice.yaml")
	os.Symlink("..data/sluice.yaml", file)
	w := config.NewWatcher(file, []byte("a: 1\n"))
	if _, ok := w.Poll(); ok {
		t.Fatal("handed over with no change")
	}
	os.Symlink("v2", filepath.Join(dir, "..data.tmp"))
	if err := os.Rename(filepath.Join(dir, "..data.tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	w.Poll()
	if b, ok := w.Poll(); !ok || string(b) != "a: 2\n" {
		t.Fatalf("after the swap: %q %v", b, ok)
	}
}
