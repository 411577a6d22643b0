package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"time"
)

// Watch calls onChange whenever the content of file changes, checking every
// interval until ctx ends. It polls the content rather than using inotify so
// that it follows editors that replace files and Kubernetes ConfigMap symlink
// swaps alike; a file that cannot be read is not a change.
func Watch(ctx context.Context, file string, interval time.Duration, onChange func()) {
	sum := func() []byte {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil
		}
		h := sha256.Sum256(b)
		return h[:]
	}
	last := sum()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cur := sum()
			if cur != nil && !bytes.Equal(cur, last) {
				last = cur
				onChange()
			}
		}
	}
}
