package proxy

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/filters"
)

// accessLog writes one JSON line per closed connection. Files are shared by
// path across listeners and reloads, and opened for append.
type accessLog struct {
	mu sync.Mutex
	f  *os.File
}

var (
	logsMu sync.Mutex
	logs   = map[string]*accessLog{}
)

func openAccessLog(path string) (*accessLog, error) {
	logsMu.Lock()
	defer logsMu.Unlock()
	if l, ok := logs[path]; ok {
		return l, nil
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
			return nil, fmt.Errorf("opening access log: %w", err)
		}
	}
	l := &accessLog{f: f}
	logs[path] = l
	return l, nil
}

type accessEntry struct {
	StartTime        string `json:"start_time"`
	DurationMs       int64  `json:"duration_ms"`
	Listener         string `json:"listener"`
	ConnectionID     uint64 `json:"connection_id"`
	DownstreamRemote string `json:"downstream_remote_address"`
	DownstreamLocal  string `json:"downstream_local_address"`
	// DownstreamDirect is %DOWNSTREAM_DIRECT_REMOTE_ADDRESS%: the socket's
	// peer, written when a PROXY header named another client.
	DownstreamDirect  string         `json:"downstream_direct_remote_address,omitempty"`
	SNI               string         `json:"requested_server_name,omitempty"`
	Cluster           string         `json:"upstream_cluster,omitempty"`
	UpstreamHost      string         `json:"upstream_host,omitempty"`
	UpstreamLocal     string         `json:"upstream_local_address,omitempty"`
	BytesReceived     uint64         `json:"bytes_received"`
	BytesSent         uint64         `json:"bytes_sent"`
	TerminationReason string         `json:"termination_reason,omitempty"`
	Fields            map[string]any `json:"fields,omitempty"`
}

func (l *accessLog) write(s *filters.Session, d time.Duration) {
	a := s.AccessSnapshot()
	e := accessEntry{
		StartTime: s.Start.UTC().Format(time.RFC3339Nano), DurationMs: d.Milliseconds(),
		Listener: s.Listener, ConnectionID: s.ID,
		DownstreamRemote: s.Remote.String(), DownstreamLocal: s.Local.String(), SNI: s.SNI,
		Cluster: a.Cluster, UpstreamHost: a.UpstreamHost, UpstreamLocal: a.UpstreamLocal,
		BytesReceived: a.BytesReceived, BytesSent: a.BytesSent, TerminationReason: a.TerminationReason,
		Fields: a.Fields,
	}
	if s.DirectRemote.IsValid() && s.DirectRemote != s.Remote {
		e.DownstreamDirect = s.DirectRemote.String()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	l.f.Write(b)
	l.mu.Unlock()
}
