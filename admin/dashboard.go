package admin

import (
	"embed"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/stats"
)

// The dashboard at the admin root is one embedded HTML page whose small
// script polls /dashboard/data and draws plain SVG: no chart library, no
// npm step in the build, nothing fetched from the internet, and the page
// stays a few kilobytes in the static binary. The data endpoint sends
// totals (the page keeps the last minutes and computes rates from them),
// one page of clusters at a time and a bounded number of series, so that
// its JSON stays small at 500 clusters.
//
//go:embed ui/index.html
var ui embed.FS

const (
	clustersPerPage = 25  // clusters in one /dashboard/data answer
	hostsPerCluster = 20  // hosts listed per cluster (the rest are counted)
	seriesPerPanel  = 12  // counters per filter panel, the largest first
	maxHistograms   = 30  // latency histograms sent
	maxListeners    = 200 // listeners sent
)

// coreScopes are the stats that are not a filter's own: every other
// "<kind>.<stat_prefix>." group of counters gets a panel, so that a new
// filter appears without a change to the page.
var coreScopes = map[string]bool{
	"listener": true, "cluster": true, "cluster_manager": true, "listener_manager": true,
	"server": true, "overload": true, "runtime": true,
}

func (a *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	b, err := ui.ReadFile("ui/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

type dashListener struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Active  int    `json:"active"`
	CxTotal uint64 `json:"cx_total"`
}

type dashHost struct {
	Address string `json:"address"`
	Flags   string `json:"flags"`
	hostCounts
}

type hostCounts struct {
	CxActive      int64  `json:"cx_active"`
	CxTotal       uint64 `json:"cx_total"`
	CxConnectFail uint64 `json:"cx_connect_fail"`
	RqTotal       uint64 `json:"rq_total"`
	RqError       uint64 `json:"rq_error"`
}

func (c *hostCounts) add(h *cluster.Host) {
	c.CxActive += h.CxActive.Load()
	c.CxTotal += h.CxTotal.Load()
	c.CxConnectFail += h.CxConnectFail.Load()
	c.RqTotal += h.RqTotal.Load()
	c.RqError += h.RqError.Load()
}

type dashCluster struct {
	Name      string     `json:"name"`
	Hosts     []dashHost `json:"hosts"`
	MoreHosts int        `json:"more_hosts"`
	Healthy   int        `json:"healthy"`
	HostCount int        `json:"host_count"`
	hostCounts
}

type dashPanel struct {
	Prefix   string            `json:"prefix"`
	Counters map[string]uint64 `json:"counters"`
	More     int               `json:"more"`
}

type dashHistogram struct {
	Name    string   `json:"name"`
	Count   uint64   `json:"count"`
	Buckets []uint64 `json:"buckets"` // per bucket, of BucketBounds and +Inf: the page's recent percentiles
	P50     float64  `json:"p50"`
	P90     float64  `json:"p90"`
	P99     float64  `json:"p99"`
}

type dashData struct {
	Time        int64          `json:"t"` // Unix milliseconds
	State       string         `json:"state"`
	Uptime      int64          `json:"uptime_s"`
	Connections int64          `json:"connections"`
	Listeners   []dashListener `json:"listeners"`
	Clusters    struct {
		Total     int           `json:"total"`
		Matched   int           `json:"matched"`
		Page      int           `json:"page"`
		Pages     int           `json:"pages"`
		Hosts     int           `json:"hosts"`
		Unhealthy int           `json:"unhealthy"`
		Items     []dashCluster `json:"items"`
	} `json:"clusters"`
	Panels     []dashPanel     `json:"panels"`
	Histograms []dashHistogram `json:"histograms"`
	// BucketBounds are the histograms' bucket upper bounds (ms).
	BucketBounds []float64 `json:"bucket_bounds"`
}

// dashboardData answers the page's poll: ?page=N (from 0) and ?q=TEXT (a
// cluster name substring) choose the clusters listed.
func (a *Server) dashboardData(w http.ResponseWriter, r *http.Request) {
	d := dashData{Time: time.Now().UnixMilli(), State: a.srv.State(),
		Uptime: int64(a.srv.Uptime().Seconds()), Connections: a.srv.OpenConnections()}
	counters := a.srv.Store.Counters()
	d.Listeners = []dashListener{}
	for _, l := range a.srv.Listeners() {
		if len(d.Listeners) == maxListeners {
			break
		}
		total := counters["listener."+strings.ReplaceAll(l.Address, ":", "_")+".downstream_cx_total"]
		d.Listeners = append(d.Listeners, dashListener{l.Name, l.Address, l.Connections, total})
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	a.dashClusters(&d, r.URL.Query().Get("q"), page)
	d.Panels = panels(counters)
	d.Histograms, d.BucketBounds = a.histograms(), stats.DefaultBuckets
	writeJSON(w, d)
}

func (a *Server) dashClusters(d *dashData, q string, page int) {
	all := a.srv.Clusters.All()
	sort.Slice(all, func(i, j int) bool { return all[i].Name() < all[j].Name() })
	var matched []*cluster.Cluster
	for _, c := range all {
		for _, h := range c.Hosts() {
			d.Clusters.Hosts++
			if h.Flags() != 0 {
				d.Clusters.Unhealthy++
			}
		}
		if q == "" || strings.Contains(c.Name(), q) {
			matched = append(matched, c)
		}
	}
	d.Clusters.Total, d.Clusters.Matched = len(all), len(matched)
	d.Clusters.Pages = max(1, (len(matched)+clustersPerPage-1)/clustersPerPage)
	d.Clusters.Page = min(max(page, 0), d.Clusters.Pages-1)
	d.Clusters.Items = []dashCluster{}
	lo := d.Clusters.Page * clustersPerPage
	for _, c := range matched[lo:min(lo+clustersPerPage, len(matched))] {
		dc := dashCluster{Name: c.Name(), Hosts: []dashHost{}}
		for _, h := range c.Hosts() {
			dc.HostCount++
			if h.Flags() == 0 {
				dc.Healthy++
			}
			dc.add(h)
			if len(dc.Hosts) == hostsPerCluster {
				dc.MoreHosts++
				continue
			}
			dh := dashHost{Address: h.Address(), Flags: h.Flags().String()}
			dh.add(h)
			dc.Hosts = append(dc.Hosts, dh)
		}
		d.Clusters.Items = append(d.Clusters.Items, dc)
	}
}

// panels groups the filters' counters by "<kind>.<stat_prefix>".
func panels(counters map[string]uint64) []dashPanel {
	groups := map[string]map[string]uint64{}
	for name, v := range counters {
		kind, rest, ok := strings.Cut(name, ".")
		if !ok || coreScopes[kind] {
			continue
		}
		prefix, stat, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		key := kind + "." + prefix
		if groups[key] == nil {
			groups[key] = map[string]uint64{}
		}
		groups[key][stat] = v
	}
	out := []dashPanel{}
	for key, g := range groups {
		names := make([]string, 0, len(g))
		for n := range g {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if g[names[i]] != g[names[j]] {
				return g[names[i]] > g[names[j]]
			}
			return names[i] < names[j]
		})
		p := dashPanel{Prefix: key, Counters: map[string]uint64{}}
		for i, n := range names {
			if i >= seriesPerPanel {
				p.More++
				continue
			}
			p.Counters[n] = g[n]
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out
}

// histograms returns the percentiles of the filters' and the server's
// histograms (per-cluster and per-listener ones would not be bounded).
func (a *Server) histograms() []dashHistogram {
	hs := a.srv.Store.Histograms(func(name string) bool {
		return !strings.HasPrefix(name, "cluster.") && !strings.HasPrefix(name, "listener.")
	})
	out := []dashHistogram{}
	for name, h := range hs {
		if h.Count == 0 {
			continue
		}
		out = append(out, dashHistogram{Name: name, Count: h.Count, Buckets: h.Counts,
			P50: finite(h.Quantile(0.5)), P90: finite(h.Quantile(0.9)), P99: finite(h.Quantile(0.99))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) > maxHistograms {
		out = out[:maxHistograms]
	}
	return out
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
