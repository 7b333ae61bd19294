// The etcd-mesos web page: polls GET /health and draws it; the buttons POST
// to the admin interface with the secret typed in (never stored). Every text
// from the server goes into the page as text (textContent), never as HTML.
"use strict";

const POLL_MS = 1500;
const REQUEST_TIMEOUT_MS = 5000;

function $(id) { return document.getElementById(id); }

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function bytes(n) {
  if (typeof n !== "number") return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

function clock(unixSeconds) {
  if (typeof unixSeconds !== "number") return "";
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

async function request(method, path, headers) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    return await fetch(path, {
      method, headers: headers || {}, cache: "no-store", credentials: "omit",
      signal: controller.signal,
    });
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- members

function drawMembers(data) {
  const checked = new Map();
  for (const m of data.members || []) checked.set(m.name, m);
  const tasks = data.tasks || [];
  const rows = tasks.map((t) => {
    const h = checked.get(t.name);
    const tr = el("tr");
    tr.dataset.member = t.name;
    // data-label names the column where a phone shows each row as a card.
    const cell = (label, text, className) => {
      const td = el("td", text, className);
      td.dataset.label = label;
      tr.appendChild(td);
      return td;
    };
    cell("Name", t.name, "name" + (h && h.is_leader ? " leader" : ""));
    cell("Host", t.host);
    cell("Agent", t.agent_id).title = "task " + t.task_id;
    cell("State", t.state, "state-" + t.state);
    cell("Raft index", h && h.reachable ? h.raft_index : "", "num");
    cell("Leader", h && h.is_leader ? "leader" : "", "leader");
    cell("DB size", h && h.reachable ? bytes(h.db_size) : "", "num");
    if (!h) {
      cell("Last check", "not checked yet", "muted");
    } else if (!h.reachable) {
      cell("Last check", "unreachable: " + (h.error || ""), "error");
    } else {
      cell("Last check", h.error ? h.error : "ok", h.error ? "error" : "");
    }
    return tr;
  });
  if (rows.length === 0) {
    const td = el("td", "no members yet", "muted");
    td.colSpan = 8;
    rows.push(el("tr"));
    rows[0].appendChild(td);
  }
  $("members").tBodies[0].replaceChildren(...rows);
  const size = data.scheduler && data.scheduler.cluster_size;
  $("member-count").textContent = tasks.length + (size ? " of " + size : "");
  // The resize choice starts at the current size (and is the operator's after).
  if (size && !sizeChosen) $("size").value = String(size);
}

let sizeChosen = false;

// ---------------------------------------------------------------- scheduler

function drawScheduler(data) {
  const s = data.scheduler || {};
  const rows = [];
  const add = (name, value, bad) => {
    if (value === undefined || value === null || value === "") return;
    rows.push(el("dt", name));
    rows.push(el("dd", value, bad ? "bad" : ""));
  };
  add("plan", s.plan);
  add("cluster size", s.cluster_size);
  if (s.locked) add("locked", (s.lock ? s.lock + ": " : "") + (s.lock_reason || ""), true);
  if (s.livelocked) {
    add("livelocked", Math.round(s.livelock_seconds || 0) + " s: " + (s.livelock_reason || ""),
        true);
  }
  if (s.partitioned) add("partitioned", s.partition_reason, true);
  add("reseed", s.reseed, true);
  if (typeof s.reseed_in_seconds === "number") {
    add("automatic reseed in", Math.round(s.reseed_in_seconds) + " s", true);
  }
  add("auto reseed", s.auto_reseed === undefined ? "" : (s.auto_reseed ? "on" : "off"));
  add("last reseed", s.last_reseed);
  add("reconcile", s.reconcile);
  add("persistence", s.persistence);
  add("subscribed", s.subscribed === undefined ? "" : (s.subscribed ? "yes" : "no"),
      s.subscribed === false);
  add("framework", s.framework_id);
  add("role", s.role);
  // Backups, when the scheduler reports them: whatever fields it gives.
  const backup = s.backup || data.backup;
  if (backup && typeof backup === "object") {
    for (const [k, v] of Object.entries(backup)) {
      if (v !== null && typeof v !== "object") add("backup " + k.replace(/_/g, " "), v);
    }
  }
  if (Array.isArray(data.alarms) && data.alarms.length) {
    add("alarms", data.alarms.map((a) => a.alarm + " on " + a.member_id).join(", "), true);
  }
  $("scheduler").replaceChildren(...rows);
}

// ---------------------------------------------------------------- checks

function drawChecks(data) {
  const checks = data.checks || [];
  const longest = Math.max(0.001, ...checks.map((c) => c.duration_seconds || 0));
  const ticks = checks.map((c) => {
    const t = el("div", null, "tick" + (c.healthy ? "" : " bad"));
    // Height by duration: a slow check stands out (CSSOM, allowed by the CSP).
    t.style.height = Math.max(15, Math.round(100 * (c.duration_seconds || 0) / longest)) + "%";
    t.title = clock(c.time) + " " + (c.healthy ? "healthy" : "unhealthy: " + c.reason) + " (" +
              (c.duration_seconds || 0).toFixed(2) + " s)";
    t.dataset.healthy = c.healthy ? "1" : "0";
    return t;
  });
  $("timeline").replaceChildren(...ticks);
  const bad = checks.filter((c) => !c.healthy).length;
  $("check-summary").textContent =
      checks.length ? checks.length + " checks, " + bad + " unhealthy" : "none yet";
  const lastBad = [...checks].reverse().find((c) => !c.healthy);
  $("last-failure").textContent =
      lastBad ? "last unhealthy: " + clock(lastBad.time) + " " + lastBad.reason : "";
}

// ---------------------------------------------------------------- events

function drawEvents(data) {
  const items = (data.events || []).slice().reverse().map((e) => {
    const li = el("li", null, "level-" + e.level);
    li.appendChild(el("time", clock(e.time)));
    li.appendChild(document.createTextNode(e.text));
    return li;
  });
  $("events").replaceChildren(...items);
}

// ---------------------------------------------------------------- polling

function drawVerdict(data) {
  const v = $("verdict");
  v.className = "pill " + (data.healthy ? "ok" : "bad");
  v.dataset.healthy = data.healthy ? "1" : "0";
  v.textContent = data.healthy ? "healthy" : "unhealthy: " + (data.reason || "");
}

function showStandby(leader) {
  const b = $("standby");
  b.replaceChildren(document.createTextNode("This scheduler is a standby. "));
  if (leader) {
    b.appendChild(document.createTextNode("The leader is "));
    const a = el("a", leader);
    a.href = "http://" + leader + "/";
    b.appendChild(a);
    b.appendChild(document.createTextNode("."));
  } else {
    b.appendChild(document.createTextNode("The leader is not known yet."));
  }
  b.hidden = false;
  // What this scheduler showed while it led is stale now.
  for (const id of ["scheduler", "timeline", "events"]) $(id).replaceChildren();
  $("members").tBodies[0].replaceChildren();
  $("member-count").textContent = "";
  $("check-summary").textContent = "";
  $("last-failure").textContent = "";
  const v = $("verdict");
  v.className = "pill unknown";
  v.textContent = "standby";
}

async function poll() {
  try {
    const res = await request("GET", "/health");
    const body = await res.json();
    if (res.status === 503 && body.role === "standby") {
      showStandby(body.leader);
    } else if (!res.ok) {
      throw new Error("GET /health answered " + res.status);
    } else {
      $("standby").hidden = true;
      drawVerdict(body);
      drawMembers(body);
      drawScheduler(body);
      drawChecks(body);
      drawEvents(body);
    }
    $("problem").hidden = true;
    $("updated").textContent = "updated " + new Date().toLocaleTimeString([], { hour12: false });
  } catch (e) {
    const p = $("problem");
    p.textContent = "Cannot read /health (" + (e && e.message ? e.message : e) +
                    "); showing what was read last, trying again.";
    p.hidden = false;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// ---------------------------------------------------------------- actions

async function act(path, button) {
  const secret = $("secret").value;
  const headers = secret ? { Authorization: "Bearer " + secret } : {};
  const answer = $("answer");
  button.disabled = true;
  try {
    const res = await request("POST", path, headers);
    const text = (await res.text()).trim();
    answer.textContent = "POST " + path + ": " + res.status + " " + res.statusText + "\n" + text;
    answer.className = "answer " + (res.status === 202 ? "ok" : "bad");
  } catch (e) {
    answer.textContent = "POST " + path + " failed: " + (e && e.message ? e.message : e);
    answer.className = "answer bad";
  } finally {
    answer.hidden = false;
    button.disabled = false;
  }
}

function start() {
  $("backup").addEventListener("click", (e) => act("/backup", e.currentTarget));
  $("reseed").addEventListener("click", (e) => {
    const really = window.confirm(
        "Reseed the cluster? The live member with the highest raft index becomes a new " +
        "one-member cluster and the others are retired. Only a cluster that lost its " +
        "majority is reseeded; otherwise the scheduler refuses.");
    if (really) act("/reseed", e.currentTarget);
  });
  $("size").addEventListener("change", () => { sizeChosen = true; });
  $("resize").addEventListener("click", (e) => {
    act("/cluster-size?size=" + encodeURIComponent($("size").value), e.currentTarget);
  });
  poll();
}

document.addEventListener("DOMContentLoaded", start);
