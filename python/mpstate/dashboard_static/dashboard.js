// SPDX-License-Identifier: MIT
// mpstate's dashboard page: follows `events` (server-sent events, one snapshot each
// time something changed) and draws it. Its one action, stopping a loop, is POSTed
// to `api/stop` after a confirmation.
"use strict";

const depthHistory = new Map();  // queue name -> [depth, ...] (the last 120 snapshots)
const HISTORY = 120;
let source = null;
let silence = null;  // set when the stream ended: "lost" unless it is back soon

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function ago(ms) {
  if (ms === null || ms === undefined || ms < 0) return "-";
  return ms < 10000 ? (ms / 1000).toFixed(2) + "s" : ms < 120000 ? Math.round(ms / 1000) + "s" : Math.round(ms / 60000) + "m";
}

function holder(pid) { return pid < 0 ? "TCP session " + -pid : "pid " + pid; }

function fill(id, rows, draw) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren();
  for (const v of rows) draw(body.insertRow(), v);
  const none = document.getElementById("no-" + id);
  if (none) none.hidden = rows.length > 0;
}

function drawLoop(row, v) {
  const s = v.value || {};
  row.dataset.loop = v.name;
  cell(row, v.name);
  const state = row.insertCell();
  const badge = document.createElement("span");
  badge.className = "state";
  badge.dataset.state = s.state || "unknown";
  badge.textContent = s.state || "?";
  state.append(badge);
  if (s.reason) {
    const reason = document.createElement("div");
    reason.className = "reason";
    reason.textContent = s.reason;
    state.append(reason);
  }
  cell(row, s.pid ? holder(s.pid) : "-");
  cell(row, s.iterations ?? "-");
  cell(row, s.heartbeat_age_ms >= 0 ? ago(s.heartbeat_age_ms) + " ago" : "-");
  const action = row.insertCell();
  if (s.state === "running" || s.state === "starting") {
    const stop = document.createElement("button");
    stop.textContent = "Stop";
    stop.className = "stop";
    stop.onclick = () => askToStop(v.name);
    action.append(stop);
  }
}

function spark(values) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "spark");
  const span = Math.max(values.length, 24);  // a short history is not squeezed to a corner
  svg.setAttribute("viewBox", "0 0 " + span + " 24");
  svg.setAttribute("preserveAspectRatio", "none");
  const top = Math.max(1, ...values);
  const line = document.createElementNS(ns, "polyline");
  const points = values.map((d, i) => [span - values.length + i, 23 - (22 * d) / top]);
  if (points.length === 1) points.unshift([points[0][0] - 1, points[0][1]]);  // a first sample: a dash
  line.setAttribute("points", points.map((p) => p.join(",")).join(" "));
  svg.append(line);
  return svg;
}

function drawQueue(row, v) {
  const q = v.value || {};
  row.dataset.queue = v.name;
  const history = depthHistory.get(v.name) || [];
  history.push(q.size ?? 0);
  if (history.length > HISTORY) history.shift();
  depthHistory.set(v.name, history);
  cell(row, v.name);
  cell(row, (q.size ?? "?") + (q.maxsize ? " / " + q.maxsize : ""), "depth");
  cell(row, q.unfinished ?? "-");
  cell(row, q.puts ?? "-");
  row.insertCell().append(spark(history));
}

function drawLock(row, v) {
  const l = v.value || {};
  row.dataset.lock = v.name;
  cell(row, v.name);
  cell(row, v.type);
  cell(row, v.error ? "(busy: " + v.error + ")" : l.locked ? holder(l.holder_pid) : "free", "holder");
  cell(row, l.locked ? ago(v.age_ms) : "-");
}

