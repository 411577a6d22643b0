package integration

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
)

// rbacFilters refuses everything under secret, and creates (Envoy's
// metadata matcher on opname) under ro.
func rbacFilters(secret, ro string) string {
	return fmt.Sprintf(`      - rbac:
          stat_prefix: guard
          rules:
            action: DENY
            policies:
              no-secret:
                permissions: [{zookeeper: {path_prefix: %s}}]
                principals: [{any: true}]
              no-create-ro:
                permissions:
                  - and_rules:
                      rules:
                        - metadata: {filter: envoy.filters.network.zookeeper_proxy, path: [{key: opname}], value: {string_match: {exact: create}}}
                        - zookeeper: {path_prefix: %s}
                principals: [{any: true}]
`, secret, ro)
}

// TestZooKeeperRBACDeniesPath: refused requests get NOAUTH in order, pipelined
// with allowed ones from many goroutines, and the session stays usable.
func TestZooKeeperRBACDeniesPath(t *testing.T) {
	srv := testenv.ZooKeeper(t)
	modesGated(t, true, func(t *testing.T, opt proxy.Option) *sluicetest.Sluice {
		base := fmt.Sprintf("/rbac-%d", time.Now().UnixNano())
		secret, ro := base+"-secret", base+"-ro"
		s := sluicetest.StartWith(t, zkYAML(srv.Addr(), "", rbacFilters(secret, ro)), opt)
		direct := connect(t, srv.Addr(), nil)
		must(direct.Create(secret, []byte("hidden"), 0, acl))
		must(direct.Create(ro, []byte("open"), 0, acl))

		c := connect(t, s.Addr("zk"), nil)
		if _, _, err := c.Get(secret); !errors.Is(err, zk.ErrNoAuth) {
			t.Fatalf("get %s: %v, want ErrNoAuth", secret, err)
		}
		if _, _, err := c.Exists(secret + "/child"); !errors.Is(err, zk.ErrNoAuth) {
			t.Fatalf("exists under secret: %v", err)
		}
		if b, _ := must2(c.Get(ro)); string(b) != "open" {
			t.Fatalf("get ro = %q", b)
		}
		if _, err := c.Create(ro+"/new", nil, 0, acl); !errors.Is(err, zk.ErrNoAuth) {
			t.Fatalf("create under ro: %v", err)
		}
		must(c.Set(ro, []byte("changed"), -1))
		// A multi with one refused operation is refused whole.
		if _, err := c.Multi(&zk.SetDataRequest{Path: ro, Data: []byte("multi"), Version: -1},
			&zk.SetDataRequest{Path: secret, Data: []byte("x"), Version: -1}); !errors.Is(err, zk.ErrNoAuth) {
			t.Fatalf("multi: %v", err)
		}
		if b, _ := must2(direct.Get(secret)); string(b) != "hidden" {
			t.Fatalf("secret changed to %q", b)
		}
		// Pipelined: 40 requests from 20 goroutines on the one session.
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := c.Get(secret); !errors.Is(err, zk.ErrNoAuth) {
					errs <- fmt.Errorf("pipelined get secret: %v", err)
				}
				if b, _, err := c.Get(ro); err != nil || string(b) != "changed" {
					errs <- fmt.Errorf("pipelined get ro: %q, %v", b, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		// Still usable.
		if ok, _ := must2(c.Exists(ro)); !ok {
			t.Fatal("session unusable after refusals")
		}
		const denied = 1 + 1 + 1 + 1 + 20
		for name, want := range map[string]uint64{
			"guard.rbac.denied": denied, "zk.zookeeper.requests_denied": denied,
			"zk.zookeeper.getdata_rq": 1 + 1 + 40, "zk.zookeeper.getdata_resp": 1 + 1 + 40,
			"zk.zookeeper.exists_rq": 2, "zk.zookeeper.exists_resp": 2,
			"zk.zookeeper.create_rq": 1, "zk.zookeeper.create_resp": 1, "zk.zookeeper.multi_resp": 1,
		} {
			if got := s.Counter(name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
		return s
	})
}
