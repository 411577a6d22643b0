package httpconn

import (
	"net/http"
	"strings"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// UpgradeConfig is Envoy's HttpConnectionManager.UpgradeConfig: an upgrade
// type (websocket, or any Upgrade token) the connection manager allows,
// enabled by default; a route's upgrade_configs entry of the same type
// turns it on or off for that route. Envoy's per-upgrade filters are not
// supported.
type UpgradeConfig struct {
	UpgradeType string `yaml:"upgrade_type" json:"upgrade_type"`
	Enabled     *bool  `yaml:"enabled" json:"enabled,omitempty"`
}

// Validate requires the type.
func (u *UpgradeConfig) Validate(path string, errs *config.Errors) {
	if u.UpgradeType == "" {
		errs.Add(config.Join(path, "upgrade_type"), "required")
	}
}

// upgradeAllowed applies Envoy's upgrade rules to an Upgrade request on
// route rt: the connection manager must list the type; the route's entry,
// if any, decides, else the manager's enabled (CONNECT too: the route's
// connect_matcher alone is not enough once the manager lists upgrades, as
// in Envoy). Without upgrade_configs
// (sluice's own YAML) every upgrade is allowed, as before they existed.
func (m *Manager) upgradeAllowed(r *http.Request, rt *router.Route) bool {
	if len(m.cfg.UpgradeConfigs) == 0 {
		return true
	}
	typ := strings.TrimSpace(r.Header.Get("Upgrade"))
	switch {
	case r.Header.Get(":protocol") != "": // RFC 8441 extended CONNECT
		typ = r.Header.Get(":protocol")
	case router.IsConnect(r):
		typ = "CONNECT"
	}
	for _, u := range m.cfg.UpgradeConfigs {
		if !strings.EqualFold(u.UpgradeType, typ) {
			continue
		}
		if on, set := rt.Upgrade(typ); set {
			return on
		}
		return u.Enabled == nil || *u.Enabled
	}
	return false
}

// refuseUpgrade answers an upgrade the configuration does not allow as
// Envoy does: 403, counted in downstream_rq_ws_on_non_ws_route.
func (m *Manager) refuseUpgrade(w http.ResponseWriter, r *http.Request) {
	m.feat.wsOnNonWSRoute.Inc()
	m.localReply(w, r, http.StatusForbidden, "", httpfilter.Flag(0))
}
