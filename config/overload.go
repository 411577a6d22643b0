package config

import "time"

// Resource monitor and overload action names, Envoy's.
const (
	FixedHeapMonitor             = "envoy.resource_monitors.fixed_heap"
	DownstreamConnectionsMonitor = "envoy.resource_monitors.global_downstream_max_connections"

	ActionStopAcceptingConnections  = "envoy.overload_actions.stop_accepting_connections"
	ActionRejectIncomingConnections = "envoy.overload_actions.reject_incoming_connections"
	ActionShrinkHeap                = "envoy.overload_actions.shrink_heap"
	ActionResetHighMemoryStream     = "envoy.overload_actions.reset_high_memory_stream"
	ActionDisableHTTPKeepalive      = "envoy.overload_actions.disable_http_keepalive"
)

// KnownOverloadActions are the action names sluice acts on.
var KnownOverloadActions = []string{
	ActionStopAcceptingConnections, ActionRejectIncomingConnections, ActionShrinkHeap,
	ActionResetHighMemoryStream, ActionDisableHTTPKeepalive,
}

// Type URLs accepted as typed_config's "@type".
const (
	fixedHeapType    = "type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig"
	downstreamCxType = "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
)

// OverloadManager is Envoy's bootstrap overload_manager
// (envoy.config.overload.v3.OverloadManager): resource monitors measure
// pressure every refresh_interval, and triggers on that pressure set the
// state of actions that shed load.
type OverloadManager struct {
	// RefreshInterval is how often monitors are read. Default 1s, as in Envoy.
	RefreshInterval Duration `yaml:"refresh_interval" json:"refresh_interval"`
	// ResourceMonitors are the pressures measured; names are unique.
	ResourceMonitors []ResourceMonitor `yaml:"resource_monitors" json:"resource_monitors"`
	// Actions are what happens under pressure; names are unique.
	Actions []OverloadAction `yaml:"actions" json:"actions"`
	// BufferFactoryConfig sets which connections reset_high_memory_stream
	// considers.
	BufferFactoryConfig *BufferFactoryConfig `yaml:"buffer_factory_config" json:"buffer_factory_config,omitempty"`
}

// ResourceMonitor is one measured resource; typed_config depends on name.
type ResourceMonitor struct {
	// Name is envoy.resource_monitors.fixed_heap or
	// envoy.resource_monitors.global_downstream_max_connections.
	Name        string         `yaml:"name" json:"name"`
	TypedConfig *MonitorConfig `yaml:"typed_config" json:"typed_config,omitempty"`
}

// MonitorConfig is a resource monitor's typed_config: the fields of the
// monitor its name selects, Envoy's FixedHeapConfig or
// DownstreamConnectionsConfig.
type MonitorConfig struct {
	// Type is the optional "@type" of an Envoy config, checked when given.
	Type string `yaml:"@type" json:"@type,omitempty"`
	// MaxHeapSizeBytes (fixed_heap): pressure is the memory the Go runtime
	// holds for the heap and its own use (not returned to the OS and not
	// free) divided by this.
	MaxHeapSizeBytes uint64 `yaml:"max_heap_size_bytes" json:"max_heap_size_bytes,omitempty"`
	// MaxActiveDownstreamConnections (global_downstream_max_connections), a
	// proactive monitor: listeners refuse a new connection while this many
	// are open across all of them (listener.<addr>.downstream_global_cx_overflow);
	// its pressure, for triggers, is open connections over this.
	MaxActiveDownstreamConnections int64 `yaml:"max_active_downstream_connections" json:"max_active_downstream_connections,omitempty"`
}

// OverloadAction is one action and the triggers that set its state: the
// largest of its triggers' values (0 inactive, 1 saturated).
type OverloadAction struct {
	Name     string            `yaml:"name" json:"name"`
	Triggers []OverloadTrigger `yaml:"triggers" json:"triggers"`
}

// OverloadTrigger ties an action to one monitor's pressure; exactly one of
// threshold and scaled.
type OverloadTrigger struct {
	// Name is the resource monitor's name.
	Name      string            `yaml:"name" json:"name"`
	Threshold *ThresholdTrigger `yaml:"threshold" json:"threshold,omitempty"`
	Scaled    *ScaledTrigger    `yaml:"scaled" json:"scaled,omitempty"`
}

// ThresholdTrigger saturates at pressure >= value, and is 0 below.
type ThresholdTrigger struct {
	Value float64 `yaml:"value" json:"value"`
}

// ScaledTrigger is 0 up to scaling_threshold, then grows linearly and
// saturates above saturation_threshold.
type ScaledTrigger struct {
	ScalingThreshold    float64 `yaml:"scaling_threshold" json:"scaling_threshold"`
	SaturationThreshold float64 `yaml:"saturation_threshold" json:"saturation_threshold"`
}

// BufferFactoryConfig is Envoy's BufferFactoryConfig.
type BufferFactoryConfig struct {
	// MinimumAccountToTrackPowerOfTwoBytes: connections holding fewer than
	// 2^this buffered bytes are never reset by reset_high_memory_stream;
	// 10..55. Default 20 (1 MiB) when unset (Envoy then tracks nothing).
	MinimumAccountToTrackPowerOfTwoBytes uint32 `yaml:"minimum_account_to_track_power_of_two_bytes" json:"minimum_account_to_track_power_of_two_bytes"`
}

// SetDefaults fills Envoy's refresh interval.
func (o *OverloadManager) SetDefaults() { o.RefreshInterval = Duration(time.Second) }

