package admin

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/config"
)

// clusters writes Envoy's /clusters output: "cluster::host::stat::value"
// lines, or ?format=json.
func (a *Server) clusters(w http.ResponseWriter, r *http.Request) {
	cs := a.srv.Clusters.All()
	if r.URL.Query().Get("format") == "json" {
		writeJSON(w, clustersJSON(cs))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, c := range cs {
		writeClusterText(w, c)
	}
}

func writeClusterText(w io.Writer, c *cluster.Cluster) {
	n := c.Name()
	fmt.Fprintf(w, "%s::observability_name::%s\n", n, n)
	// Envoy prints -1 for success-rate figures it has not computed; sluice
	// has no success-rate ejection, so they are always -1.
	fmt.Fprintf(w, "%s::outlier::success_rate_average::-1\n", n)
	fmt.Fprintf(w, "%s::outlier::success_rate_ejection_threshold::-1\n", n)
	fmt.Fprintf(w, "%s::outlier::local_origin_success_rate_average::-1\n", n)
	fmt.Fprintf(w, "%s::outlier::local_origin_success_rate_ejection_threshold::-1\n", n)
	for _, p := range []cluster.Priority{cluster.PriorityDefault, cluster.PriorityHigh} {
		b := c.Breakers(p)
		pn := fmt.Sprintf("%s::%s_priority::", n, strings.ToLower(p.String()))
		fmt.Fprintf(w, "%smax_connections::%d\n", pn, b.Connections.Max())
		fmt.Fprintf(w, "%smax_pending_requests::%d\n", pn, b.PendingRequests.Max())
		fmt.Fprintf(w, "%smax_requests::%d\n", pn, b.Requests.Max())
		fmt.Fprintf(w, "%smax_retries::%d\n", pn, b.Retries.Max())
	}
	fmt.Fprintf(w, "%s::added_via_api::false\n", n)
	for _, h := range c.Hosts() {
		p := n + "::" + h.Address() + "::"
		fmt.Fprintf(w, "%scx_active::%d\n", p, h.CxActive.Load())
		fmt.Fprintf(w, "%scx_connect_fail::%d\n", p, h.CxConnectFail.Load())
		fmt.Fprintf(w, "%scx_total::%d\n", p, h.CxTotal.Load())
		fmt.Fprintf(w, "%srq_active::%d\n", p, h.RqActive.Load())
		fmt.Fprintf(w, "%srq_error::%d\n", p, h.RqError.Load())
		fmt.Fprintf(w, "%srq_success::%d\n", p, h.RqSuccess.Load())
		fmt.Fprintf(w, "%srq_total::%d\n", p, h.RqTotal.Load())
		fmt.Fprintf(w, "%shostname::\n", p)
		fmt.Fprintf(w, "%shealth_flags::%s\n", p, h.Flags())
		fmt.Fprintf(w, "%sweight::%d\n", p, h.Weight())
		loc := h.Locality()
		fmt.Fprintf(w, "%sregion::%s\n%szone::%s\n%ssub_zone::%s\n", p, loc.Region, p, loc.Zone, p, loc.SubZone)
		fmt.Fprintf(w, "%scanary::false\n", p)
		fmt.Fprintf(w, "%spriority::%d\n", p, h.Priority())
		fmt.Fprintf(w, "%ssuccess_rate::-1\n", p)
		fmt.Fprintf(w, "%slocal_origin_success_rate::-1\n", p)
	}
}

type hostJSON struct {
	Address struct {
		SocketAddress struct {
			Address   string `json:"address"`
			PortValue int    `json:"port_value"`
		} `json:"socket_address"`
	} `json:"address"`
	Stats        []statJSON `json:"stats"`
	HealthStatus string     `json:"health_status"`
	Weight       uint32     `json:"weight"`
	// Locality and Priority are Envoy's HostStatus fields of the same name.
	Locality config.Locality `json:"locality,omitzero"`
	Priority uint32          `json:"priority,omitempty"`
}

type thresholdsJSON struct {
	Priority           string `json:"priority"`
	MaxConnections     int64  `json:"max_connections"`
	MaxPendingRequests int64  `json:"max_pending_requests"`
	MaxRequests        int64  `json:"max_requests"`
	MaxRetries         int64  `json:"max_retries"`
}

type statJSON struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
	Type  string `json:"type"`
}

func clustersJSON(cs []*cluster.Cluster) any {
	type clusterJSON struct {
		Name            string `json:"name"`
		AddedViaAPI     bool   `json:"added_via_api"`
		CircuitBreakers struct {
			Thresholds []thresholdsJSON `json:"thresholds"`
		} `json:"circuit_breakers"`
		HostStatuses []hostJSON `json:"host_statuses"`
	}
	out := struct {
		ClusterStatuses []clusterJSON `json:"cluster_statuses"`
	}{ClusterStatuses: []clusterJSON{}}
	for _, c := range cs {
		cj := clusterJSON{Name: c.Name(), HostStatuses: []hostJSON{}}
		for _, p := range []cluster.Priority{cluster.PriorityDefault, cluster.PriorityHigh} {
			b := c.Breakers(p)
			cj.CircuitBreakers.Thresholds = append(cj.CircuitBreakers.Thresholds, thresholdsJSON{
				Priority: p.String(), MaxConnections: b.Connections.Max(), MaxPendingRequests: b.PendingRequests.Max(),
				MaxRequests: b.Requests.Max(), MaxRetries: b.Retries.Max(),
			})
		}
		for _, h := range c.Hosts() {
			var hj hostJSON
			host, port, _ := net.SplitHostPort(h.Address())
			hj.Address.SocketAddress.Address = host
			hj.Address.SocketAddress.PortValue, _ = strconv.Atoi(port)
			hj.HealthStatus = h.Flags().String()
			hj.Weight = h.Weight()
			hj.Locality, hj.Priority = h.Locality(), h.Priority()
			hj.Stats = []statJSON{
				{"cx_active", h.CxActive.Load(), "GAUGE"},
				{"cx_connect_fail", int64(h.CxConnectFail.Load()), "COUNTER"},
				{"cx_total", int64(h.CxTotal.Load()), "COUNTER"},
				{"rq_active", h.RqActive.Load(), "GAUGE"},
				{"rq_error", int64(h.RqError.Load()), "COUNTER"},
				{"rq_success", int64(h.RqSuccess.Load()), "COUNTER"},
				{"rq_total", int64(h.RqTotal.Load()), "COUNTER"},
			}
			cj.HostStatuses = append(cj.HostStatuses, hj)
		}
		out.ClusterStatuses = append(out.ClusterStatuses, cj)
	}
	return out
}
