//go:build cgo

package pg

import pgquery "github.com/pganalyze/pg_query_go/v6"

// parseTree runs libpg_query through cgo.
func parseTree(sql string) (*pgquery.ParseResult, error) { return pgquery.Parse(sql) }

// backend names the parser in use, for tests and logs.
const backend = "pg_query_go (cgo)"