// MinTrackedPowerOfTwo returns the buffer_factory_config power, or 20.
func (o *OverloadManager) MinTrackedPowerOfTwo() uint32 {
	if o.BufferFactoryConfig == nil || o.BufferFactoryConfig.MinimumAccountToTrackPowerOfTwoBytes == 0 {
		return 20
	}
	return o.BufferFactoryConfig.MinimumAccountToTrackPowerOfTwoBytes
}

// Validate checks the name and that typed_config holds that monitor's
// fields.
func (r *ResourceMonitor) Validate(path string, errs *Errors) {
	tp := Join(path, "typed_config")
	tc := r.TypedConfig
	if tc == nil && (r.Name == FixedHeapMonitor || r.Name == DownstreamConnectionsMonitor) {
		errs.Add(tp, "required")
		return
	}
	var wantType string
	switch r.Name {
	case FixedHeapMonitor:
		wantType = fixedHeapType
		if tc.MaxHeapSizeBytes == 0 {
			errs.Add(Join(tp, "max_heap_size_bytes"), "must be positive")
		}
		if tc.MaxActiveDownstreamConnections != 0 {
			errs.Add(Join(tp, "max_active_downstream_connections"), "not a field of %s", r.Name)
		}
	case DownstreamConnectionsMonitor:
		wantType = downstreamCxType
		if tc.MaxActiveDownstreamConnections <= 0 {
			errs.Add(Join(tp, "max_active_downstream_connections"), "must be positive")
		}
		if tc.MaxHeapSizeBytes != 0 {
			errs.Add(Join(tp, "max_heap_size_bytes"), "not a field of %s", r.Name)
		}
	case "":
		errs.Add(Join(path, "name"), "required")
		return
	default:
		errs.Add(Join(path, "name"), "unknown resource monitor %q (known: %s, %s)", r.Name,
			FixedHeapMonitor, DownstreamConnectionsMonitor)
		return
	}
	if tc.Type != "" && tc.Type != wantType {
		errs.Add(Join(tp, "@type"), "want %s, got %q", wantType, tc.Type)
	}
}

// Validate checks one trigger's own values.
func (t *OverloadTrigger) Validate(path string, errs *Errors) {
	if t.Name == "" {
		errs.Add(Join(path, "name"), "required: a resource monitor's name")
	}
	switch {
	case (t.Threshold == nil) == (t.Scaled == nil):
		errs.Add(path, "give exactly one of threshold and scaled")
	case t.Threshold != nil:
		if t.Threshold.Value < 0 || t.Threshold.Value > 1 {
			errs.Add(Join(path, "threshold.value"), "must be 0..1, got %g", t.Threshold.Value)
		}
	default:
		s := t.Scaled
		if s.ScalingThreshold < 0 || s.ScalingThreshold > 1 {
			errs.Add(Join(path, "scaled.scaling_threshold"), "must be 0..1, got %g", s.ScalingThreshold)
		}
		if s.SaturationThreshold < 0 || s.SaturationThreshold > 1 {
			errs.Add(Join(path, "scaled.saturation_threshold"), "must be 0..1, got %g", s.SaturationThreshold)
		}
		if s.ScalingThreshold >= s.SaturationThreshold {
			errs.Add(Join(path, "scaled"), "scaling_threshold (%g) must be below saturation_threshold (%g)",
				s.ScalingThreshold, s.SaturationThreshold)
		}
	}
}

// Validate checks the cross references: unique names, known actions,
// triggers naming configured monitors.
func (o *OverloadManager) Validate(path string, errs *Errors) {
	if o.RefreshInterval <= 0 {
		errs.Add(Join(path, "refresh_interval"), "must be positive")
	}
	monitors := map[string]bool{}
	for i, m := range o.ResourceMonitors {
		if m.Name != "" && monitors[m.Name] {
			errs.Add(Join(Index(Join(path, "resource_monitors"), i), "name"), "duplicate resource monitor %q", m.Name)
		}
		monitors[m.Name] = true
	}
	known := map[string]bool{}
	for _, a := range KnownOverloadActions {
		known[a] = true
	}
	actions := map[string]bool{}
	for i, a := range o.Actions {
		ap := Index(Join(path, "actions"), i)
		switch {
		case a.Name == "":
			errs.Add(Join(ap, "name"), "required")
		case !known[a.Name]:
			errs.Add(Join(ap, "name"), "unknown overload action %q (known: %v)", a.Name, KnownOverloadActions)
		case actions[a.Name]:
			errs.Add(Join(ap, "name"), "duplicate overload action %q", a.Name)
		}
		actions[a.Name] = true
		if len(a.Triggers) == 0 {
			errs.Add(Join(ap, "triggers"), "an action needs at least one trigger")
		}
		seen := map[string]bool{}
		for j, t := range a.Triggers {
			tp := Join(Index(Join(ap, "triggers"), j), "name")
			if t.Name != "" && !monitors[t.Name] {
				errs.Add(tp, "no such resource monitor %q", t.Name)
			}
			if seen[t.Name] {
				errs.Add(tp, "resource monitor %q triggers this action twice", t.Name)
			}
			seen[t.Name] = true
		}
	}
	if b := o.BufferFactoryConfig; b != nil {
		if v := b.MinimumAccountToTrackPowerOfTwoBytes; v < 10 || v > 55 {
			errs.Add(Join(path, "buffer_factory_config.minimum_account_to_track_power_of_two_bytes"), "must be 10..55, got %d", v)
		}
	}
}
