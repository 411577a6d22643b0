package kafka

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
)

// recorder collects what the relays saw: per-API counts, frame errors, and
// samples of real frames for the fuzz seed corpora.
type recorder struct {
	mu        sync.Mutex
	requests  map[string]int
	responses map[string]int
	acks0     int
	errs      []error
	reqSeen   map[[2]int16][]byte // first request body (after header) per key/version
	respSeen  map[[2]int16][]byte // first response frame per key/version
	streams   [][]byte            // first bytes of each client stream
	rewritten []string            // hosts:ports sent to clients in rewritten responses
}

func newRecorder() *recorder {
	return &recorder{
		requests: map[string]int{}, responses: map[string]int{},
		reqSeen: map[[2]int16][]byte{}, respSeen: map[[2]int16][]byte{},
	}
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

// relay forwards one broker's port, framing both directions with the
// package's framers and rewriting broker addresses so that the client
// keeps talking through relays.
type relay struct {
	ln       net.Listener
	upstream string
	rec      *recorder
	addr     AddrFunc
}

func (rl *relay) serve() {
	for {
		c, err := rl.ln.Accept()
		if err != nil {
			return
		}
		go rl.conn(c)
	}
}

func (rl *relay) conn(c net.Conn) {
	defer c.Close()
	u, err := net.Dial("tcp", rl.upstream)
	if err != nil {
		rl.rec.fail(err)
		return
	}
	defer u.Close()
	var mu sync.Mutex // guards resp: Expect and Write run on two goroutines
	rh := &relayResponses{rl: rl, client: c}
	resp := NewResponseFramer(Limits{}, rh)
	qh := &relayRequests{rl: rl, expect: func(f *RequestFrame) {
		mu.Lock()
		defer mu.Unlock()
		if err := resp.Expect(f.Header.CorrelationID, f.Header.APIKey, f.Header.APIVersion, 0); err != nil {
			rl.rec.fail(err)
		}
	}}
	req := NewRequestFramer(Limits{}, qh)
	go func() {
		defer u.Close()
		var stream []byte
		buf := make([]byte, 7919) // a prime, so that frames split at odd places
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if len(stream) < 16<<10 {
					stream = append(stream, buf[:n]...)
				}
				if _, werr := req.Write(buf[:n]); werr != nil {
					rl.rec.fail(werr)
					return
				}
				if _, werr := u.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				rl.rec.mu.Lock()
				rl.rec.streams = append(rl.rec.streams, stream)
				rl.rec.mu.Unlock()
				return
			}
		}
	}()
	buf := make([]byte, 4093)
	for {
		n, err := u.Read(buf)
		if n > 0 {
			mu.Lock()
			_, werr := resp.Write(buf[:n])
			mu.Unlock()
			if werr != nil {
				rl.rec.fail(werr)
				return
			}
		}
		if err != nil {
			return // EOF or closed: the client side ends with it
		}
	}
}

type relayRequests struct {
	rl     *relay
	expect func(*RequestFrame)
}

func (h *relayRequests) RequestHeader(f *RequestFrame) bool {
	if f.ExpectsResponse() {
		h.expect(f)
	}
	return true // capture, to keep seeds
}

func (h *relayRequests) Request(f *RequestFrame, body []byte) {
	rec := h.rl.rec
	if f.Err != nil {
		rec.fail(f.Err)
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.requests[f.Header.Name()]++
	if !f.ExpectsResponse() {
		rec.acks0++
	}
	k := [2]int16{f.Header.APIKey, f.Header.APIVersion}
	if _, ok := rec.reqSeen[k]; !ok && len(body) < 16<<10 {
		rec.reqSeen[k] = append([]byte(nil), body[f.HeaderLen:]...)
	}
}

// relayResponses captures every response and writes it to the client,
// rewritten when it carries broker addresses.
type relayResponses struct {
	rl     *relay
	client net.Conn
	out    []byte
}

func (h *relayResponses) ResponseHeader(*ResponseFrame) bool { return true }

func (h *relayResponses) Response(f *ResponseFrame, body []byte) {
	rec := h.rl.rec
	if f.Err != nil || body == nil {
		rec.fail(errors.Join(f.Err, errors.New("response not captured")))
		return
	}
	h.out = h.out[:0]
	if RewritesAddresses(f.APIKey) {
		nb, err := RewriteResponse(f.APIKey, f.APIVersion, body[f.HeaderLen:], func(id int32, host string, port int32) (string, int32) {
			h2, p2 := h.rl.addr(id, host, port)
			rec.mu.Lock()
			rec.rewritten = append(rec.rewritten, net.JoinHostPort(h2, strconv.Itoa(int(p2))))
			rec.mu.Unlock()
			return h2, p2
		})
		if err != nil {
			rec.fail(err)
			return
		}
		h.out = AppendResponseFrame(h.out, f.APIKey, f.APIVersion, f.CorrelationID, nb)
	} else {
		h.out = append(h.out, byte(f.Size>>24), byte(f.Size>>16), byte(f.Size>>8), byte(f.Size))
		h.out = append(h.out, body...)
	}
	rec.mu.Lock()
	rec.responses[ApiName(f.APIKey)]++
	k := [2]int16{f.APIKey, f.APIVersion}
	if _, ok := rec.respSeen[k]; !ok && len(body) < 16<<10 {
		rec.respSeen[k] = append([]byte(nil), h.out...)
	}
	rec.mu.Unlock()
	if _, err := h.client.Write(h.out); err != nil {
		return
	}
}

// startRelays starts one relay per broker address and returns the relay
// addresses in the same order.
func startRelays(t *testing.T, brokers []string, rec *recorder) []string {
	t.Helper()
	byPort := map[int32]int32{}
	var relays []*relay
	var addrs []string
	for _, b := range brokers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		_, bp, _ := net.SplitHostPort(b)
		_, lp, _ := net.SplitHostPort(ln.Addr().String())
		bpn, _ := strconv.Atoi(bp)
		lpn, _ := strconv.Atoi(lp)
		byPort[int32(bpn)] = int32(lpn)
		relays = append(relays, &relay{ln: ln, upstream: b, rec: rec})
		addrs = append(addrs, ln.Addr().String())
	}
	addr := func(_ int32, host string, port int32) (string, int32) {
		if p, ok := byPort[port]; ok {
			return "127.0.0.1", p
		}
		return host, port
	}
	for _, rl := range relays {
		rl.addr = addr
		go rl.serve()
	}
	return addrs
}
