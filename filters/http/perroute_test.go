package httpfilter

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
)

type prConfig struct {
	Limit int `yaml:"limit"`
}

func (c *prConfig) Validate(path string, errs *config.Errors) {
	if c.Limit <= 0 {
		errs.Add(config.Join(path, "limit"), "must be positive")
	}
}

// Each entry is built once and keeps its value; a bad one fails with its
// path every time.
func TestPerRoute(t *testing.T) {
	builds := 0
	p := PerRoute[*int]{
		NewConfig: func() any { return &prConfig{} },
		Build: func(cfg any) (*int, error) {
			builds++
			n := cfg.(*prConfig).Limit
			return &n, nil
		},
	}
	a, b := map[string]any{"limit": 3}, map[string]any{"limit": 3}
	va, err := p.Get("x", a)
	if err != nil || *va != 3 {
		t.Fatalf("got %v %v", va, err)
	}
	if again, _ := p.Get("x", a); again != va {
		t.Fatal("the same entry built twice")
	}
	if vb, _ := p.Get("x", b); vb == va {
		t.Fatal("two entries share one value")
	}
	if builds != 2 {
		t.Fatalf("builds %d", builds)
	}
	for _, bad := range []any{map[string]any{"limit": 0}, map[string]any{"nope": 1}, "scalar"} {
		if _, err := p.Get("x", bad); err == nil || !strings.Contains(err.Error(), "typed_per_filter_config.x") {
			t.Errorf("%v: got %v", bad, err)
		}
	}
}

// FuzzPerRoute decodes arbitrary typed_per_filter_config entries (YAML as
// the route table keeps it, seeded from the filters' tests): a bad entry
// is an error, never a panic.
func FuzzPerRoute(f *testing.F) {
	for _, s := range []string{"limit: 3", "limit: 0", "nope: 1", "limit: [1, 2]", "{limit: {a: b}}", "limit: 99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var raw any
		if yaml.Unmarshal([]byte(doc), &raw) != nil {
			return
		}
		p := PerRoute[*prConfig]{
			NewConfig: func() any { return &prConfig{} },
			Build:     func(cfg any) (*prConfig, error) { return cfg.(*prConfig), nil },
		}
		if v, err := p.Get("x", raw); err == nil && v.Limit <= 0 {
			t.Fatalf("invalid config accepted: %+v", v)
		}
	})
}
