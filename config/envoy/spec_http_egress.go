package envoy

// egressSpecs: the egress pieces of the HTTP route tables: CONNECT
// matching and the per-route upgrade configs that turn CONNECT into a
// tunnel.
var egressSpecs = []message{
	{name: "envoy.config.route.v3.RouteMatch.ConnectMatcher", fields: nil},
	{name: "envoy.config.route.v3.RouteAction.UpgradeConfig", fields: []field{
		okNote("upgrade_type", "CONNECT tunnels; websocket and others are recorded (every route forwards Upgrade requests)"),
		okNote("enabled", "true when unset"),
		okNote("connect_config", "only empty: sluice terminates CONNECT and tunnels the payload"),
	}},
	{name: "envoy.config.route.v3.RouteAction.UpgradeConfig.ConnectConfig", fields: nil,
		note: "proxy_protocol_config and allow_post are refused"},
}
