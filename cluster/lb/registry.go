package lb

import (
	"fmt"
	"slices"
	"sync"
)

// Config is a policy's typed configuration.
type Config interface {
	// Validate reports every invalid field; nil when the config is usable.
	Validate() error
}

// Factory registers one policy: its config name, a constructor of its
// default config, and a constructor of the policy from a config.
type Factory struct {
	// Name is the lb_policy value, such as "ring_hash".
	Name string
	// NewConfig returns a config holding the policy's defaults, to decode
	// user config into.
	NewConfig func() Config
	// New validates cfg (of NewConfig's type) and builds the policy.
	New func(cfg Config) (Policy, error)
	// ConfigField is the cluster field that holds the policy's config, as
	// Envoy names it ("ring_hash_lb_config"); empty when it has none.
	ConfigField string
}

var registry struct {
	sync.RWMutex
	m map[string]Factory
}

// Register adds a policy factory. It panics on an empty name, a missing
// constructor or a duplicate name: those are programming errors.
func Register(f Factory) {
	if f.Name == "" || f.NewConfig == nil || f.New == nil {
		panic(fmt.Sprintf("lb: Register: incomplete factory %q", f.Name))
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.m == nil {
		registry.m = make(map[string]Factory)
	}
	if _, dup := registry.m[f.Name]; dup {
		panic(fmt.Sprintf("lb: Register: duplicate policy %q", f.Name))
	}
	registry.m[f.Name] = f
	registerConfig(f)
}

// Lookup returns the factory registered under name, or an error naming the
// known policies.
func Lookup(name string) (Factory, error) {
	registry.RLock()
	f, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return Factory{}, fmt.Errorf("lb: unknown policy %q (known: %v)", name, Names())
	}
	return f, nil
}

// New builds the named policy from cfg; a nil cfg means the defaults.
func New(name string, cfg Config) (Policy, error) {
	f, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = f.NewConfig()
	}
	return f.New(cfg)
}

// Names returns the registered policy names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// configAs converts a Config to the policy's own type.
func configAs[T any, PT interface {
	*T
	Config
}](name string, cfg Config) (*T, error) {
	switch c := cfg.(type) {
	case PT:
		if c == nil {
			return nil, fmt.Errorf("lb: %s: nil config", name)
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("lb: %s: %w", name, err)
		}
		return (*T)(c), nil
	default:
		return nil, fmt.Errorf("lb: %s: config is %T, want %T", name, cfg, PT(nil))
	}
}

func init() {
	Register(Factory{Name: RoundRobinName, NewConfig: func() Config { return DefaultRoundRobinConfig() },
		New: func(c Config) (Policy, error) {
			cfg, err := configAs[RoundRobinConfig](RoundRobinName, c)
			if err != nil {
				return nil, err
			}
			return NewRoundRobin(*cfg)
		}})
	Register(Factory{Name: RandomName, NewConfig: func() Config { return DefaultRandomConfig() },
		New: func(c Config) (Policy, error) {
			cfg, err := configAs[RandomConfig](RandomName, c)
			if err != nil {
				return nil, err
			}
			return NewRandom(*cfg)
		}})
	Register(Factory{Name: LeastRequestName, ConfigField: "least_request_lb_config", NewConfig: func() Config { return DefaultLeastRequestConfig() },
		New: func(c Config) (Policy, error) {
			cfg, err := configAs[LeastRequestConfig](LeastRequestName, c)
			if err != nil {
				return nil, err
			}
			return NewLeastRequest(*cfg)
		}})
	Register(Factory{Name: RingHashName, ConfigField: "ring_hash_lb_config", NewConfig: func() Config { return DefaultRingHashConfig() },
		New: func(c Config) (Policy, error) {
			cfg, err := configAs[RingHashConfig](RingHashName, c)
			if err != nil {
				return nil, err
			}
			return NewRingHash(*cfg)
		}})
	Register(Factory{Name: MaglevName, ConfigField: "maglev_lb_config", NewConfig: func() Config { return DefaultMaglevConfig() },
		New: func(c Config) (Policy, error) {
			cfg, err := configAs[MaglevConfig](MaglevName, c)
			if err != nil {
				return nil, err
			}
			return NewMaglev(*cfg)
		}})
}
