package admin

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// Option configures a Server at Start.
type Option func(*Server)

// WithLogLevel lets /logging read and change the process's log level.
func WithLogLevel(lv *slog.LevelVar) Option { return func(a *Server) { a.level = lv } }

// WithHotRestart tells /server_info the hot restart epoch and when the
// first epoch started (uptime_all_epochs).
func WithHotRestart(epoch int, firstStart time.Time) Option {
	return func(a *Server) { a.epoch, a.firstStart = epoch, firstStart }
}

// WithQuit is what POST /quitquitquit calls: a clean shutdown, as on SIGTERM.
func WithQuit(quit func()) Option { return func(a *Server) { a.quit = quit } }

// logging is Envoy's /logging: GET lists the loggers and their levels; POST
// ?level=L sets every logger's level (sluice has one logger, "sluice").
// Envoy's levels trace and critical map to debug and error.
func (a *Server) logging(w http.ResponseWriter, r *http.Request) {
	if a.level == nil {
		http.Error(w, "log level is not adjustable in this process", http.StatusNotImplemented)
		return
	}
	if r.Method == http.MethodPost {
		name := r.URL.Query().Get("level")
		if p := r.URL.Query().Get("paths"); name == "" && p != "" {
			// ?paths=logger:level,...: the one logger's level is the last given.
			for _, kv := range strings.Split(p, ",") {
				if _, lvl, ok := strings.Cut(kv, ":"); ok {
					name = lvl
				}
			}
		}
		lvl, ok := envoyLevel(name)
		if !ok {
			http.Error(w, fmt.Sprintf("invalid level %q: want trace, debug, info, warning, error, critical or off", name), http.StatusBadRequest)
			return
		}
		a.level.Set(lvl)
		a.log.Warn("log level changed through the admin", "level", name)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "active loggers:\n  sluice: %s\n", strings.ToLower(envoyName(a.level.Level())))
}

func envoyLevel(name string) (slog.Level, bool) {
	switch strings.ToLower(name) {
	case "trace", "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warning", "warn":
		return slog.LevelWarn, true
	case "error", "critical":
		return slog.LevelError, true
	case "off":
		return slog.Level(math.MaxInt32), true
	}
	return 0, false
}

func envoyName(l slog.Level) string {
	switch {
	case l <= slog.LevelDebug:
		return "debug"
	case l <= slog.LevelInfo:
		return "info"
	case l <= slog.LevelWarn:
		return "warning"
	case l <= slog.LevelError:
		return "error"
	}
	return "off"
}

// drainListeners is Envoy's POST /drain_listeners (?graceful, ?inboundonly:
// sluice's listeners carry no traffic direction, so all count as inbound).
func (a *Server) drainListeners(w http.ResponseWriter, r *http.Request) {
	a.srv.DrainListeners(r.URL.Query().Has("graceful"))
	fmt.Fprintln(w, "OK")
}

func (a *Server) quitquitquit(w http.ResponseWriter, r *http.Request) {
	if a.quit == nil {
		http.Error(w, "no shutdown hook in this process", http.StatusNotImplemented)
		return
	}
	fmt.Fprintln(w, "OK")
	a.log.Warn("shutting down: /quitquitquit")
	go a.quit()
}

func (a *Server) resetCounters(w http.ResponseWriter, r *http.Request) {
	a.srv.Store.ResetCounters()
	fmt.Fprintln(w, "OK")
}

// memory is Envoy's /memory (envoy.admin.v3.Memory, 64-bit values as JSON
// strings) filled from Go's runtime: allocated is the live heap, heap_size
// what the heap holds from the OS, pageheap_unmapped what it gave back,
// pageheap_free what it holds unused, total_thread_cache the per-P caches.
func (a *Server) memory(w http.ResponseWriter, r *http.Request) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	u := func(v uint64) string { return fmt.Sprint(v) }
	writeJSON(w, map[string]string{
		"allocated": u(m.HeapAlloc), "heap_size": u(m.HeapSys), "pageheap_unmapped": u(m.HeapReleased),
		"pageheap_free": u(m.HeapIdle - m.HeapReleased), "total_thread_cache": u(m.MCacheInuse),
		"total_physical_bytes": u(m.Sys - m.HeapReleased),
	})
}

// runtime is Envoy's /runtime: sluice has no runtime layers.
func (a *Server) runtimeLayers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"layers": []string{}, "entries": map[string]any{}})
}

type certDetail struct {
	Path                string              `json:"path"`
	SerialNumber        string              `json:"serial_number"`
	SubjectAltNames     []map[string]string `json:"subject_alt_names"`
	DaysUntilExpiration string              `json:"days_until_expiration"`
	ValidFrom           string              `json:"valid_from"`
	ExpirationTime      string              `json:"expiration_time"`
}

type certEntry struct {
	CACert    []certDetail `json:"ca_cert"`
	CertChain []certDetail `json:"cert_chain"`
}

// certs is Envoy's /certs: one entry per TLS context of the running config
// (filter chains' and filters' own, such as postgres_proxy's terminate_ssl),
// read from the files as they are now.
func (a *Server) certs(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Certificates []certEntry `json:"certificates"`
	}{Certificates: []certEntry{}}
	for _, tc := range tlsContexts(a.srv.Config()) {
		out.Certificates = append(out.Certificates, certEntry{
			CACert: certDetails(tc.ClientCAFile), CertChain: certDetails(tc.CertificateFile)})
	}
	writeJSON(w, out)
}

// tlsContexts finds every TLS context of cfg: the filter chains' and any
// field of type *config.TLSContext in a filter's typed config.
func tlsContexts(cfg *config.Config) []*config.TLSContext {
	if cfg == nil {
		return nil
	}
	var out []*config.TLSContext
	tlsType := reflect.TypeOf((*config.TLSContext)(nil))
	for i := range cfg.Listeners {
		for _, ch := range cfg.Listeners[i].Chains() {
			if ch.TLS != nil {
				out = append(out, ch.TLS)
			}
			for _, f := range ch.Filters {
				v := reflect.ValueOf(f.Config)
				if v.Kind() == reflect.Pointer {
					v = v.Elem()
				}
				if v.Kind() != reflect.Struct {
					continue
				}
				for j := 0; j < v.NumField(); j++ {
					if fv := v.Field(j); fv.Type() == tlsType && !fv.IsNil() {
						out = append(out, fv.Interface().(*config.TLSContext))
					}
				}
			}
		}
	}
	return out
}

func certDetails(path string) []certDetail {
	out := []certDetail{}
	if path == "" {
		return out
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			continue
		}
		d := certDetail{Path: path, SerialNumber: c.SerialNumber.Text(16), SubjectAltNames: []map[string]string{},
			DaysUntilExpiration: fmt.Sprint(int(time.Until(c.NotAfter).Hours() / 24)),
			ValidFrom:           c.NotBefore.UTC().Format(time.RFC3339), ExpirationTime: c.NotAfter.UTC().Format(time.RFC3339)}
		for _, n := range c.DNSNames {
			d.SubjectAltNames = append(d.SubjectAltNames, map[string]string{"dns": n})
		}
		for _, u := range c.URIs {
			d.SubjectAltNames = append(d.SubjectAltNames, map[string]string{"uri": u.String()})
		}
		for _, ip := range c.IPAddresses {
			d.SubjectAltNames = append(d.SubjectAltNames, map[string]string{"ip_address": ip.String()})
		}
		out = append(out, d)
	}
}
