package postgres

import "github.com/sluice-proxy/sluice/stats"

// Stats are postgres_proxy's counters with Envoy's names under
// postgres.<stat_prefix>., plus protocol_errors and statements_denied.
type Stats struct {
	Sessions, SessionsEncrypted, SessionsUnencrypted, SessionsTerminatedSSL *stats.Counter
	SessionsUpstreamSSLSuccess, SessionsUpstreamSSLFailed                   *stats.Counter

	Transactions, TransactionsCommit, TransactionsRollback *stats.Counter

	Statements                                                *stats.Counter
	StmtInsert, StmtDelete, StmtUpdate, StmtSelect, StmtOther *stats.Counter
	StatementsParsed, StatementsParseError                    *stats.Counter
	// StatementsParseSkipped counts statements not parsed because
	// maxQueuedParses statements were waiting for the off-loop parser (sluice's).
	StatementsParseSkipped                                           *stats.Counter
	Errors, ErrorsError, ErrorsFatal, ErrorsPanic, ErrorsUnknown     *stats.Counter
	Notices, NoticesNotice, NoticesLog, NoticesWarning, NoticesDebug *stats.Counter
	NoticesInfo, NoticesUnknown                                      *stats.Counter
	Messages, MessagesFrontend, MessagesBackend, MessagesUnknown     *stats.Counter

	// ProtocolErrors counts connections closed for malformed input (bad
	// lengths, unknown message types, a bad or truncated startup packet).
	// Envoy has no such counter: it stops decoding and passes bytes on.
	ProtocolErrors *stats.Counter
	// SessionsUpstreamSSLRefused counts sessions that went on in clear text
	// under upstream_ssl: prefer because the server answered 'N'.
	SessionsUpstreamSSLRefused *stats.Counter
	// StatementsDenied counts statements a SQL gate refused.
	StatementsDenied *stats.Counter
}

func newStats(root *stats.Scope, prefix string) *Stats {
	sc := root.Sub("postgres").Tagged("envoy_postgres_prefix", prefix)
	c := sc.Counter
	return &Stats{
		Sessions: c("sessions"), SessionsEncrypted: c("sessions_encrypted"),
		SessionsUnencrypted: c("sessions_unencrypted"), SessionsTerminatedSSL: c("sessions_terminated_ssl"),
		SessionsUpstreamSSLSuccess: c("sessions_upstream_ssl_success"),
		SessionsUpstreamSSLFailed:  c("sessions_upstream_ssl_failed"),

		Transactions: c("transactions"), TransactionsCommit: c("transactions_commit"),
		TransactionsRollback: c("transactions_rollback"),

		Statements: c("statements"), StmtInsert: c("statements_insert"), StmtDelete: c("statements_delete"),
		StmtUpdate: c("statements_update"), StmtSelect: c("statements_select"), StmtOther: c("statements_other"),
		StatementsParsed: c("statements_parsed"), StatementsParseError: c("statements_parse_error"),
		StatementsParseSkipped: c("statements_parse_skipped"),

		Errors: c("errors"), ErrorsError: c("errors_error"), ErrorsFatal: c("errors_fatal"),
		ErrorsPanic: c("errors_panic"), ErrorsUnknown: c("errors_unknown"),

		Notices: c("notices"), NoticesNotice: c("notices_notice"), NoticesLog: c("notices_log"),
		NoticesWarning: c("notices_warning"), NoticesDebug: c("notices_debug"),
		NoticesInfo: c("notices_info"), NoticesUnknown: c("notices_unknown"),

		Messages: c("messages"), MessagesFrontend: c("messages_frontend"),
		MessagesBackend: c("messages_backend"), MessagesUnknown: c("messages_unknown"),

		ProtocolErrors:             c("protocol_errors"),
		SessionsUpstreamSSLRefused: c("sessions_upstream_ssl_refused"),
		StatementsDenied:           c("statements_denied"),
	}
}

// stmtCounter returns the statements_* counter of a statement kind.
func (st *Stats) stmtCounter(k stmtKind) *stats.Counter {
	switch k {
	case stmtInsert:
		return st.StmtInsert
	case stmtDelete:
		return st.StmtDelete
	case stmtUpdate:
		return st.StmtUpdate
	case stmtSelect:
		return st.StmtSelect
	}
	return st.StmtOther
}

// errorSeverity returns the errors_* counter of an ErrorResponse severity.
func (st *Stats) errorSeverity(sev string) *stats.Counter {
	switch sev {
	case "ERROR":
		return st.ErrorsError
	case "FATAL":
		return st.ErrorsFatal
	case "PANIC":
		return st.ErrorsPanic
	}
	return st.ErrorsUnknown
}

// noticeSeverity returns the notices_* counter of a NoticeResponse severity.
func (st *Stats) noticeSeverity(sev string) *stats.Counter {
	switch sev {
	case "NOTICE":
		return st.NoticesNotice
	case "LOG":
		return st.NoticesLog
	case "WARNING":
		return st.NoticesWarning
	case "DEBUG":
		return st.NoticesDebug
	case "INFO":
		return st.NoticesInfo
	}
	return st.NoticesUnknown
}

// countFrontend counts one client message as Envoy does: messages and
// messages_frontend, and for an unknown type also messages and
// messages_unknown (so messages = frontend + backend + unknown).
func (st *Stats) countFrontend(unknown bool) {
	st.Messages.Inc()
	st.MessagesFrontend.Inc()
	if unknown {
		st.Messages.Inc()
		st.MessagesUnknown.Inc()
	}
}

// countBackend counts one server message, like countFrontend.
func (st *Stats) countBackend(unknown bool) {
	st.Messages.Inc()
	st.MessagesBackend.Inc()
	if unknown {
		st.Messages.Inc()
		st.MessagesUnknown.Inc()
	}
}
