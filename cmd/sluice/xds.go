package main

import (
	"context"
	"log/slog"

	"github.com/sluice-proxy/sluice/config/envoy"
	"github.com/sluice-proxy/sluice/config/xds"
	"github.com/sluice-proxy/sluice/proxy"
)

// nodeFlags are Envoy's --service-node and --service-cluster: the node
// identity sent to a control plane, over the bootstrap's node.
type nodeFlags struct{ id, cluster string }

// envoySource is what sluice keeps of an Envoy bootstrap: the xDS client,
// which holds the Envoy resources for /config_dump and, when the bootstrap
// has dynamic_resources, runs the subscriptions.
type envoySource struct {
	client  *xds.Client
	dynamic bool
	stop    func()
}

// startEnvoySource makes the client for an Envoy bootstrap, after its
// static resources were applied, and runs it when there is something
// dynamic. It returns nil for a sluice config.
func startEnvoySource(file string, data []byte, format string, srv *proxy.Server, log *slog.Logger, node nodeFlags) (*envoySource, error) {
	if format == "sluice" || (format != "envoy" && !envoy.IsBootstrap(data)) {
		return nil, nil
	}
	bs, err := envoy.Decode(file, data)
	if err != nil {
		return nil, err
	}
	c, err := xds.New(xds.Options{File: file, Bootstrap: bs, Server: srv, Clusters: srv.Clusters,
		Stats: srv.Store.Root(), Log: log, NodeID: node.id, NodeCluster: node.cluster})
	if err != nil {
		return nil, err
	}
	// SDS over ADS: TLS contexts read their ads secrets from the client.
	srv.Secrets, srv.Clusters.Secrets = c, c
	es := &envoySource{client: c, dynamic: c.Dynamic(), stop: func() {}}
	if es.dynamic {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); c.Run(ctx) }()
		es.stop = func() { cancel(); <-done }
		log.Info("xDS client started", "node", c.Node().GetId(), "node_cluster", c.Node().GetCluster())
	}
	return es, nil
}

// reloaded tells the client the bootstrap a reload applied (a static
// bootstrap: /config_dump shows it).
func (es *envoySource) reloaded(file string, data []byte) {
	if bs, err := envoy.Decode(file, data); err == nil {
		es.client.SetBootstrap(bs)
	}
}
