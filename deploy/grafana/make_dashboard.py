#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Generates nfm-xdp.json (the Grafana dashboard) so that panels stay uniform. Edit here, then
# run: python3 deploy/grafana/make_dashboard.py > deploy/grafana/nfm-xdp.json
# Every query filters on instance=~"$node" (the node selector; instance = node name in Kubernetes).
import json

SEL = 'instance=~"$node"'
RI = '$__rate_interval'
panels = []
_y = [0]


def row(title):
    panels.append({"type": "row", "title": title, "collapsed": False, "panels": [],
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": _y[0]}, "id": len(panels) + 1})
    _y[0] += 1


def panel(title, targets, unit="short", kind="timeseries", w=12, h=8, x=0, desc="", extra=None):
    p = {
        "type": kind, "title": title, "description": desc, "id": len(panels) + 1,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": h, "w": w, "x": x, "y": _y[0]},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [dict({"refId": chr(65 + i), "datasource": {"type": "prometheus", "uid": "${datasource}"}}, **t)
                    for i, t in enumerate(targets)],
    }
    if extra:
        p.update(extra)
    panels.append(p)
    if x + w >= 24:
        _y[0] += h


def q(expr, legend, **kw):
    return dict({"expr": expr, "legendFormat": legend}, **kw)


row("Overview")
panel("Agents", [q(f'count(nfm_build_info{{{SEL}}})', "agents")], kind="stat", w=4, h=4,
      desc="Agents exporting metrics (selected nodes)")
panel("Packets/s (all nodes)", [q(f'sum(rate(nfm_packets_total{{{SEL}}}[{RI}]))', "packets/s")],
      unit="pps", kind="stat", w=5, h=4, x=4)
panel("Loss ratio", [q(f'sum(rate(nfm_events_lost_total{{{SEL},reason!="sampled"}}[{RI}])) / '
                       f'clamp_min(sum(rate(nfm_packets_total{{{SEL}}}[{RI}])), 1)', "lost")],
      unit="percentunit", kind="stat", w=5, h=4, x=9, desc="Events lost (excluding deliberate sampling) / packets seen")
panel("Flows active", [q(f'sum(nfm_flows_active{{{SEL}}})', "flows")], kind="stat", w=5, h=4, x=14)
panel("Not capturing", [q(f'count((nfm_capture_attached{{{SEL}}} == 0) and on (instance) nfm_build_info{{mode="live"}}) or vector(0)', "agents")],
      kind="stat", w=5, h=4, x=19, desc="Live agents whose hooks are not attached")

row("Throughput")
panel("Packets/s by node, hook and direction",
      [q(f'sum by (instance, hook, direction) (rate(nfm_hook_packets_total{{{SEL}}}[{RI}]))',
         "{{instance}} {{hook}} {{direction}}")], unit="pps")
panel("Bits/s by node, hook and direction",
      [q(f'8 * sum by (instance, hook, direction) (rate(nfm_hook_bytes_total{{{SEL}}}[{RI}]))',
         "{{instance}} {{hook}} {{direction}}")], unit="bps", x=12)

row("Loss")
panel("Events lost/s by reason",
      [q(f'sum by (instance, reason) (rate(nfm_events_lost_total{{{SEL}}}[{RI}]))', "{{instance}} {{reason}}")],
      unit="pps", desc="ring_full, no_ring: events lost on the way to user space; sampled: 1-in-N sampling; others: parse errors")
panel("Packets ignored/s by reason",
      [q(f'sum by (instance, reason) (rate(nfm_packets_ignored_total{{{SEL}}}[{RI}]))', "{{instance}} {{reason}}")],
      unit="pps", x=12, desc="Not errors: non-IP, protocols the profile ignores, later fragments")

row("Flows")
panel("Flows active", [q(f'nfm_flows_active{{{SEL}}}', "{{instance}}")])
panel("Flows exported/s by end reason",
      [q(f'sum by (reason) (rate(nfm_flows_exported_total{{{SEL}}}[{RI}]))', "{{reason}}")],
      x=12, extra={"fieldConfig": {"defaults": {"unit": "short", "custom": {"stacking": {"mode": "normal"}, "fillOpacity": 30}},
                                   "overrides": []}})

row("Buffers and table")
panel("Ring buffer fill", [q(f'nfm_ring_fill_ratio{{{SEL}}}', "{{instance}} now"),
                           q(f'nfm_ring_fill_peak_ratio{{{SEL}}}', "{{instance}} peak")],
      unit="percentunit", extra={"fieldConfig": {"defaults": {"unit": "percentunit", "min": 0, "max": 1}, "overrides": []}})
panel("Flow table fill", [q(f'nfm_flow_table_fill_ratio{{{SEL}}}', "{{instance}}"),
                          q(f'sum by (instance) (rate(nfm_flows_exported_total{{{SEL},reason="eviction"}}[{RI}]))',
                            "{{instance}} evictions/s")],
      unit="percentunit", x=12, desc="Active flows / --max-flows; evictions start when full")

row("Flow distributions")
for i, (metric, title, unit) in enumerate([("nfm_flow_duration_seconds", "Flow duration", "s"),
                                           ("nfm_flow_packets", "Packets per flow", "short"),
                                           ("nfm_flow_payload_bytes", "Payload bytes per flow", "bytes")]):
    panel(f"{title} (quantiles)",
          [q(f'histogram_quantile({p}, sum by (le) (rate({metric}_bucket{{{SEL}}}[{RI}])))', f"p{int(p * 100)}")
           for p in (0.5, 0.9, 0.99)], unit=unit, w=8, x=8 * i)
for i, (metric, title) in enumerate([("nfm_flow_duration_seconds", "Flow duration"),
                                     ("nfm_flow_packets", "Packets per flow"),
                                     ("nfm_flow_payload_bytes", "Payload bytes per flow")]):
    panel(f"{title} (flows per bucket, time range)",
          [q(f'sum by (le) (increase({metric}_bucket{{{SEL}}}[$__range]))', "{{le}}", format="heatmap", instant=True)],
          kind="bargauge", w=8, x=8 * i,
          extra={"options": {"displayMode": "gradient", "orientation": "vertical", "showUnfilled": True,
                             "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}})

row("Interfaces")
panel("Capture interfaces (1 = attached)",
      [q(f'nfm_interface_up{{{SEL}}}', "{{instance}} {{iface}}")],
      desc="0: the interface disappeared or left the default routes (--iface auto); the agent re-attaches when it is back",
      extra={"fieldConfig": {"defaults": {"unit": "short", "min": 0, "max": 1}, "overrides": []}})
panel("Ingress hook per interface", [q(f'nfm_attach_info{{{SEL}}}', "", format="table", instant=True)], kind="table", x=12,
      desc="hook xdp, or tcx_ingress when another XDP program owns the interface (--ingress auto) or --ingress tc",
      extra={"transformations": [{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True, "__name__": True}}}]})

row("Output and agents")
panel("CSV rows/s and write errors", [q(f'sum by (instance) (rate(nfm_csv_rows_total{{{SEL}}}[{RI}]))', "{{instance}} rows/s"),
                                      q(f'sum by (instance) (increase(nfm_csv_write_errors_total{{{SEL}}}[{RI}]))',
                                        "{{instance}} write errors")])
panel("Agents", [q(f'nfm_build_info{{{SEL}}}', "", format="table", instant=True)], kind="table", x=12,
      extra={"transformations": [{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True, "__name__": True}}}]})
