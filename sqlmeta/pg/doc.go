// Package pg finds the tables a Postgres query string touches and what it
// does to each (select, insert, update, delete, create, drop, alter,
// truncate), for postgres_proxy's SQL metadata and the gates that read it.
//
// It parses with the real Postgres grammar, libpg_query, through the parser
// package of github.com/wasilibs/go-pgquery: by default libpg_query compiled
// to WebAssembly and run by wazero (no cgo, no C compiler); built with
// -tags pgquery_cgo, the same package calls github.com/pganalyze/pg_query_go's
// cgo libpg_query instead. Both return libpg_query's JSON parse tree, which
// tree.go decodes (keeping key order, so that a table's operations come in
// the order the walk meets them) and walk.go reads. Reading JSON rather than
// pg_query_go's protobuf AST is what keeps the default build free of cgo:
// that AST lives in a package that links the C parser whenever cgo is on.
//
// Why this choice. Pure-Go Postgres grammars (github.com/auxten/postgresql-
// parser, github.com/cockroachdb/cockroachdb-parser) are not obtainable from
// this project's module proxy, and they are CockroachDB's dialect, not
// Postgres's. Measured on the shared 2-core machine (go 1.26; busy, so
// timings vary by +-30% or more): CPU time to compile this package with its
// dependencies and ./cmd/sluice from an empty build cache (go build), then
// BenchmarkParseWorkload (pgbench's and sysbench's statements, steady
// state) and BenchmarkParseCold (a process's first Parse, with the process's
// peak RSS):
//
//	                          compile pkg / sluice   steady Parse        first Parse in a process
//	wasm (default)            36 s / 131 s CPU       141 us, 487 allocs  4.2 s, 263 MB peak RSS
//	cgo (-tags pgquery_cgo)   70 s / 184 s CPU       66 us, 469 allocs   4 ms, 8 MB peak RSS
//
// (The protobuf AST read before this JSON one parsed the same workload in
// about the same time with cgo, with fewer allocations: 139.) So the
// default is the build that compiles fast and needs no C compiler (go run,
// go test, a fresh clone), and release builds (make build, the Dockerfile,
// bench/) use cgo: half the steady cost and no multi-second, 260 MB start on
// the first statement. Both filters cache parse results by statement shape,
// so the steady cost is paid once per shape. Both back-ends pass the same
// golden corpus (go test ./sqlmeta/pg and go test -tags pgquery_cgo
// ./sqlmeta/pg; make test runs both).
//
// Scope rule: a CTE name hides an unqualified table of that name anywhere
// in the statement (see collectCTEs). CREATE INDEX reports create on the
// indexed table; LOCK and VACUUM report select on theirs.
package pg
