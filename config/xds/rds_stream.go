package xds

import "fmt"

// planRDS adds a per-type RDS stream (RouteDiscoveryService) when routes
// can come over one: http_connection_manager `rds` with an
// api_config_source. Listeners that arrive by LDS are not known when the
// plan is made, so the stream follows LDS's own per-type source (as EDS
// follows CDS's): the same management cluster and api_type. Without a
// per-type LDS stream, the first static listener naming an RDS
// api_config_source gives the stream. A listener whose api_config_source
// names another management cluster is served by this one stream all the
// same (one RDS stream per client, as Envoy shares one gRPC mux per
// source); the stream asks only for names, so nothing else is affected.
func (c *Client) planRDS(p *plan, ldsVia *stream) error {
	if ldsVia != nil && ldsVia.name == "lds" {
		r := *ldsVia
		r.name, r.types, r.bucket = "rds", []string{RouteType}, nil
		p.streams = append(p.streams, &r)
		return nil
	}
	for i, l := range c.o.Bootstrap.GetStaticResources().GetListeners() {
		for _, fc := range chains(l) {
			for j, f := range fc.GetFilters() {
				h := hcmOf(f)
				api := h.GetRds().GetConfigSource().GetApiConfigSource()
				if api == nil {
					continue
				}
				path := fmt.Sprintf("static_resources.listeners[%d].filter_chains[..].filters[%d].typed_config.rds.config_source.api_config_source", i, j)
				s, err := newStream("rds", api, path)
				if err != nil {
					return err
				}
				s.types = []string{RouteType}
				p.streams = append(p.streams, s)
				return nil
			}
		}
	}
	return nil
}
