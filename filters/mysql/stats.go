package mysql

import "github.com/sluice-proxy/sluice/stats"

// Stats are mysql_proxy's stats: Envoy's names under mysql.<stat_prefix>.,
// plus per statement type counters and a query latency histogram.
type Stats struct {
	Sessions          *stats.Counter
	LoginAttempts     *stats.Counter
	LoginFailures     *stats.Counter
	DecoderErrors     *stats.Counter
	ProtocolErrors    *stats.Counter
	UpgradedToSSL     *stats.Counter
	AuthSwitchRequest *stats.Counter
	QueriesParsed     *stats.Counter
	QueriesParseError *stats.Counter
	// QueriesParseSkipped counts statements not parsed because
	// maxQueuedParses statements were waiting for the off-loop parser (sluice's).
	QueriesParseSkipped *stats.Counter
	// Statements count COM_QUERY / COM_STMT_PREPARE statements by kind:
	// statements_select|insert|update|delete|other.
	StmtSelect, StmtInsert, StmtUpdate, StmtDelete, StmtOther *stats.Counter
	// StatementsDenied counts statements a SQL gate refused.
	StatementsDenied *stats.Counter
	// UpstreamSSLSuccess and UpstreamSSLFailed count upstream_ssl: require
	// sessions whose server leg became TLS, or could not (no CLIENT_SSL in
	// the greeting, a failed handshake).
	UpstreamSSLSuccess, UpstreamSSLFailed *stats.Counter
	// ParseCacheHits and ParseCacheMisses count statements answered from
	// the parse cache, and parsed then cached.
	ParseCacheHits, ParseCacheMisses *stats.Counter
	// HandshakeTimeout and RequestTimeout count clients closed for not
	// finishing the connection phase, or a started packet, in time.
	HandshakeTimeout, RequestTimeout *stats.Counter
	// QueryTime is the time in milliseconds from a command's last byte
	// forwarded to the end of its response.
	QueryTime *stats.Histogram
}

func newStats(root *stats.Scope, prefix string) *Stats {
	sc := root.Sub("mysql").Tagged("envoy_mysql_prefix", prefix)
	return &Stats{
		Sessions:            sc.Counter("sessions"),
		LoginAttempts:       sc.Counter("login_attempts"),
		LoginFailures:       sc.Counter("login_failures"),
		DecoderErrors:       sc.Counter("decoder_errors"),
		ProtocolErrors:      sc.Counter("protocol_errors"),
		UpgradedToSSL:       sc.Counter("upgraded_to_ssl"),
		AuthSwitchRequest:   sc.Counter("auth_switch_request"),
		QueriesParsed:       sc.Counter("queries_parsed"),
		QueriesParseError:   sc.Counter("queries_parse_error"),
		QueriesParseSkipped: sc.Counter("queries_parse_skipped"),
		StmtSelect:          sc.Counter("statements_select"),
		StmtInsert:          sc.Counter("statements_insert"),
		StmtUpdate:          sc.Counter("statements_update"),
		StmtDelete:          sc.Counter("statements_delete"),
		StmtOther:           sc.Counter("statements_other"),
		StatementsDenied:    sc.Counter("statements_denied"),
		QueryTime:           sc.Histogram("query_time_ms"),

		UpstreamSSLSuccess: sc.Counter("upstream_ssl_success"),
		UpstreamSSLFailed:  sc.Counter("upstream_ssl_failed"),
		ParseCacheHits:     sc.Counter("parse_cache_hits"),
		ParseCacheMisses:   sc.Counter("parse_cache_misses"),
		HandshakeTimeout:   sc.Counter("handshake_timeout"),
		RequestTimeout:     sc.Counter("request_timeout"),
	}
}

// kind returns the counter of a statement kind.
func (st *Stats) kind(k string) *stats.Counter {
	switch k {
	case "select":
		return st.StmtSelect
	case "insert":
		return st.StmtInsert
	case "update":
		return st.StmtUpdate
	case "delete":
		return st.StmtDelete
	}
	return st.StmtOther
}
