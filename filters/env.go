package filters

import (
	"log/slog"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/stats"
)

// Env is what a factory's Build may use: the stats root, the cluster
// manager of the config being built, and a logger.
type Env struct {
	Stats    *stats.Scope
	Clusters *cluster.Manager
	Log      *slog.Logger
	// Listener is the name of the listener the chain belongs to.
	Listener string
}
