package xds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"

	"github.com/sluice-proxy/sluice/config/envoy"
)

// fileSource is a path_config_source: a file holding a DiscoveryResponse
// (YAML or JSON) of one type. Envoy reads it again when a file is moved
// into place (an atomic rename, seen through watched_directory or the
// file's own inode); sluice does that too, and also applies a file
// rewritten in place once it read the same bytes at two polls in a row
// (config.Watcher's rule), so a half-written file is never applied. A file
// that does not parse or apply is refused (update_rejected) and the
// previous config keeps serving.
type fileSource struct {
	typeURL string
	path    string
	dir     string // watched_directory: informational, sluice polls the file

	ino     uint64
	current [sha256.Size]byte
	seen    [sha256.Size]byte
	hasSeen bool
}

func newFileSource(typeURL string, pcs *corev3.PathConfigSource, base string) *fileSource {
	p := pcs.GetPath()
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(base), p)
	}
	return &fileSource{typeURL: typeURL, path: p, dir: pcs.GetWatchedDirectory().GetPath()}
}

// run reads the file at once, then every FileInterval until ctx ends.
func (f *fileSource) run(ctx context.Context, c *Client) {
	t := time.NewTicker(c.o.FileInterval)
	defer t.Stop()
	first := true
	for {
		if data, ok := f.poll(first); ok {
			f.apply(c, data)
		} else if first {
			c.markFetched(f.typeURL) // missing at start: go on without it
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll returns the file's content when it is new and complete: moved into
// place (a new inode), read at start, or the same at two polls in a row.
func (f *fileSource) poll(first bool) ([]byte, bool) {
	fi, err := os.Stat(f.path)
	if err != nil {
		f.hasSeen = false
		return nil, false
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		f.hasSeen = false
		return nil, false
	}
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	sum := sha256.Sum256(data)
	moved := ino != f.ino
	f.ino = ino
	switch {
	case sum == f.current && !first:
		f.hasSeen = false
		return nil, false
	case first || moved || (f.hasSeen && sum == f.seen):
		f.current, f.hasSeen = sum, false
		return data, true
	}
	f.seen, f.hasSeen = sum, true // written in place: wait until it holds still
	return nil, false
}

// apply decodes the DiscoveryResponse and applies its resources.
func (f *fileSource) apply(c *Client, data []byte) {
	defer c.markFetched(f.typeURL)
	u, err := f.decode(data)
	if err != nil {
		c.refuse(f.typeURL, err)
		return
	}
	if err := c.apply(u); err != nil {
		c.log.Warn("file refused", "file", f.path)
	}
}

func (f *fileSource) decode(data []byte) (*update, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		// Envoy cannot parse an empty file either; here it would drain
		// every listener.
		return nil, fmt.Errorf("%s: empty file (an empty set is {\"resources\": []})", f.path)
	}
	var resp discoveryv3.DiscoveryResponse
	if err := envoy.DecodeMessage(f.path, data, &resp); err != nil {
		return nil, err
	}
	msgs, err := decode(f.typeURL, resp.GetResources())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.path, err)
	}
	h := handler(f.typeURL)
	u := &update{typeURL: f.typeURL, version: resp.GetVersionInfo(), full: h.FullState,
		resources: make(map[string]resource, len(msgs))}
	for _, m := range msgs {
		u.resources[h.Name(m)] = resource{msg: m, version: resp.GetVersionInfo()}
	}
	return u, nil
}

// refuse counts and logs an update refused before it could be applied (a
// file that does not parse).
func (c *Client) refuse(typeURL string, err error) {
	if st := typeStats(c.o.Stats, typeURL); st != nil {
		st.attempt.Inc()
		st.rejected.Inc()
	}
	c.log.Warn("xDS update refused; the running config keeps serving", "type", typeURL, "err", err)
}

// edsFiles runs the path_config_source files of the dynamic EDS clusters
// held and of the listeners' RDS: one watcher per file, started when a cluster names it and stopped
// when none does any more. c.mu is held.
type edsFiles struct {
	ctx     context.Context // Run's; nil before Run
	wg      *sync.WaitGroup
	stopped bool
	running map[string]context.CancelFunc
}

func (c *Client) reconcileFiles() {
	ef := &c.files
	if ef.ctx == nil || ef.stopped {
		return
	}
	type watched struct {
		typeURL string
		pcs     *corev3.PathConfigSource
	}
	want := map[string]*watched{}
	for _, r := range c.res[ClusterType] {
		cl := r.msg.(*clusterv3.Cluster)
		if pcs := cl.GetEdsClusterConfig().GetEdsConfig().GetPathConfigSource(); cl.GetType() == clusterv3.Cluster_EDS && pcs != nil {
			want[newFileSource(EndpointType, pcs, c.o.File).path] = &watched{EndpointType, pcs}
		}
	}
	// RDS files of the static and dynamic listeners' http_connection_managers.
	ls := append([]*listenerv3.Listener(nil), c.o.Bootstrap.GetStaticResources().GetListeners()...)
	for _, r := range c.res[ListenerType] {
		ls = append(ls, r.msg.(*listenerv3.Listener))
	}
	for _, l := range ls {
		for _, pcs := range rdsFiles(l) {
			want[newFileSource(RouteType, pcs, c.o.File).path] = &watched{RouteType, pcs}
		}
	}
	for path, stop := range ef.running {
		if want[path] == nil {
			stop()
			delete(ef.running, path)
		}
	}
	for path, w := range want {
		if ef.running[path] != nil || c.staticFiles[path] {
			continue
		}
		ctx, cancel := context.WithCancel(ef.ctx)
		ef.running[path] = cancel
		f := newFileSource(w.typeURL, w.pcs, c.o.File)
		ef.wg.Add(1)
		go func() { defer ef.wg.Done(); f.run(ctx, c) }()
	}
}
