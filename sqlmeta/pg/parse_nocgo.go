//go:build !cgo

package pg

import (
	pgquery "github.com/pganalyze/pg_query_go/v6"
	wasm "github.com/wasilibs/go-pgquery"
)

// parseTree runs libpg_query compiled to WebAssembly (no cgo).
func parseTree(sql string) (*pgquery.ParseResult, error) { return wasm.Parse(sql) }

// backend names the parser in use, for tests and logs.
const backend = "go-pgquery (wasm)"
