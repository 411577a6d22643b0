package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// File paths in the model are string fields tagged `sluice:"path"` (a file
// sluice reads) or `sluice:"path,out"` (a file it writes, such as an access
// log). The decoder resolves a relative one against the config file's
// directory, so that a config means the same whatever directory sluice is
// started from, and records it for CheckFiles.

// FileChecker is implemented by config types whose files must also parse
// (a certificate and its key). CheckFiles reports problems under path; it
// runs only from Config.CheckFiles, never on Parse.
type FileChecker interface {
	CheckFiles(path string, errs *Errors)
}

type fileRef struct {
	path, file string
	out        bool
}

type fileCheck struct {
	path string
	fc   FileChecker
}

// pathField resolves the path-tagged string field v read at path.
func (d *Decoder) pathField(path, tag string, v reflect.Value) {
	kind, opt, _ := strings.Cut(tag, ",")
	if kind != "path" || v.Kind() != reflect.String || v.String() == "" {
		return
	}
	p := v.String()
	if !filepath.IsAbs(p) && d.Dir != "" {
		p = filepath.Join(d.Dir, p)
		v.SetString(p)
	}
	d.files = append(d.files, fileRef{path: path, file: p, out: opt == "out"})
}

// CheckFiles checks what Parse does not because a config may be parsed
// where it does not run: every file the config reads can be read, every
// file it writes has a directory, and certificates, keys and CA bundles
// parse. It is what `sluice validate` adds to Parse; start and reload fail
// on the same problems when they build the listeners.
func (c *Config) CheckFiles() error {
	errs := &Errors{File: c.source}
	for _, f := range c.files {
		if f.out {
			if st, err := os.Stat(filepath.Dir(f.file)); err != nil || !st.IsDir() {
				errs.Add(f.path, "no directory for %s", f.file)
			}
			continue
		}
		fh, err := os.Open(f.file)
		if err != nil {
			errs.Add(f.path, "%v", unwrapPathError(err))
			continue
		}
		fh.Close()
	}
	for _, ch := range c.checks {
		ch.fc.CheckFiles(ch.path, errs)
	}
	c.locate(errs)
	return errs.Err()
}

// unwrapPathError drops the "open" of an *os.PathError.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// CheckFiles loads the certificate with its key and the client CA bundle,
// as a listener's build does; unreadable files are reported by
// Config.CheckFiles already.
func (t *TLSContext) CheckFiles(path string, errs *Errors) {
	if readable(t.CertificateFile) && readable(t.PrivateKeyFile) {
		if _, err := tls.LoadX509KeyPair(t.CertificateFile, t.PrivateKeyFile); err != nil {
			errs.Add(Join(path, "certificate_file"), "with private_key_file: %v", err)
		}
	}
	if t.ClientCAFile != "" && readable(t.ClientCAFile) {
		pem, _ := os.ReadFile(t.ClientCAFile)
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			errs.Add(Join(path, "client_ca_file"), "no PEM certificate in %s", t.ClientCAFile)
		}
	}
	t.CommonTLSContext.checkFiles(Join(path, "common_tls_context"), errs)
}

func readable(file string) bool {
	fh, err := os.Open(file)
	if err != nil {
		return false
	}
	fh.Close()
	return true
}

var _ FileChecker = (*TLSContext)(nil)

// CheckAddresses binds every listener address and the admin address for a
// moment, and reports those that cannot be bound (in use, not local, no
// permission). Port 0 addresses are skipped. For `sluice validate
// -check-addresses` on the host that will run the config; a running sluice
// holds its own addresses, so this fails there.
func (c *Config) CheckAddresses() error {
	errs := &Errors{File: c.source}
	try := func(path, addr string) {
		if addr == "" || strings.HasSuffix(addr, ":0") {
			return
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errs.Add(path, "cannot bind %s: %v", addr, errors.Unwrap(err))
			return
		}
		ln.Close()
	}
	try("admin.address", c.Admin.Address)
	for i, l := range c.Listeners {
		try(Join(Index("listeners", i), "address"), l.Address)
	}
	c.locate(errs)
	return errs.Err()
}
