// Package sqlmeta holds the SQL metadata that the database observers
// (postgres_proxy, mysql_proxy) publish per statement and that gates such as
// rbac and the access log consume. The parsers live beside it (sqlmeta/pg,
// sqlmeta/mysql); this package is the shared vocabulary only.
package sqlmeta

import (
	"slices"
	"sort"
	"strings"
)

// Op is an operation a statement performs on a table, in lower case
// ("select", "insert", "update", "delete", "create", "drop", "alter",
// "truncate", ...), matching the names Envoy's SQL filters publish.
type Op string

// Operations every parser uses.
const (
	OpSelect   Op = "select"
	OpInsert   Op = "insert"
	OpUpdate   Op = "update"
	OpDelete   Op = "delete"
	OpCreate   Op = "create"
	OpDrop     Op = "drop"
	OpAlter    Op = "alter"
	OpTruncate Op = "truncate"
	OpOther    Op = "other"
)

// Statement is what one parsed statement touches. Tables maps a table name to
// the operations on it. The name is "schema.table" (Postgres) or "db.table"
// (MySQL) when the statement or the session names the schema/database, and the
// bare table otherwise; identifiers are unquoted and, when they were unquoted
// in the SQL, folded the way the server folds them (Postgres: lower case).
type Statement struct {
	// Kind is the statement's leading operation ("select", "insert", ...,
	// "begin", "commit", "rollback", "set", "show", "other").
	Kind   string
	Tables map[string][]Op
}

// Add records op on table, once.
func (s *Statement) Add(table string, op Op) {
	if s.Tables == nil {
		s.Tables = make(map[string][]Op)
	}
	for _, o := range s.Tables[table] {
		if o == op {
			return
		}
	}
	s.Tables[table] = append(s.Tables[table], op)
}

// Has reports whether the statement performs op on table. table is compared
// case-insensitively; a table given without a qualifier matches any schema.
func (s *Statement) Has(table string, op Op) bool {
	for t, ops := range s.Tables {
		if !TableMatches(table, t) {
			continue
		}
		for _, o := range ops {
			if o == op {
				return true
			}
		}
	}
	return false
}

// TableMatches reports whether the pattern (as written in a policy: "orders"
// or "shop.orders") names the table t as published by a parser.
func TableMatches(pattern, t string) bool {
	if strings.EqualFold(pattern, t) {
		return true
	}
	if !strings.Contains(pattern, ".") {
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return strings.EqualFold(pattern, t[i+1:])
		}
	}
	return false
}

// String renders the statement as Envoy renders its SQL dynamic metadata:
// "table: op,op; table2: op", tables sorted, for logs and tests.
func (s *Statement) String() string {
	names := make([]string, 0, len(s.Tables))
	for t := range s.Tables {
		names = append(names, t)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, t := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(t)
		b.WriteString(": ")
		for j, op := range s.Tables[t] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(string(op))
		}
	}
	return b.String()
}

// Metadata merges statements' tables into the shape Envoy's postgres_proxy
// and mysql_proxy publish as dynamic metadata: table name to the
// operations on it, each once, in first-seen order.
func Metadata(stmts []Statement) map[string][]string {
	meta := make(map[string][]string)
	for i := range stmts {
		for t, ops := range stmts[i].Tables {
			for _, op := range ops {
				if !slices.Contains(meta[t], string(op)) {
					meta[t] = append(meta[t], string(op))
				}
			}
		}
	}
	return meta
}
