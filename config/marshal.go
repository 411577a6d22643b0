package config

import (
	"encoding/json"

	"go.yaml.in/yaml/v3"
)

// MarshalYAML renders c as sluice's YAML, which Parse reads back into the
// same config (sluice convert --to sluice). Defaults are written out, and
// file paths as they were resolved (against the source file's directory).
func MarshalYAML(c *Config) ([]byte, error) {
	js, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	// JSON is YAML: a node keeps the fields in the model's order.
	var n yaml.Node
	if err := yaml.Unmarshal(js, &n); err != nil {
		return nil, err
	}
	plainStyle(&n)
	return yaml.Marshal(&n)
}

// plainStyle drops JSON's flow style and quotes, so the output reads as
// block YAML.
func plainStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plainStyle(c)
	}
}
