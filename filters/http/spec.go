package httpfilter

import (
	"encoding/json"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
)

// Spec is one entry of http_filters: written as a one-key mapping of the
// filter's registered name to its typed config ("- router: {}").
type Spec struct {
	Name   string `json:"name"`
	Config any    `json:"config"`
}

// DecodeNode decodes "{name: {config...}}" with the HTTP filter registry.
func (s *Spec) DecodeNode(d *config.Decoder, path string, n *yaml.Node) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		d.Errs.AddLine(path, n.Line, "an HTTP filter is a mapping with exactly one key, the filter name")
		return
	}
	s.Name = n.Content[0].Value
	f, ok := Lookup(s.Name)
	if !ok {
		d.Errs.AddLine(config.Join(path, s.Name), n.Line, "unknown HTTP filter %q (known: %v)", s.Name, Names())
		return
	}
	s.Config = f.NewConfig()
	d.Decode(config.Join(path, s.Name), n.Content[1], s.Config)
}

// MarshalJSON writes the entry in its config form, a one-key mapping of
// the filter's name to its config, so that a marshalled config loads again.
func (s Spec) MarshalJSON() ([]byte, error) {
	cfg := s.Config
	if cfg == nil {
		cfg = struct{}{}
	}
	return json.Marshal(map[string]any{s.Name: cfg})
}
