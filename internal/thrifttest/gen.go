// Package thrifttest holds the Go code Debian's thrift-compiler generates
// from testdata/thrift/calc.thrift (package calc), used by thrift_proxy's
// tests as real clients and servers. The code is ours, generated; run
// `go generate ./internal/thrifttest` after editing the IDL.
package thrifttest

//go:generate thrift -r --gen go:package_prefix=github.com/sluice-proxy/sluice/internal/thrifttest/,skip_remote -out . ../../testdata/thrift/calc.thrift
//go:generate gofmt -w calc
