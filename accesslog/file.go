package accesslog

import (
	"fmt"
	"os"
	"sync"
)

// File is an append-only log file shared by every logger writing to the
// same path (across listeners and reloads), so lines never interleave.
type File struct {
	mu sync.Mutex
	f  *os.File
}

var (
	filesMu sync.Mutex
	files   = map[string]*File{}
)

// Open returns the shared File for path ("/dev/stdout" and "/dev/stderr"
// are the process's streams).
func Open(path string) (*File, error) {
	filesMu.Lock()
	defer filesMu.Unlock()
	if f, ok := files[path]; ok {
		return f, nil
	}
	var f *os.File
	var err error
	switch path {
	case "/dev/stdout":
		f = os.Stdout
	case "/dev/stderr":
		f = os.Stderr
	default:
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("accesslog: opening %s: %w", path, err)
		}
	}
	lf := &File{f: f}
	files[path] = lf
	return lf, nil
}

// Write writes one whole line.
func (f *File) Write(line []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.f.Write(line)
	return err
}
