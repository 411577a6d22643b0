package testenv

// CAFile returns the PEM file of the server's self-signed certificate, which
// is its own CA (MariaDBTLS), for clients and proxies that verify it by
// file; "" when TLS is off or the server is external.
func (s *MariaDBServer) CAFile() string {
	if s.c.cert == nil {
		return ""
	}
	return s.c.path("server.crt")
}
