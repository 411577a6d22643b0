package filters

import "github.com/sluice-proxy/sluice/config"

// Factories are filter factories known to one server only (proxy.Filters),
// looked up before the package registry. Tests build servers with their own
// filters this way instead of registering them in init, which would share
// them with every test of the binary and stop tests running in parallel.
type Factories []Factory

// Lookup returns the factory named name: one of fs, else the registered one.
func (fs Factories) Lookup(name string) (Factory, bool) {
	for _, f := range fs {
		if f.Name() == name {
			return f, true
		}
	}
	return Lookup(name)
}

// ConfigTypes returns what the config loader must know of fs
// (config.ParseFilters).
func (fs Factories) ConfigTypes() []config.FilterType {
	out := make([]config.FilterType, 0, len(fs))
	for _, f := range fs {
		out = append(out, configType(f))
	}
	return out
}

// configType is the config loader's view of a factory.
func configType(f Factory) config.FilterType {
	return config.FilterType{Name: f.Name(), Terminal: f.Kind() == Terminal, NewConfig: f.NewConfig}
}
