//go:build pgquery_cgo

package pg

// backend names the parser in use, for tests, benchmarks and logs.
const backend = "pg_query_go (cgo)"