// A variable's value for the table: the text itself, a number, or for the types with
// a structure (shown whole in their own panels) what one asks first.
function summary(v) {
  const x = v.value;
  if (v.error && x === null) return "(" + v.error + ")";
  if (typeof x === "string") return x;
  if (x === null || typeof x !== "object") return JSON.stringify(x);
  if (v.type === "loop") return x.state + (x.pid ? " (" + holder(x.pid) + ")" : "");
  if (v.type === "queue") return x.size + " items" + (x.maxsize ? " of " + x.maxsize : "");
  if (["lock", "rlock", "condition"].includes(v.type)) return x.locked ? "held by " + holder(x.holder_pid) : "free";
  if (v.type === "event") return x.set ? "set" : "clear";
  return JSON.stringify(x);
}

function drawVariable(row, v) {
  row.dataset.variable = v.name;
  cell(row, v.name);
  cell(row, v.type);
  const text = summary(v);
  cell(row, text, "value").title = text;
  cell(row, v.version ?? "-");
  cell(row, v.writer || "-");
  cell(row, ago(v.age_ms));
}

function figure(list, name, value) {
  if (value === null || value === undefined) return;
  const div = document.createElement("div");
  const dt = document.createElement("dt"), dd = document.createElement("dd");
  dt.textContent = name;
  dd.textContent = value;
  div.append(dt, dd);
  list.append(div);
}

function mib(bytes) { return (bytes / 1048576).toFixed(1) + " MiB"; }

function draw(state) {
  const s = state.stat;
  document.getElementById("manager").textContent = s.manager || s.url || "";
  const figures = document.getElementById("figures");
  figures.replaceChildren();
  figure(figures, "variables", s.variables);
  if (s.size) figure(figures, "segment", mib(s.size - s.free_bytes) + " of " + mib(s.size));
  figure(figures, "connections", s.connections);
  figure(figures, "waits", s.waits_pending);
  if (s.uptime_ms !== undefined && s.uptime_ms !== null) figure(figures, "up", ago(s.uptime_ms));
  fill("loops", state.loops, drawLoop);
  fill("queues", state.queues, drawQueue);
  fill("locks", state.locks, drawLock);
  fill("variables", state.variables, drawVariable);
  const more = document.getElementById("more-variables");
  more.hidden = state.matching <= state.variables.length;
  more.textContent = (state.matching - state.variables.length) + " more: narrow the prefix";
  document.getElementById("problem").hidden = true;
}

function setLink(how) {
  const link = document.getElementById("link");
  link.dataset.link = how;
  link.textContent = how;
}

function follow(prefix) {
  if (source) source.close();
  source = new EventSource("events?prefix=" + encodeURIComponent(prefix));
  source.addEventListener("state", (e) => {
    clearTimeout(silence);
    silence = null;
    setLink("live");
    draw(JSON.parse(e.data));
  });
  source.addEventListener("problem", (e) => {
    const p = document.getElementById("problem");
    p.textContent = JSON.parse(e.data).error;
    p.hidden = false;
  });
  // Each stream ends after a few seconds and EventSource reconnects by itself: only
  // a stream that stays away is a lost link.
  source.onerror = () => {
    if (silence === null) silence = setTimeout(() => setLink("lost"), 2000);
  };
}

function askToStop(name) {
  document.getElementById("confirm-name").textContent = name;
  document.getElementById("confirm").hidden = false;
}

async function stopConfirmed() {
  const name = document.getElementById("confirm-name").textContent;
  document.getElementById("confirm").hidden = true;
  const answer = await fetch("api/stop", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }) });
  if (!answer.ok) {
    const p = document.getElementById("problem");
    const said = await answer.json().catch(() => ({}));  // a proxy's error page is not JSON
    p.textContent = "stop " + name + ": " + ((said.error || {}).message || answer.status + " " + answer.statusText);
    p.hidden = false;
  }
}

document.getElementById("confirm-stop").onclick = stopConfirmed;
document.getElementById("confirm-cancel").onclick = () => { document.getElementById("confirm").hidden = true; };
let typing = null;
document.getElementById("prefix").oninput = (e) => {
  clearTimeout(typing);
  typing = setTimeout(() => follow(e.target.value), 200);
};
follow("");
