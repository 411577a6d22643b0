package compressor

import (
	"net/http"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// EnvoyName is Envoy's filter name, also accepted as the
// typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.compressor"

// PerRoute is Envoy's CompressorPerRoute with its disabled field: a route or
// virtual host can turn response compression off (overrides are not
// supported yet).
type PerRoute struct {
	Disabled bool `yaml:"disabled" json:"disabled,omitempty"`
}

// Validate refuses an empty entry, which Envoy's oneof also refuses.
func (p *PerRoute) Validate(path string, errs *config.Errors) {
	if !p.Disabled {
		errs.Add(config.Join(path, "disabled"), "must be true (overrides are not supported yet)")
	}
}

// disabledFor reports whether r's route turns compression off; a bad entry
// also does, after the filter logged it once.
func (f *Filter) disabledFor(r *http.Request) bool {
	st := httpfilter.FromContext(r.Context())
	if st == nil || st.Route == nil {
		return false
	}
	for _, key := range []string{Name, EnvoyName} {
		if raw := st.Route.PerFilterConfig(key); raw != nil {
			p, err := f.perRoute.Get(key, raw)
			if err != nil {
				f.badRoute.Do(func() { f.log.Error("compressor: bad per-route config", "err", err) })
				return true
			}
			return p.Disabled
		}
	}
	return false
}