panel("IPFIX export", [q(f'sum by (instance, result) (rate(nfm_ipfix_records_total{{{SEL}}}[{RI}]))',
                          "{{instance}} records {{result}}/s"),
                        q(f'sum by (instance) (rate(nfm_ipfix_messages_total{{{SEL}}}[{RI}]))', "{{instance}} messages/s")],
      desc="Records sent/dropped (queue full, failed sends) and messages per second, per agent (--ipfix)")
panel("IPFIX destinations connected", [q(f'sum by (instance) (nfm_ipfix_connected{{{SEL}}})', "{{instance}}")], x=12,
      desc="Destinations each agent is connected to (TCP) or has open (UDP, file); 0 while a TCP collector is down")

dashboard = {
    "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus",
                  "pluginName": "Prometheus"}],
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
    "uid": "nfm-xdp", "title": "nfm-xdp flow monitor", "tags": ["nfm-xdp", "network", "xdp"],
    "editable": True, "graphTooltip": 1, "refresh": "30s", "schemaVersion": 37, "version": 1,
    "time": {"from": "now-6h", "to": "now"}, "timezone": "",
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0},
        {"name": "node", "label": "Node", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "query": {"query": "label_values(nfm_build_info, instance)", "refId": "node"},
         "definition": "label_values(nfm_build_info, instance)", "refresh": 2, "includeAll": True, "multi": True,
         "allValue": ".*", "current": {"text": "All", "value": "$__all"}, "sort": 1, "hide": 0},
    ]},
    "annotations": {"list": []},
    "panels": panels,
}
print(json.dumps(dashboard, indent=2))
