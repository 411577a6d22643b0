package zookeeper

import (
	"time"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
	"github.com/sluice-proxy/sluice/config"
)

// DefaultLatencyThreshold is Envoy's default_latency_threshold default.
const DefaultLatencyThreshold = 100 * time.Millisecond

// Config is zookeeper_proxy's typed config, Envoy's ZooKeeperProxy message.
type Config struct {
	// StatPrefix names the stats: <stat_prefix>.zookeeper.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// MaxPacketBytes is the longest request (and watch event or connect
	// response) accepted; a longer one counts decoder_error and closes the
	// connection (Envoy ignores it and stops decoding). Replies are not
	// held and pass whatever their length. Default 1 MiB, ZooKeeper's
	// jute.maxbuffer.
	MaxPacketBytes uint32 `yaml:"max_packet_bytes" json:"max_packet_bytes"`
	// EnableLatencyThresholdMetrics counts each response as <op>_resp_fast
	// (latency at most its threshold) or <op>_resp_slow. Default false.
	EnableLatencyThresholdMetrics bool `yaml:"enable_latency_threshold_metrics" json:"enable_latency_threshold_metrics,omitempty"`
	// DefaultLatencyThreshold applies to opcodes without an override.
	// Default 100ms.
	DefaultLatencyThreshold config.Duration `yaml:"default_latency_threshold" json:"default_latency_threshold"`
	// LatencyThresholdOverrides set the threshold of single opcodes; an
	// opcode may appear once.
	LatencyThresholdOverrides []LatencyThresholdOverride `yaml:"latency_threshold_overrides" json:"latency_threshold_overrides,omitempty"`
	// EnablePerOpcodeRequestBytesMetrics counts <op>_rq_bytes. Default false.
	EnablePerOpcodeRequestBytesMetrics bool `yaml:"enable_per_opcode_request_bytes_metrics" json:"enable_per_opcode_request_bytes_metrics,omitempty"`
	// EnablePerOpcodeResponseBytesMetrics counts <op>_resp_bytes. Default false.
	EnablePerOpcodeResponseBytesMetrics bool `yaml:"enable_per_opcode_response_bytes_metrics" json:"enable_per_opcode_response_bytes_metrics,omitempty"`
	// EnablePerOpcodeDecoderErrorMetrics counts <op>_decoder_error when a
	// request's opcode was read before its frame turned out malformed.
	EnablePerOpcodeDecoderErrorMetrics bool `yaml:"enable_per_opcode_decoder_error_metrics" json:"enable_per_opcode_decoder_error_metrics,omitempty"`
}

// LatencyThresholdOverride is Envoy's message: an opcode by its enum name
// (Connect, Create, GetData, SetWatches2, ...) and its threshold.
type LatencyThresholdOverride struct {
	Opcode    string          `yaml:"opcode" json:"opcode"`
	Threshold config.Duration `yaml:"threshold" json:"threshold"`
}

// overrideOpcodes maps Envoy's LatencyThresholdOverride.Opcode names.
var overrideOpcodes = map[string]zk.Opcode{
	"Connect": zk.OpConnect, "Create": zk.OpCreate, "Delete": zk.OpDelete, "Exists": zk.OpExists,
	"GetData": zk.OpGetData, "SetData": zk.OpSetData, "GetAcl": zk.OpGetACL, "SetAcl": zk.OpSetACL,
	"GetChildren": zk.OpGetChildren, "Sync": zk.OpSync, "Ping": zk.OpPing, "GetChildren2": zk.OpGetChildren2,
	"Check": zk.OpCheck, "Multi": zk.OpMulti, "Create2": zk.OpCreate2, "Reconfig": zk.OpReconfig,
	"CheckWatches": zk.OpCheckWatches, "RemoveWatches": zk.OpRemoveWatches,
	"CreateContainer": zk.OpCreateContainer, "CreateTtl": zk.OpCreateTTL, "Close": zk.OpClose,
	"SetAuth": zk.OpSetAuth, "SetWatches": zk.OpSetWatches, "GetEphemerals": zk.OpGetEphemerals,
	"GetAllChildrenNumber": zk.OpGetAllChildrenNumber, "SetWatches2": zk.OpSetWatches2, "AddWatch": zk.OpAddWatch,
}

// NewConfig returns a config with Envoy's defaults.
func NewConfig() *Config {
	return &Config{MaxPacketBytes: zk.DefaultMaxPacketBytes, DefaultLatencyThreshold: config.Duration(DefaultLatencyThreshold)}
}

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	if c.MaxPacketBytes == 0 {
		errs.Add(config.Join(path, "max_packet_bytes"), "must be positive")
	}
	if c.MaxPacketBytes > 1<<30 {
		errs.Add(config.Join(path, "max_packet_bytes"), "at most 1 GiB, got %d", c.MaxPacketBytes)
	}
	seen := map[string]bool{}
	for i, o := range c.LatencyThresholdOverrides {
		p := config.Index(config.Join(path, "latency_threshold_overrides"), i)
		if _, ok := overrideOpcodes[o.Opcode]; !ok {
			errs.Add(config.Join(p, "opcode"), "unknown opcode %q (Envoy's names: Connect, Create, GetData, ...)", o.Opcode)
		}
		if seen[o.Opcode] {
			errs.Add(config.Join(p, "opcode"), "opcode %q overridden twice", o.Opcode)
		}
		seen[o.Opcode] = true
		if o.Threshold.D() <= 0 {
			errs.Add(config.Join(p, "threshold"), "must be positive")
		}
	}
}

// thresholds returns the threshold per opcode.
func (c *Config) thresholds() map[zk.Opcode]time.Duration {
	out := make(map[zk.Opcode]time.Duration, len(c.LatencyThresholdOverrides))
	for _, o := range c.LatencyThresholdOverrides {
		out[overrideOpcodes[o.Opcode]] = o.Threshold.D()
	}
	return out
}
