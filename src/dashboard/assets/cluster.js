// Cluster overview: brokers with roles, versions, TPS, today's totals, disk use; TPS charts.
"use strict";

async function refreshCluster() {
  const data = await api("/api/cluster");
  const s = section("brokers", "Brokers");
  s.append(table([
    ["Cluster", b => b.cluster],
    ["Broker", b => b.brokerName],
    ["ID", b => b.brokerId],
    ["Address", b => b.addr],
    ["Role", b => b.role],
    ["Version", b => b.version],
    ["In TPS", b => fmtNum(b.putTps)],
    ["Out TPS", b => fmtNum(b.getTps)],
    ["Put today", b => b.putTotalToday],
    ["Get today", b => b.getTotalToday],
    ["Stored", b => fmtBytes(b.storeBytes)],
    ["Disk", b => (b.diskRatio === null || b.diskRatio === undefined ? "-" : fmtNum(b.diskRatio * 100) + " %")],
    ["", b => (b.error ? el("span", { class: "error" }, b.error) : "")],
  ], data.brokers, "broker-table"));
  const h = await api("/api/cluster/history");
  const names = Object.keys(h.series);
  const series = key => names.map(n => ({ name: n, points: h.series[n].map(p => [p.time, p[key]]) }));
  const c = section("charts", "Last hour (one sample per broker every " + h.intervalMs / 1000 + " s)");
  c.append(el("div", { class: "charts" }, lineChart("In TPS (messages put)", series("putTps")),
    lineChart("Out TPS (messages got)", series("getTps"))));
  status("updated " + fmtTime(Date.now()));
}

every(5000, refreshCluster);
