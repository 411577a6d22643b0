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

// startXDS starts the xDS client when file is an Envoy bootstrap with
// dynamic_resources, after its static resources were applied. It returns
// nil when there is nothing dynamic; stop ends the client and waits.
func startXDS(file string, data []byte, format string, srv *proxy.Server, log *slog.Logger, node nodeFlags) (stop func(), err error) {
	if format == "sluice" || (format != "envoy" && !envoy.IsBootstrap(data)) {
		return nil, nil
	}
	bs, err := envoy.Decode(file, data)
	if err != nil || bs.GetDynamicResources() == nil {
		return nil, err
	}
	c, err := xds.New(xds.Options{File: file, Bootstrap: bs, Server: srv, Clusters: srv.Clusters,
		Stats: srv.Store.Root(), Log: log, NodeID: node.id, NodeCluster: node.cluster})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	log.Info("xDS client started", "node", c.Node().GetId(), "node_cluster", c.Node().GetCluster())
	return func() { cancel(); <-done }, nil
}
