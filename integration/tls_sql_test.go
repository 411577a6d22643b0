package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// sqlTLS is a terminate_ssl context in Envoy's shape: client certificates
// of the test CA required.
func (p *pki) sqlTLS() string {
	return fmt.Sprintf(`{require_client_certificate: true, common_tls_context: {tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}], validation_context: {trusted_ca: {filename: %s}}}}`,
		p.srvCert, p.srvKey, p.caFile)
}

// rbacApp allows only the shop app's SPIFFE ID (authenticated principal).
const rbacApp = `      - rbac:
          stat_prefix: mtls
          rules:
            action: ALLOW
            policies:
              shop-app:
                permissions: [{any: true}]
                principals: [{authenticated: {principal_name: {exact: "spiffe://sluice.test/ns/shop/sa/app"}}}]
`

// TestPsqlVerifyFullMTLS: psql with sslmode=verify-full and a client
// certificate through postgres_proxy's terminate_ssl; rbac, placed before
// postgres_proxy, decides on the certificate's SPIFFE ID after the TLS
// handshake: the app gets in, a certificate of the same CA with another
// identity is refused by rbac.
func TestPsqlVerifyFullMTLS(t *testing.T) {
	pg := testenv.Postgres(t)
	p := newPKI(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: pg
    address: 127.0.0.1:0
    filters:
%s      - postgres_proxy: {stat_prefix: pg, terminate_ssl: true, tls: %s}
      - tcp_proxy: {stat_prefix: pg, cluster: pg}
clusters:
%s`, rbacApp, p.sqlTLS(), pgCluster("pg", pg.Addr())))
	host, port, _ := net.SplitHostPort(s.Addr("pg"))
	psql := func(client string) (string, error) {
		conn := fmt.Sprintf("host=localhost hostaddr=%s port=%s user=%s dbname=postgres sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s connect_timeout=5",
			host, port, testenv.PostgresUser, p.caFile, p.clients[client][0], p.clients[client][1])
		cmd := exec.Command("psql", "-X", "-At", conn, "-c", "SELECT 'verified'")
		cmd.Env = append(os.Environ(), "PGPASSWORD="+testenv.PostgresPassword)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := psql("good"); err != nil || out != "verified" {
		t.Fatalf("psql verify-full with the app's certificate: %v %q", err, out)
	}
	if out, err := psql("wrong-san"); err == nil {
		t.Fatalf("psql with another identity got in: %q", out)
	}
	s.WaitCounter("mtls.rbac.denied", 1, 5*time.Second)
	s.WaitCounter("mtls.rbac.allowed", 1, 5*time.Second)
}

// TestMariaDBVerifyServerCertMTLS: the mariadb client with
// --ssl-verify-server-cert and a client certificate through mysql_proxy's
// terminate_ssl; rbac before mysql_proxy checks the SPIFFE ID after the
// TLS upgrade (mysql_proxy upgrades mid-stream, after the greeting).
func TestMariaDBVerifyServerCertMTLS(t *testing.T) {
	srv := testenv.MariaDB(t)
	p := newPKI(t)
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), ", terminate_ssl: "+p.sqlTLS(), rbacApp))
	host, port, _ := net.SplitHostPort(s.Addr("mysql"))
	cli := func(client string) (string, error) {
		cmd := exec.Command("mariadb", "--no-defaults", "--protocol=tcp", "-h", host, "-P", port, "-u", "root",
			"--batch", "--skip-column-names", "--ssl", "--ssl-ca", p.caFile, "--ssl-cert", p.clients[client][0],
			"--ssl-key", p.clients[client][1], "--ssl-verify-server-cert", "-e", "SELECT 'verified'")
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := cli("good"); err != nil || out != "verified" {
		t.Fatalf("mariadb --ssl-verify-server-cert with the app's certificate: %v %q", err, out)
	}
	if out, err := cli("wrong-san"); err == nil {
		t.Fatalf("mariadb with another identity got in: %q", out)
	}
	s.WaitCounter("mtls.rbac.denied", 1, 5*time.Second)
	s.WaitCounter("mtls.rbac.allowed", 1, 5*time.Second)
}
