package zookeeper

import (
	"time"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
	"github.com/sluice-proxy/sluice/stats"
)

// Stats are zookeeper_proxy's stats with Envoy's names under
// <stat_prefix>.zookeeper., resolved once per filter.
type Stats struct {
	DecoderError   *stats.Counter
	RequestBytes   *stats.Counter
	ResponseBytes  *stats.Counter
	ConnectRq      *stats.Counter
	ConnectROnlyRq *stats.Counter
	WatchEvent     *stats.Counter
	// RequestsDenied counts requests a gate (rbac) refused (sluice's;
	// Envoy's RBAC closes the connection instead).
	RequestsDenied *stats.Counter
	// FourLetterWords counts connections that carried a four-letter word
	// command (ruok, srvr, ...), passed on undecoded (sluice's).
	FourLetterWords *stats.Counter

	ops            [opSlots]*opStats         // by opSlot
	auth           map[string]*stats.Counter // auth.<scheme>_rq
	authUnknown    *stats.Counter
	unknownLatency *stats.Histogram
	thresholdOn    bool
}

// opStats are one opcode's handles; the optional ones are nil when their
// Envoy flag is off.
type opStats struct {
	name      string // request opname ("getdata")
	respName  string // response opname ("getdata_resp", "ping_response")
	rq        *stats.Counter
	resp      *stats.Counter
	fast      *stats.Counter
	slow      *stats.Counter
	latency   *stats.Histogram
	rqBytes   *stats.Counter
	respBytes *stats.Counter
	decErr    *stats.Counter
	threshold time.Duration
}

// statOps are the opcodes Envoy has stats for.
var statOps = []zk.Opcode{
	zk.OpConnect, zk.OpPing, zk.OpSetAuth, zk.OpGetData, zk.OpCreate, zk.OpCreate2, zk.OpCreateContainer,
	zk.OpCreateTTL, zk.OpSetData, zk.OpGetChildren, zk.OpGetChildren2, zk.OpGetEphemerals,
	zk.OpGetAllChildrenNumber, zk.OpDelete, zk.OpExists, zk.OpGetACL, zk.OpSetACL, zk.OpSync, zk.OpMulti,
	zk.OpReconfig, zk.OpClose, zk.OpSetWatches, zk.OpSetWatches2, zk.OpAddWatch, zk.OpCheckWatches,
	zk.OpRemoveWatches, zk.OpCheck,
}

// authSchemes get their own auth.<scheme>_rq counter, as Envoy's builtins;
// any other scheme counts in auth.unknown_scheme_rq.
var authSchemes = []string{"world", "auth", "digest", "host", "ip", "x509"}

func newStats(root *stats.Scope, cfg *Config) *Stats {
	sc := root.Sub(cfg.StatPrefix).Sub("zookeeper")
	c := sc.Counter
	st := &Stats{
		DecoderError: c("decoder_error"), RequestBytes: c("request_bytes"), ResponseBytes: c("response_bytes"),
		ConnectRq: c("connect_rq"), ConnectROnlyRq: c("connect_readonly_rq"), WatchEvent: c("watch_event"),
		RequestsDenied: c("requests_denied"), FourLetterWords: c("four_letter_words"),
		auth:           make(map[string]*stats.Counter, len(authSchemes)),
		authUnknown:    sc.Sub("auth").Counter("unknown_scheme_rq"),
		unknownLatency: sc.Histogram("unknown_opcode_latency"),
		thresholdOn:    cfg.EnableLatencyThresholdMetrics,
	}
	for _, s := range authSchemes {
		st.auth[s] = sc.Sub("auth").Counter(s + "_rq")
	}
	over := cfg.thresholds()
	for _, op := range statOps {
		name := op.Name()
		o := &opStats{name: name, respName: name + "_resp", threshold: cfg.DefaultLatencyThreshold.D()}
		if t, ok := over[op]; ok {
			o.threshold = t
		}
		switch op {
		case zk.OpConnect, zk.OpPing, zk.OpSetAuth:
			o.respName = name + "_response" // Envoy's irregular names
		default:
			o.rq = c(name + "_rq")
		}
		if op == zk.OpSetAuth {
			o.rq = nil // auth.<scheme>_rq instead
		}
		o.resp = c(name + "_resp")
		o.fast, o.slow = c(name+"_resp_fast"), c(name+"_resp_slow")
		o.latency = sc.Histogram(o.respName + "_latency")
		if cfg.EnablePerOpcodeRequestBytesMetrics {
			o.rqBytes = c(name + "_rq_bytes")
		}
		if cfg.EnablePerOpcodeResponseBytesMetrics {
			o.respBytes = c(name + "_resp_bytes")
		}
		if cfg.EnablePerOpcodeDecoderErrorMetrics {
			o.decErr = c(name + "_decoder_error")
		}
		if op == zk.OpConnect {
			st.ops[0] = o
		} else {
			st.ops[opSlot(op)] = o
		}
	}
	return st
}

// opSlots covers the opcodes from -16 to 111, plus slot 0 for OpConnect.
const opSlots = 129

// opSlot maps an opcode to its slot in Stats.ops (0: none or connect).
func opSlot(op zk.Opcode) int {
	if op >= -16 && op < 112 {
		return int(op) + 17
	}
	return 0
}

// op returns an opcode's stats, or nil for one Envoy has none for.
func (st *Stats) op(op zk.Opcode) *opStats {
	if op == zk.OpConnect {
		return st.ops[0]
	}
	if i := opSlot(op); i != 0 {
		return st.ops[i]
	}
	return nil
}

// authRq returns auth.<scheme>_rq.
func (st *Stats) authRq(scheme []byte) *stats.Counter {
	if c, ok := st.auth[string(scheme)]; ok {
		return c
	}
	return st.authUnknown
}

// response counts one reply of op (nil: unknown) after latency.
func (st *Stats) response(o *opStats, size int, latency time.Duration) {
	ms := latency.Milliseconds() // Envoy records whole milliseconds
	if o == nil {
		st.unknownLatency.Record(float64(ms))
		return
	}
	o.resp.Inc()
	o.latency.Record(float64(ms))
	if o.respBytes != nil {
		o.respBytes.Add(uint64(size))
	}
	if st.thresholdOn {
		if ms <= o.threshold.Milliseconds() {
			o.fast.Inc()
		} else {
			o.slow.Inc()
		}
	}
}
