package config

import (
	"crypto/sha256"
	"os"
)

// Watcher polls a config file's content. It polls rather than using inotify
// so that it follows editors that replace files and Kubernetes ConfigMap
// symlink swaps alike.
//
// A new content is handed over only once it has stopped changing: the same
// bytes read at two consecutive polls. A file rewritten in place (truncated,
// then written) is empty or half-written for a moment; a poll that sees that
// moment sees other bytes at the next poll, so the moment is never applied.
// A file that cannot be read is not a change. A Watcher is not safe for
// concurrent use: the caller polls it from one goroutine.
type Watcher struct {
	file    string
	current [sha256.Size]byte // the content last handed over (or given at start)
	seen    [sha256.Size]byte // a different content seen at the previous poll
	hasSeen bool
}

// NewWatcher returns a watcher of file whose running content is current
// (the bytes the running config was parsed from).
func NewWatcher(file string, current []byte) *Watcher {
	return &Watcher{file: file, current: sha256.Sum256(current)}
}

// Poll reads the file once. It returns the content and true when the
// content differs from the current one and is the same as at the previous
// poll; that content becomes the current one.
func (w *Watcher) Poll() ([]byte, bool) {
	b, err := os.ReadFile(w.file)
	if err != nil {
		w.hasSeen = false
		return nil, false
	}
	sum := sha256.Sum256(b)
	switch {
	case sum == w.current:
		w.hasSeen = false // changed back, or never changed
		return nil, false
	case !w.hasSeen || sum != w.seen:
		w.seen, w.hasSeen = sum, true // still changing: wait for the next poll
		return nil, false
	}
	w.current, w.hasSeen = sum, false
	return b, true
}

// SetCurrent records data as the running content, after a reload that
// read the file itself (SIGHUP), so that Poll does not hand it over again.
func (w *Watcher) SetCurrent(data []byte) {
	w.current, w.hasSeen = sha256.Sum256(data), false
}
