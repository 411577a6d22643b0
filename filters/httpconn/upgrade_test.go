package httpconn_test

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestUpgradeConfigs: with the connection manager's upgrade_configs, a
// WebSocket echo (coder/websocket both ends) works where websocket is
// listed and enabled; a route's entry with enabled: false refuses it, and
// a route enables what the manager lists disabled; an unlisted type is
// refused. Refusals are 403 and count downstream_rq_ws_on_non_ws_route.
func TestUpgradeConfigs(t *testing.T) {
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, msg, err := c.Read(r.Context())
		if err == nil {
			c.Write(r.Context(), typ, append([]byte("echo:"), msg...))
		}
	})
	routes := `[{match: {prefix: "/off"}, route: {cluster: c, upgrade_configs: [{upgrade_type: websocket, enabled: false}]}},
 {match: {prefix: "/"}, route: {cluster: c}}]`
	dial := func(s string, path string) (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, "ws://"+s+path, nil)
		if err != nil {
			if resp != nil {
				return resp.StatusCode, err
			}
			return 0, err
		}
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
			return 101, err
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != "echo:hi" {
			return 101, err
		}
		c.Close(websocket.StatusNormalClosure, "")
		return 101, nil
	}
	s := featSluice(t, routes, "", "upgrade_configs: [{upgrade_type: websocket}]", plainCluster("c", "", be.addr()))
	if code, err := dial(s.Addr("l"), "/ws"); code != 101 || err != nil {
		t.Fatalf("websocket listed: %d %v", code, err)
	}
	if code, _ := dial(s.Addr("l"), "/off"); code != 403 {
		t.Fatalf("route disabled: %d, want 403", code)
	}
	s.WaitCounter("http.ingress.downstream_rq_ws_on_non_ws_route", 1, 5*time.Second)

	onRoutes := `[{match: {prefix: "/on"}, route: {cluster: c, upgrade_configs: [{upgrade_type: WebSocket}]}},
 {match: {prefix: "/"}, route: {cluster: c}}]`
	off := featSluice(t, onRoutes, "", "upgrade_configs: [{upgrade_type: websocket, enabled: false}, {upgrade_type: h2c-other}]", plainCluster("c", "", be.addr()))
	if code, _ := dial(off.Addr("l"), "/ws"); code != 403 {
		t.Fatalf("manager disabled: %d, want 403", code)
	}
	if code, err := dial(off.Addr("l"), "/on"); code != 101 || err != nil {
		t.Fatalf("route enables: %d %v", code, err)
	}
	none := featSluice(t, onRoutes, "", "upgrade_configs: [{upgrade_type: spdy/3}]", plainCluster("c", "", be.addr()))
	if code, _ := dial(none.Addr("l"), "/on"); code != 403 {
		t.Fatalf("type not listed by the manager: %d, want 403", code)
	}
}

// TestUpgradeConfigsConnect: once the connection manager lists upgrades,
// CONNECT needs its entry too (curl --proxytunnel to a real server gets
// through with it, 403 without it).
func TestUpgradeConfigsConnect(t *testing.T) {
	be := startBackend(t, echoHandler)
	for _, tc := range []struct {
		upgrades string
		ok       bool
	}{{"[{upgrade_type: CONNECT}]", true}, {"[{upgrade_type: websocket}]", false}} {
		s := featSluice(t, connectRoutes, "", "upgrade_configs: "+tc.upgrades, plainCluster("c", "", be.addr()))
		out, err := exec.Command("curl", "-sS", "--proxytunnel", "--proxy", "http://"+s.Addr("l"),
			"http://"+be.addr()+"/through").CombinedOutput()
		if tc.ok && (err != nil || string(out) != "GET /through ") {
			t.Fatalf("%s: curl %v: %q", tc.upgrades, err, out)
		}
		if !tc.ok {
			if err == nil || !strings.Contains(string(out), "403") {
				t.Fatalf("%s: curl %v: %q, want the CONNECT refused with 403", tc.upgrades, err, out)
			}
			s.WaitCounter("http.ingress.downstream_rq_ws_on_non_ws_route", 1, 5*time.Second)
		}
	}
}
