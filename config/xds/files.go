package xds

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// fileSource is a path_config_source: a file holding a DiscoveryResponse.
type fileSource struct {
	typeURL string
	path    string
	dir     string
}

func newFileSource(typeURL string, pcs *corev3.PathConfigSource) *fileSource {
	return &fileSource{typeURL: typeURL, path: pcs.GetPath(), dir: pcs.GetWatchedDirectory().GetPath()}
}

func (f *fileSource) run(ctx context.Context, c *Client) { <-ctx.Done() }
