#!/usr/bin/env python3
"""Writes sluice-dashboard.json: a Grafana dashboard over sluice's Prometheus
metrics (Envoy's names and labels), one row per part of the proxy. Edit the
rows here and rerun; integration/deploy_test.go checks that every metric the
dashboard queries is one a running sluice exports."""
import json, os

ROWS = [
    ("Server", [
        ("Open downstream connections", "sum(envoy_server_total_connections)", "short"),
        ("Config reloads / failed", "sum(rate(envoy_server_config_reload[5m])) ; sum(rate(envoy_server_config_reload_failed[5m]))", "ops"),
        ("Contained panics", "sum(increase(envoy_server_contained_panics[5m]))", "short"),
        ("Heap pressure and stop_accepting (overload_manager)", "max(envoy_overload_envoy_resource_monitors_fixed_heap_pressure) ; max(envoy_overload_envoy_overload_actions_stop_accepting_connections_active)", "short"),
    ]),
    ("Listeners", [
        ("New connections / s by listener", "sum by (envoy_listener_address) (rate(envoy_listener_downstream_cx_total[1m]))", "ops"),
        ("Active connections by listener", "sum by (envoy_listener_address) (envoy_listener_downstream_cx_active)", "short"),
        ("Connection length p99 (ms)", "histogram_quantile(0.99, sum by (le, envoy_listener_address) (rate(envoy_listener_downstream_cx_length_ms_bucket[5m])))", "ms"),
        ("No filter chain match / overload rejects", "sum(rate(envoy_listener_no_filter_chain_match[5m])) ; sum(rate(envoy_listener_downstream_cx_overload_reject[5m]))", "ops"),
    ]),
    ("Clusters", [
        ("Healthy hosts by cluster", "sum by (envoy_cluster_name) (envoy_cluster_membership_healthy)", "short"),
        ("Upstream connections / s and failures", "sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_cx_total[1m])) ; sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_cx_connect_fail[1m]))", "ops"),
        ("Upstream connect time p99 (ms)", "histogram_quantile(0.99, sum by (le, envoy_cluster_name) (rate(envoy_cluster_upstream_cx_connect_ms_bucket[5m])))", "ms"),
        ("Health check failures and outlier ejections", "sum by (envoy_cluster_name) (rate(envoy_cluster_health_check_failure[5m])) ; sum by (envoy_cluster_name) (envoy_cluster_outlier_detection_ejections_active)", "short"),
        ("Circuit breaker overflows", "sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_cx_overflow[5m])) ; sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_pending_overflow[5m]))", "ops"),
    ]),
    ("tcp_proxy", [
        ("Bytes / s in and out", "sum by (envoy_tcp_prefix) (rate(envoy_tcp_downstream_cx_rx_bytes_total[1m])) ; sum by (envoy_tcp_prefix) (rate(envoy_tcp_downstream_cx_tx_bytes_total[1m]))", "Bps"),
        ("Bytes held for slow peers", "sum by (envoy_tcp_prefix) (envoy_tcp_downstream_cx_rx_bytes_buffered + envoy_tcp_downstream_cx_tx_bytes_buffered)", "bytes"),
        ("Idle and duration timeouts", "sum by (envoy_tcp_prefix) (rate(envoy_tcp_idle_timeout[5m])) ; sum by (envoy_tcp_prefix) (rate(envoy_tcp_max_downstream_connection_duration[5m]))", "ops"),
    ]),
    ("redis_proxy", [
        ("Commands / s", "sum by (envoy_redis_prefix) (rate(envoy_redis_downstream_rq_total[1m]))", "ops"),
        ("Commands in flight", "sum by (envoy_redis_prefix) (envoy_redis_downstream_rq_active)", "short"),
        ("Timeouts, protocol errors, unsupported", "sum(rate(envoy_redis_upstream_rq_timeout[5m])) ; sum(rate(envoy_redis_downstream_cx_protocol_error[5m])) ; sum(rate(envoy_redis_splitter_unsupported_command[5m]))", "ops"),
    ]),
    ("postgres_proxy", [
        ("Statements / s by kind", "sum(rate(envoy_postgres_statements_select[1m])) ; sum(rate(envoy_postgres_statements_insert[1m])) ; sum(rate(envoy_postgres_statements_update[1m])) ; sum(rate(envoy_postgres_statements_delete[1m])) ; sum(rate(envoy_postgres_statements_other[1m]))", "ops"),
        ("Transactions / s (commit, rollback)", "sum(rate(envoy_postgres_transactions_commit[1m])) ; sum(rate(envoy_postgres_transactions_rollback[1m]))", "ops"),
        ("Errors and denials", "sum(rate(envoy_postgres_errors[5m])) ; sum(rate(envoy_postgres_statements_denied[5m])) ; sum(rate(envoy_postgres_protocol_errors[5m]))", "ops"),
    ]),
    ("mysql_proxy", [
        ("Statements / s by kind", "sum(rate(envoy_mysql_statements_select[1m])) ; sum(rate(envoy_mysql_statements_insert[1m])) ; sum(rate(envoy_mysql_statements_update[1m])) ; sum(rate(envoy_mysql_statements_delete[1m])) ; sum(rate(envoy_mysql_statements_other[1m]))", "ops"),
        ("Query time p99 (ms)", "histogram_quantile(0.99, sum by (le) (rate(envoy_mysql_query_time_ms_bucket[5m])))", "ms"),
        ("Logins, failures, protocol and decoder errors", "sum(rate(envoy_mysql_login_attempts[5m])) ; sum(rate(envoy_mysql_login_failures[5m])) ; sum(rate(envoy_mysql_protocol_errors[5m])) ; sum(rate(envoy_mysql_decoder_errors[5m]))", "ops"),
    ]),
    ("kafka_broker", [
        ("Produce, fetch, metadata requests / s", "sum(rate(envoy_kafka_request_produce_request[1m])) ; sum(rate(envoy_kafka_request_fetch_request[1m])) ; sum(rate(envoy_kafka_request_metadata_request[1m]))", "ops"),
        ("Denied requests", "sum(rate(envoy_kafka_request_denied[5m]))", "ops"),
    ]),
]

def panel(pid, title, exprs, unit, x, y):
    return {
        "id": pid, "type": "timeseries", "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [{"refId": chr(ord("A") + i), "expr": e.strip(), "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                    for i, e in enumerate(exprs.split(" ; "))],
    }

panels, pid, y = [], 1, 0
for name, ps in ROWS:
    panels.append({"id": pid, "type": "row", "title": name, "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
    pid += 1; y += 1
    for i, (title, exprs, unit) in enumerate(ps):
        panels.append(panel(pid, title, exprs, unit, (i % 3) * 8, y + (i // 3) * 8))
        pid += 1
    y += ((len(ps) + 2) // 3) * 8

dashboard = {
    "title": "sluice", "uid": "sluice", "schemaVersion": 39, "version": 1, "editable": True,
    "tags": ["sluice", "envoy"], "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
    "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}]},
    "panels": panels,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sluice-dashboard.json")
with open(out, "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
