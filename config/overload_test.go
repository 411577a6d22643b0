package config_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

const overloadGood = `
listeners:
  - name: l
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters:
  - {name: c, endpoints: ["127.0.0.1:1"]}
overload_manager:
  refresh_interval: 250ms
  resource_monitors:
    - name: envoy.resource_monitors.fixed_heap
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig
        max_heap_size_bytes: 2147483648
  actions:
    - name: envoy.overload_actions.stop_accepting_connections
      triggers:
        - name: envoy.resource_monitors.fixed_heap
          threshold: {value: 0.95}
    - name: envoy.overload_actions.reset_high_memory_stream
      triggers:
        - name: envoy.resource_monitors.fixed_heap
          scaled: {scaling_threshold: 0.85, saturation_threshold: 0.95}
  buffer_factory_config: {minimum_account_to_track_power_of_two_bytes: 16}
`

func TestOverloadManagerParse(t *testing.T) {
	c, err := config.Parse("o.yaml", []byte(overloadGood))
	if err != nil {
		t.Fatal(err)
	}
	o := c.OverloadManager
	if o.RefreshInterval.D() != 250*time.Millisecond || o.ResourceMonitors[0].TypedConfig.MaxHeapSizeBytes != 2<<30 ||
		o.Actions[1].Triggers[0].Scaled.SaturationThreshold != 0.95 || o.MinTrackedPowerOfTwo() != 16 {
		t.Fatalf("decoded %+v", o)
	}
	j, err := json.Marshal(o.ResourceMonitors[0])
	if err != nil || !strings.Contains(string(j), `"typed_config":{"@type":"type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig","max_heap_size_bytes":2147483648}`) {
		t.Fatalf("json: %s %v", j, err)
	}
	d, err := config.Parse("o.yaml", []byte(strings.Replace(overloadGood, "refresh_interval: 250ms", "", 1)))
	if err != nil || d.OverloadManager.RefreshInterval.D() != time.Second {
		t.Fatalf("default refresh_interval: %v %v", d, err)
	}
}

func TestOverloadManagerErrors(t *testing.T) {
	tests := []struct {
		name    string
		replace [2]string
		wantErr string
	}{
		{"unknown monitor", [2]string{"- name: envoy.resource_monitors.fixed_heap\n      typed", "- name: envoy.resource_monitors.cpu\n      typed"},
			`overload_manager.resource_monitors[0].name: unknown resource monitor "envoy.resource_monitors.cpu"`},
		{"zero heap", [2]string{"max_heap_size_bytes: 2147483648", "max_heap_size_bytes: 0"},
			`overload_manager.resource_monitors[0].typed_config.max_heap_size_bytes: must be positive`},
		{"bad type url", [2]string{"fixed_heap.v3.FixedHeapConfig", "fixed_heap.v3.Other"},
			`overload_manager.resource_monitors[0].typed_config.@type: want type.googleapis.com/`},
		{"unknown action", [2]string{"stop_accepting_connections", "stop_accepting_requests"},
			`overload_manager.actions[0].name: unknown overload action "envoy.overload_actions.stop_accepting_requests"`},
		{"dangling trigger", [2]string{"- name: envoy.resource_monitors.fixed_heap\n          threshold", "- name: heap\n          threshold"},
			`overload_manager.actions[0].triggers[0].name: no such resource monitor "heap"`},
		{"threshold range", [2]string{"value: 0.95", "value: 95"},
			`overload_manager.actions[0].triggers[0].threshold.value: must be 0..1, got 95`},
		{"scaled order", [2]string{"scaling_threshold: 0.85", "scaling_threshold: 0.99"},
			`overload_manager.actions[1].triggers[0].scaled: scaling_threshold (0.99) must be below saturation_threshold (0.95)`},
		{"both triggers", [2]string{"threshold: {value: 0.95}", "threshold: {value: 0.95}\n          scaled: {scaling_threshold: 0.1, saturation_threshold: 0.2}"},
			`overload_manager.actions[0].triggers[0]: give exactly one of threshold and scaled`},
		{"duplicate action", [2]string{"reset_high_memory_stream", "stop_accepting_connections"},
			`overload_manager.actions[1].name: duplicate overload action`},
		{"power range", [2]string{"bytes: 16", "bytes: 60"},
			`overload_manager.buffer_factory_config.minimum_account_to_track_power_of_two_bytes: must be 10..55, got 60`},
		{"zero connections", [2]string{"resource_monitors:\n", "resource_monitors:\n    - {name: envoy.resource_monitors.global_downstream_max_connections, typed_config: {max_active_downstream_connections: 0}}\n"},
			`overload_manager.resource_monitors[0].typed_config.max_active_downstream_connections: must be positive`},
		{"no typed_config", [2]string{"resource_monitors:\n", "resource_monitors:\n    - {name: envoy.resource_monitors.global_downstream_max_connections}\n"},
			`overload_manager.resource_monitors[0].typed_config: required`},
		{"other monitor's field", [2]string{"max_heap_size_bytes: 2147483648", "max_heap_size_bytes: 2147483648\n        max_active_downstream_connections: 5"},
			`overload_manager.resource_monitors[0].typed_config.max_active_downstream_connections: not a field of envoy.resource_monitors.fixed_heap`},
		{"unknown typed field", [2]string{"max_heap_size_bytes: 2147483648", "max_heap_size_bytes: 2147483648\n        max_heap: 5"},
			`overload_manager.resource_monitors[0].typed_config.max_heap: unknown field`},
		{"unknown field", [2]string{"refresh_interval: 250ms", "refresh_every: 250ms"},
			`overload_manager.refresh_every: unknown field`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(overloadGood, tc.replace[0], tc.replace[1], 1)
			if src == overloadGood {
				t.Fatalf("replacement %q not found", tc.replace[0])
			}
			_, err := config.Parse("bad.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.wantErr)
			}
		})
	}
}
