// Package testenv starts real datastore servers (redis-server, a Redis
// Cluster, PostgreSQL, MariaDB, ZooKeeper) and a TCP echo server on free
// loopback ports in private temp dirs, for sluice's integration tests.
//
// Every helper takes the test's testing.TB, waits for the server to answer a
// real client (polling, never a fixed sleep) and registers its shutdown with
// t.Cleanup. Servers that take seconds to start have a Shared variant that is
// started once per test binary and stopped by Main, which a package's TestMain
// must call.
//
// Typical use:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
//	func TestProxy(t *testing.T) {
//		up := testenv.Redis(t)                 // private: may Kill/Restart
//		pg := testenv.SharedPostgres(t)        // once per binary: CreateDB
//		dsn := pg.CreateDB("proxy_test")
//		up.Kill()
//		poll.Eventually(t, 5*time.Second, func() bool { ... }, "failover")
//	}
//
// Handle methods report to the test that obtained the handle; obtain the
// handle in the (sub)test that breaks the server.
//
// A missing server binary fails the test and names the Debian package to
// install: CI installs them (.ci/run), so a silent skip would hide a gap.
//
// When SLUICE_TEST_REDIS_ADDR, SLUICE_TEST_POSTGRES_DSN, SLUICE_TEST_MYSQL_DSN
// or SLUICE_TEST_ZOOKEEPER_ADDR is set (for example against the
// docker-compose stack), the matching helper returns a handle to that server
// instead of starting one; Kill, Stop and Restart then skip the test.
//
// Written by hand: the usual library for this (testcontainers) needs a Docker
// engine, which CI machines here do not have; what remains is process
// supervision over os/exec, a few lines per server.
package testenv
