// Package http1 is sluice's strict HTTP/1.1 request reader: a request head
// parser that produces an *http.Request and a strict chunked body reader with
// trailers. It is pure (an io.Reader in, values out), bounded by Limits, and
// fuzzed (FuzzReadRequest, seeded from curl's requests).
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
// caller answers and closes without forwarding anything. Responses are still
// read by net/http's client (the upstream side), which is less exposed: the
// upstream is configured, not arbitrary.
package http1
