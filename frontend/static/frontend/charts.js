// The database page's charts: the last hour of samples from the API, drawn as inline SVG and
// refreshed every sampling interval. No library, no build step. The alert badge follows too.
(function () {
  "use strict";
  const section = document.getElementById("charts");
  if (!section) return;
  const SVG = "http://www.w3.org/2000/svg";
  const W = 300, H = 70, PAD = 4;

  function bytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(Math.round(n))) + " " + units[i];
  }
  const number = (n) => (n >= 100 ? Math.round(n).toLocaleString() : (Math.round(n * 10) / 10).toString());
  const CHARTS = {
    ops: { value: (s) => s.ops_per_sec, text: number },
    memory: { value: (s) => s.used_memory, limit: (s) => s.maxmemory || null, text: bytes },
    clients: { value: (s) => s.clients, text: number },
    keys: { value: (s) => s.keys, text: number },
    hits: { value: (s) => (s.hit_ratio === null ? null : 100 * s.hit_ratio), text: (v) => number(v) + " %", max: 100 },
    lag: { value: (s) => s.replication_lag, text: (v) => number(v) + " s" },
  };

  function el(name, attrs) {
    const node = document.createElementNS(SVG, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    return node;
  }

  function path(points, x, y) {
    return points.map((p, i) => (i ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1)).join(" ");
  }

  function draw(figure, chart, samples, t0, t1) {
    const points = samples.map((s) => [s.t, chart.value(s)]).filter((p) => p[1] !== null && p[1] !== undefined);
    const limits = chart.limit ? samples.map((s) => [s.t, chart.limit(s)]).filter((p) => p[1]) : [];
    const top = chart.max || Math.max(1, ...points.map((p) => p[1]), ...limits.map((p) => p[1])) * 1.1;
    const x = (t) => PAD + (W - 2 * PAD) * (t - t0) / Math.max(1, t1 - t0);
    const y = (v) => H - PAD - (H - 2 * PAD) * v / top;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
    const last = points.length ? points[points.length - 1][1] : null;
    const label = figure.querySelector("figcaption").firstChild.textContent.trim();
    svg.setAttribute("aria-label", last === null ? `${label}: no data` : `${label}: ${chart.text(last)} now`);
    if (limits.length) svg.appendChild(el("path", { class: "limit", d: path(limits, x, y) }));
    if (points.length) {
      svg.appendChild(el("path", { class: "line", d: path(points.length > 1 ? points : [points[0], [t1, points[0][1]]], x, y) }));
    } else {
      const text = el("text", { class: "empty", x: W / 2, y: H / 2, "text-anchor": "middle" });
      text.textContent = "no data yet";
      svg.appendChild(text);
    }
    let now = figure.querySelector(".now");
    if (!now) {
      now = document.createElement("span");
      now.className = "now";
      figure.querySelector("figcaption").appendChild(now);
    }
    now.textContent = last === null ? "—" : chart.text(last) + (limits.length ? " of " + chart.text(limits[limits.length - 1][1]) : "");
    const old = figure.querySelector("svg");
    if (old) old.replaceWith(svg); else figure.appendChild(svg);
  }

  function showAlerts(alerts) {
    const badge = document.getElementById("alert-badge");
    const list = document.getElementById("alert-list");
    if (badge) {
      badge.hidden = !alerts.length;
      badge.querySelector(".badge-text").textContent = alerts.length + (alerts.length === 1 ? " alert firing" : " alerts firing");
      badge.title = alerts.map((a) => a.message).join("; ");
    }
    if (list) {
      list.replaceChildren(...alerts.map((a) => {
        const item = document.createElement("li");
        item.textContent = `${a.message} (${a.setting})`;
        return item;
      }));
    }
  }

  let interval = 15;
  async function refresh() {
    try {
      const response = await fetch(section.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        interval = Math.max(5, data.interval || 15);
        // the hour, or the part of it that has samples (a new database's first minutes fill the width)
        const t1 = Date.now() / 1000;
        const t0 = Math.max(t1 - 3600, data.samples.length > 1 ? data.samples[0].t : t1 - 3600);
        for (const figure of section.querySelectorAll("[data-chart]")) {
          draw(figure, CHARTS[figure.dataset.chart], data.samples, t0, t1);
        }
        showAlerts(data.alerts);
        section.dataset.loaded = String(data.samples.length);
      }
    } catch (error) { /* offline for a moment: the next round retries */ }
    setTimeout(refresh, interval * 1000);
  }
  refresh();
})();
