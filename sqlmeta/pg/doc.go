// Package pg finds the tables a Postgres query string touches and what it
// does to each (select, insert, update, delete, create, drop, alter,
// truncate), for postgres_proxy's SQL metadata and the gates that read it.
//
// It parses with the real Postgres grammar, libpg_query, through
// github.com/pganalyze/pg_query_go/v6 (cgo) and, when cgo is off, through
// github.com/wasilibs/go-pgquery, the same library compiled to WebAssembly
// and run by wazero; both yield pg_query_go's AST, which walk.go reads.
//
// Why this choice. Pure-Go Postgres grammars (github.com/auxten/postgresql-
// parser, github.com/cockroachdb/cockroachdb-parser) are not obtainable from
// this project's module proxy, and they are CockroachDB's dialect, not
// Postgres's. Measured on this shared 2-core machine (go 1.26, cold build
// cache; parse times from BenchmarkParseSimple, one short SELECT):
//
//	                    clean build      binary over hello   first Parse      Parse
//	pg_query_go (cgo)   2m50s            +11.2 MB            immediate        125 us, 174 allocs
//	go-pgquery (wasm)   <1m, CGO off     +14.0 MB            ~4.5 s, 270 MB   225 us, 192 allocs
//
// So cgo is the default: the exact server grammar, faster, no start-up cost;
// the C build is paid once per build cache. The release image is built with
// CGO_ENABLED=0 (see Dockerfile), and there the wasm back-end keeps the same
// grammar and results at the price of a lazy ~4.5 s, ~270 MB initialisation
// on the first Parse. Both back-ends pass the same golden corpus
// (CGO_ENABLED=0 go test ./sqlmeta/pg runs the wasm one).
//
// Scope rule: a CTE name hides an unqualified table of that name anywhere
// in the statement (see collectCTEs). CREATE INDEX reports create on the
// indexed table; LOCK and VACUUM report select on theirs.
package pg
