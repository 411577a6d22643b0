package filters

import (
	"log/slog"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/httppool"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
	"github.com/sluice-proxy/sluice/stats"
	"github.com/sluice-proxy/sluice/tlsctx"
)

// Env is what a factory's Build may use: the stats root, the cluster
// manager of the config being built, and a logger.
type Env struct {
	Stats    *stats.Scope
	Clusters *cluster.Manager
	Log      *slog.Logger
	// Listener is the name of the listener the chain belongs to.
	Listener string
	// Chain names the filter chain being built within the listener: its
	// name when it has one, else its config path. Keys of Retained state
	// that belongs to one chain include it.
	Chain string
	// Guard contains panics of goroutines a filter starts that serve no
	// single session (a shared upstream connection's reader): log them,
	// count them, and close what the goroutine served.
	Guard *guard.Guard
	// Loops are the server's event loops for plain TCP bytes; nil when
	// they are off (--io-loops 0, or not Linux).
	Loops *ioloop.Group
	// Retained is the listener's state that outlives reloads; nil keeps
	// nothing.
	Retained *Retained
	// Listeners opens listeners owned by the server on the chain's
	// listener's behalf; nil when the filter is built outside a server.
	Listeners DynamicListeners
	// BufferLimit is the listener's per_connection_buffer_limit_bytes: the
	// most a filter holds for one downstream connection before it stops
	// reading from it (each filter's README says what it counts). Zero
	// (an Env built by hand in a test) means config.DefaultBufferLimit.
	BufferLimit int
	// Secrets serves SDS secrets from the control plane to TLS contexts
	// filters build (terminate_ssl); nil refuses ads secret configs.
	Secrets tlsctx.SecretSource
	// Factories are filters known to this server only (proxy.Filters),
	// looked up before the registry; nil means the registry alone.
	Factories Factories
	// HealthCheckFailed reports whether the server fails health checks
	// (admin POST /healthcheck/fail, or /drain_listeners); nil: never.
	HealthCheckFailed func() bool
	// HTTPPools are the server's HTTP upstream pools over Clusters, shared
	// by every HTTP filter chain so upstream connections are too; nil (an
	// Env built by hand) makes each user build and close its own.
	HTTPPools *httppool.Pools
}

// PerConnectionBufferLimit returns BufferLimit, or the default when unset.
func (e *Env) PerConnectionBufferLimit() int {
	if e == nil || e.BufferLimit <= 0 {
		return config.DefaultBufferLimit
	}
	return e.BufferLimit
}
