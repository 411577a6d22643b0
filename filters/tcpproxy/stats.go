package tcpproxy

import "github.com/sluice-proxy/sluice/stats"

// Stats are tcp_proxy's stats with Envoy's names under tcp.<stat_prefix>.
type Stats struct {
	CxTotal     *stats.Counter
	CxNoRoute   *stats.Counter
	RxBytes     *stats.Counter
	TxBytes     *stats.Counter
	RxBuffered  *stats.Gauge
	TxBuffered  *stats.Gauge
	IdleTimeout *stats.Counter
	MaxDuration *stats.Counter
}

func newStats(root *stats.Scope, prefix string) *Stats {
	sc := root.Sub("tcp").Tagged("envoy_tcp_prefix", prefix)
	return &Stats{
		CxTotal:     sc.Counter("downstream_cx_total"),
		CxNoRoute:   sc.Counter("downstream_cx_no_route"),
		RxBytes:     sc.Counter("downstream_cx_rx_bytes_total"),
		TxBytes:     sc.Counter("downstream_cx_tx_bytes_total"),
		RxBuffered:  sc.Gauge("downstream_cx_rx_bytes_buffered"),
		TxBuffered:  sc.Gauge("downstream_cx_tx_bytes_buffered"),
		IdleTimeout: sc.Counter("idle_timeout"),
		MaxDuration: sc.Counter("max_downstream_connection_duration"),
	}
}
