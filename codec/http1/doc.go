// Package http1 is sluice's strict HTTP/1.1 reader: a request head parser
// that produces an *http.Request, a response reader (ReadResponse: status
// line, 1xx, Content-Length, chunked, close-delimited, HEAD/204/304) that
// produces an *http.Response, and a strict chunked body reader with
// trailers. It is pure (an io.Reader in, values out), bounded by Limits, and
// fuzzed (FuzzReadRequest seeded from curl's requests, FuzzReadResponse from
// nginx's and Go's responses).
//
// Why hand-written rather than net/http's server (or http.ReadRequest): a
// proxy must refuse what two parsers could read differently (request
// smuggling), and net/http, measured on Go 1.26, accepts several such inputs
// that Envoy refuses: a request with both Content-Length and
// Transfer-Encoding (Go drops Content-Length and reads chunks), header lines
// ended by a bare LF, two identical Content-Length headers (merged), chunk
// size lines ended by a bare LF, and Transfer-Encoding on HTTP/1.0. Its
// chunked reader is internal (httputil.NewChunkedReader does not parse
// trailers). This reader refuses all of those with a status code (400, 431
// for a head over the limit, 501 for an unknown transfer coding), so the
// caller answers and closes without forwarding anything. Responses are read
// with the same rules by cluster/httppool's own HTTP/1.1 connections: a
// response that two parsers could frame differently fails that exchange
// instead of desynchronising a pooled connection.
package http1
