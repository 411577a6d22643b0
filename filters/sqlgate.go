package filters

import "github.com/sluice-proxy/sluice/sqlmeta"

// SQLVerdict is a gate's answer about one statement.
type SQLVerdict struct {
	// Deny drops the statement: the SQL observer does not forward it and
	// answers the client with the protocol's own error (MySQL ERR 1142,
	// Postgres ErrorResponse 42501) naming Policy, keeping the session usable.
	Deny bool
	// Close ends the connection instead (Envoy's behaviour on a SQL deny).
	Close bool
	// Policy is the name of the policy that decided, for the error text and
	// the access log.
	Policy string
}

// SQLGate is consulted by SQL observers (mysql_proxy, postgres_proxy) for
// every statement they decode, after parsing. Gates such as rbac register
// themselves on the session when they observe the connection; observers ask
// the session, so the order of the two filters in a chain does not matter.
// CheckSQL must be safe to call from the observer's reading goroutine and fast.
type SQLGate interface {
	CheckSQL(s *Session, stmts []sqlmeta.Statement) SQLVerdict
}

// AddSQLGate registers g for this connection.
func (s *Session) AddSQLGate(g SQLGate) {
	s.mu.Lock()
	s.sqlGates = append(s.sqlGates, g)
	s.mu.Unlock()
}

// HasSQLGates reports whether any gate wants to see statements, so that an
// observer can skip parsing when nobody asks (and its own parsing is off).
func (s *Session) HasSQLGates() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sqlGates) > 0
}

// CheckSQL asks every registered gate; the first deny or close wins.
func (s *Session) CheckSQL(stmts []sqlmeta.Statement) SQLVerdict {
	s.mu.Lock()
	gates := s.sqlGates
	s.mu.Unlock()
	for _, g := range gates {
		if v := g.CheckSQL(s, stmts); v.Deny || v.Close {
			return v
		}
	}
	return SQLVerdict{}
}
