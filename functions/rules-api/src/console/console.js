// The Key Event Notifications console: the rules API of this origin, in the words of the CTS
// user guide. Plain DOM, no dependencies. Credentials typed for the session live in `session`
// only: never stored, gone with the page.
"use strict";

const MAX_CONDITIONS = 6;
const MAX_GROUPS = 10;
const authMode = document.querySelector('meta[name="auth-mode"]').content;
const session = { accessKey: "", secretKey: "", token: "" };
const project = decodeURIComponent(location.pathname.replace(/^\/console\/?/, "").split("/")[0] || "");
const $ = (id) => document.getElementById(id);

// ---- Requests: unsigned, AK/SK-signed (SDK-HMAC-SHA256, as the Huawei SDKs sign) or bearer.

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error_msg) || "HTTP " + status);
    this.status = status;
    this.code = body && body.error_code;
  }
}

const encoder = new TextEncoder();
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
const sha256Hex = async (text) => hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
// RFC 3986 unreserved characters stay; everything else is escaped, as the SDK's signer does.
const escapeRfc3986 = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

function sdkDate(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function canonicalQuery(search) {
  const pairs = search
    .replace(/^\?/, "")
    .split("&")
    .filter((p) => p)
    .map((p) => {
      const i = p.indexOf("=");
      const [k, v] = i < 0 ? [p, ""] : [p.slice(0, i), p.slice(i + 1)];
      return [decodeURIComponent(k), decodeURIComponent(v)];
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => escapeRfc3986(k) + "=" + escapeRfc3986(v)).join("&");
}

async function signature(method, path, body) {
  const url = new URL(path, location.href);
  const date = sdkDate(new Date());
  let uri = decodeURIComponent(url.pathname).split("/").map(escapeRfc3986).join("/");
  if (!uri.endsWith("/")) uri += "/";
  const signed = "host;x-sdk-date";
  const canonical = [
    method,
    uri,
    canonicalQuery(url.search),
    "host:" + location.host + "\nx-sdk-date:" + date + "\n",
    signed,
    await sha256Hex(body),
  ].join("\n");
  const toSign = "SDK-HMAC-SHA256\n" + date + "\n" + (await sha256Hex(canonical));
  const key = await crypto.subtle.importKey("raw", encoder.encode(session.secretKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = hex(await crypto.subtle.sign("HMAC", key, encoder.encode(toSign)));
  return {
    "X-Sdk-Date": date,
    Authorization: "SDK-HMAC-SHA256 Access=" + session.accessKey + ", SignedHeaders=" + signed + ", Signature=" + sig,
  };
}

async function api(method, path, body) {
  const text = body === undefined ? "" : JSON.stringify(body);
  // The project header the Huawei SDKs send, for servers that compare it with the path's.
  const headers = { "X-Project-Id": project };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (authMode === "aksk") Object.assign(headers, await signature(method, path, text));
  if (authMode === "jwt") headers.Authorization = "Bearer " + session.token;
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : text });
  let data = null;
  try {
    data = await resp.json();
  } catch (_) {
    data = null;
  }
  if (!resp.ok) {
    if (resp.status === 401 && authMode !== "open") showCredentials(data && data.error_msg);
    throw new ApiError(resp.status, data);
  }
  return data;
}

const base = () => "/v3/" + encodeURIComponent(project);

// ---- Small DOM helpers.

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") e.addEventListener("click", v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function show(section) {
  for (const id of ["choose-project", "credentials", "list", "view", "editor"]) $(id).hidden = id !== section;
}

function confirmYes(text) {
  return new Promise((resolve) => {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    const done = (answer) => {
      $("confirm-yes").onclick = $("confirm-no").onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
    };
    $("confirm-yes").onclick = () => done(true);
    $("confirm-no").onclick = () => done(false);
    dialog.oncancel = () => done(false);
    dialog.showModal();
    $("confirm-yes").focus();
  });
}

// ---- The Key Event Notifications page.

let rules = [];

async function refresh() {
  $("list-error").textContent = "";
  try {
    const [smn, fun, quota] = await Promise.all([
      api("GET", base() + "/notifications/smn"),
      api("GET", base() + "/notifications/fun"),
      api("GET", base() + "/quotas"),
    ]);
    rules = smn.notifications.concat(fun.notifications).sort((a, b) => a.create_time - b.create_time);
    const q = quota.resources[0];
    $("quota").textContent = "Notifications: " + q.used + " / " + q.quota;
    $("create").disabled = q.used >= q.quota;
    renderRows();
  } catch (e) {
    $("list-error").textContent = e.message;
  }
}

function renderRows() {
  const body = $("rules").tBodies[0];
  body.replaceChildren();
  $("empty").hidden = rules.length > 0;
  $("select-all").checked = false;
  for (const r of rules) {
    const enabled = r.status === "enabled";
    const more = el(
      "details",
      { class: "more" },
      el("summary", {}, "More"),
      el(
        "div",
        { class: "menu" },
        el("button", { type: "button", class: "link", onclick: () => openEditor(r) }, "Modify"),
        el("button", { type: "button", class: "link", onclick: () => removeRules([r]) }, "Delete"),
      ),
    );
    body.append(
      el(
        "tr",
        { "data-id": r.notification_id },
        el("td", {}, el("input", { type: "checkbox", class: "pick", value: r.notification_id, "aria-label": "Select " + r.notification_name })),
        el("td", {}, r.notification_name),
        el("td", {}, r.notification_type),
        el("td", {}, r.operation_type === "complete" ? "All" : "Custom"),
        el("td", { class: enabled ? "status-enabled" : "status-disabled" }, enabled ? "Enabled" : "Disabled"),
        activityCell(r),
        el("td", { class: "topic" }, r.topic_id || "—"),
        el("td", {}, new Date(r.create_time).toLocaleString()),
        el(
          "td",
          {},
          el("button", { type: "button", class: "link", onclick: () => viewRule(r) }, "View"),
          el("button", { type: "button", class: "link", onclick: () => setStatus(r, !enabled) }, enabled ? "Stop" : "Start"),
          more,
        ),
      ),
    );
  }
  updateDeleteButton();
}

function picked() {
  return Array.from(document.querySelectorAll("input.pick:checked"), (c) => rules.find((r) => r.notification_id === c.value));
}

function updateDeleteButton() {
  $("delete-selected").disabled = picked().length === 0;
}

async function setStatus(rule, enable) {
  const verb = enable ? "enable" : "disable";
  if (!(await confirmYes("Are you sure you want to " + verb + " the key event notification " + rule.notification_name + "?"))) return;
  try {
    await api("PUT", base() + "/notifications", Object.assign(storedBody(rule), { status: enable ? "enabled" : "disabled" }));
  } catch (e) {
    $("list-error").textContent = e.message;
  }
  await refresh();
}

async function removeRules(list) {
  const names = list.map((r) => r.notification_name).join(", ");
  if (!(await confirmYes("Are you sure you want to delete " + names + "?"))) return;
  const ids = list.map((r) => encodeURIComponent(r.notification_id)).join(",");
  try {
    await api("DELETE", base() + "/notifications?notification_id=" + ids);
  } catch (e) {
    $("list-error").textContent = e.message;
  }
  await refresh();
}

/// A stored rule as a modify body.
function storedBody(r) {
  const body = {
    notification_id: r.notification_id,
    notification_name: r.notification_name,
    operation_type: r.operation_type,
    operations: r.operations,
    notify_user_list: r.notify_user_list,
    status: r.status,
    topic_id: r.topic_id || null,
  };
  if (r.filter) body.filter = r.filter;
  if (r.digest) body.digest = r.digest;
  return body;
}

function viewRule(r) {
  const fields = $("view-fields");
  fields.replaceChildren();
  const row = (name, value) => fields.append(el("dt", {}, name), el("dd", {}, value));
  row("Notification Name", r.notification_name);
  row("Notification ID", r.notification_id);
  row("Status", r.status === "enabled" ? "Enabled" : "Disabled");
  row("Operation Type", r.operation_type === "complete" ? "All" : "Custom");
  for (const op of r.operations) row("Operations", op.service_type + " / " + op.resource_type + ": " + op.trace_names.join(", "));
  row("Users", r.notify_user_list.length ? r.notify_user_list.map((g) => g.user_group + ": " + g.user_list.join(", ")).join("; ") : "All users");
  if (r.filter) row("Advanced Filter", (r.filter.is_support_filter ? "" : "(off) ") + r.filter.rule.join(" " + r.filter.condition + " "));
  if (r.digest) row("Limit Messages", digestText(r.digest));
  row("SMN Topic", r.topic_id || "—");
  row("Notification Type", r.notification_type);
  row("Created", new Date(r.create_time).toLocaleString());
  $("view-title").textContent = "Key Event Notification " + r.notification_name;
  $("view-chart").replaceChildren("Loading…");
  fetchActivity(r).then(
    (a) => {
      const sum = (k) => a.hours.reduce((n, h) => n + h[k], 0);
      $("view-chart").replaceChildren(hourChart(hourly(a, 14 * 24)),
        el("p", { class: "hint" }, sum("matches") + " matches: " + sum("published") + " published, " + sum("digested") + " in digests, " + sum("failures") + " failed publishes. " +
          (a.last_match ? "Last fired " + new Date(a.last_match).toLocaleString() + "." : "Never fired.")));
    },
    (e) => $("view-chart").replaceChildren(e.message));
  show("view");
  $("view-close").focus();
}

// ---- Activity: when a rule last fired, its matches per hour (inline SVG).

const HOUR = 3600000;
const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function fetchActivity(r) {
  return api("GET", base() + "/notifications/" + encodeURIComponent(r.notification_id) + "/activity");
}

/// Matches of each of the last `hours` hours, oldest first.
function hourly(activity, hours) {
  const start = Math.floor(Date.now() / HOUR) * HOUR - (hours - 1) * HOUR;
  const counts = new Array(hours).fill(0);
  for (const h of activity.hours) {
    const i = (h.hour - start) / HOUR;
    if (i >= 0 && i < hours) counts[i] = h.matches;
  }
  return counts;
}

/// "just now", "12 min ago", "3 h ago", "2 days ago".
function ago(ms) {
  const minutes = Math.floor((Date.now() - ms) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return minutes + " min ago";
  if (minutes < 48 * 60) return Math.floor(minutes / 60) + " h ago";
  return Math.floor(minutes / 1440) + " days ago";
}

function sparkline(counts) {
  const [w, h] = [120, 24];
  const max = Math.max(1, ...counts);
  const points = counts.map((c, i) => (i * w / (counts.length - 1)).toFixed(1) + "," + (h - 1 - c * (h - 2) / max).toFixed(1)).join(" ");
  const total = counts.reduce((a, b) => a + b, 0);
  const label = total + " matches in 7 days";
  return svg("svg", { class: "sparkline", width: w, height: h, viewBox: "0 0 " + w + " " + h, role: "img", "aria-label": label },
    svg("title", {}, label),
    svg("polyline", { points, fill: "none", stroke: "currentColor", "stroke-width": "1.5" }));
}

/// One bar per hour, a tick and a date at each day's start.
function hourChart(counts) {
  const [bar, h, axis] = [2, 90, 16];
  const max = Math.max(1, ...counts);
  const start = Math.floor(Date.now() / HOUR) * HOUR - (counts.length - 1) * HOUR;
  const total = counts.reduce((a, b) => a + b, 0);
  const label = total + " matches in 14 days, at most " + Math.max(...counts) + " in an hour";
  const chart = svg("svg", { width: counts.length * bar, height: h + axis, role: "img", "aria-label": label }, svg("title", {}, label));
  counts.forEach((c, i) => {
    if (c > 0) {
      const height = Math.max(1, c * h / max);
      chart.append(svg("rect", { x: i * bar, y: h - height, width: bar, height, fill: "currentColor" }, svg("title", {}, new Date(start + i * HOUR).toLocaleString() + ": " + c)));
    }
    const at = new Date(start + i * HOUR);
    if (at.getHours() === 0) {
      chart.append(svg("line", { x1: i * bar, x2: i * bar, y1: h, y2: h + 4, stroke: "currentColor" }),
        svg("text", { x: i * bar + 2, y: h + axis - 2, class: "axis" }, at.getDate() + "/" + (at.getMonth() + 1)));
    }
  });
  return chart;
}

function activityCell(r) {
  const cell = el("td", { class: "activity" }, "…");
  fetchActivity(r).then(
    (a) => cell.replaceChildren(
      el("span", { class: "last-fired" }, a.last_match ? "Last fired " + ago(a.last_match) : "Never fired"),
      sparkline(hourly(a, 7 * 24))),
    () => cell.replaceChildren("—"));
  return cell;
}

/// "At most 3 messages per 5 minutes, then one digest".
function digestText(d) {
  const units = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
  const [size, unit] = units.find(([size]) => d.window_seconds % size === 0);
  const n = d.window_seconds / size;
  return "At most " + d.max_messages + " messages per " + (n === 1 ? unit : n + " " + unit + "s") + ", then one digest";
}

// ---- The create / modify form.

let editing = null; // the stored rule being modified, or null when creating
let operations = [];
let catalog = null;

function checkedValue(name) {
  return document.querySelector('input[name="' + name + '"]:checked').value;
}

function setChecked(id) {
  $(id).checked = true;
}

function openEditor(rule) {
  editing = rule || null;
  $("editor-title").textContent = rule ? "Modify Key Event Notification" : "Create Key Event Notification";
  $("form-error").textContent = "";
  $("test-result").replaceChildren();
  $("notification-name").value = rule ? rule.notification_name : "";
  operations = rule ? rule.operations.map((o) => ({ ...o, trace_names: [...o.trace_names] })) : [];
  setChecked(!rule || rule.operation_type === "complete" ? "op-all" : "op-custom");
  $("filter-rows").replaceChildren();
  const filter = rule && rule.filter;
  $("filter-on").checked = !!(filter && filter.is_support_filter);
  setChecked(filter && filter.condition === "OR" ? "filter-or" : "filter-and");
  for (const text of filter ? filter.rule : []) addCondition(text);
  $("user-groups").replaceChildren();
  const groups = rule ? rule.notify_user_list : [];
  setChecked(groups.length ? "users-specified" : "users-all");
  for (const g of groups) addGroup(g.user_group, g.user_list.join(", "));
  const digest = rule && rule.digest;
  $("digest-on").checked = !!digest;
  $("digest-max").value = digest ? digest.max_messages : 3;
  const windows = $("digest-window");
  if (digest && !Array.from(windows.options).some((o) => Number(o.value) === digest.window_seconds)) {
    windows.append(el("option", { value: String(digest.window_seconds) }, digest.window_seconds + " seconds"));
  }
  windows.value = String(digest ? digest.window_seconds : 300);
  setChecked(!rule || rule.topic_id ? "send-yes" : "send-no");
  $("topic").value = (rule && rule.topic_id) || "";
  syncForm();
  renderOperations();
  show("editor");
  $("notification-name").focus();
}

function syncForm() {
  const custom = checkedValue("operation-type") === "customized";
  $("custom-operations").hidden = !custom;
  if (custom) loadCatalog();
  $("filter").hidden = !$("filter-on").checked;
  if ($("filter-on").checked && $("filter-rows").children.length === 0) addCondition("");
  $("add-condition").disabled = $("filter-rows").children.length >= MAX_CONDITIONS;
  const specified = checkedValue("users") === "specified";
  $("user-groups-box").hidden = !specified;
  if (specified && $("user-groups").children.length === 0) addGroup("", "");
  $("add-group").disabled = $("user-groups").children.length >= MAX_GROUPS;
  $("topic-box").hidden = checkedValue("send") !== "yes";
  $("digest").hidden = !$("digest-on").checked;
}

async function loadCatalog() {
  if (catalog) return;
  try {
    catalog = (await api("GET", base() + "/operations")).operations;
  } catch (e) {
    $("form-error").textContent = "The operations could not be loaded: " + e.message;
    return;
  }
  const services = [...new Set(catalog.map((o) => o.service_type))].sort();
  $("service").replaceChildren(...services.map((s) => el("option", { value: s }, s)));
  fillResourceTypes();
}

function fillResourceTypes() {
  const service = $("service").value;
  const types = catalog.filter((o) => o.service_type === service).map((o) => o.resource_type);
  $("resource-type").replaceChildren(...types.map((t) => el("option", { value: t }, t)));
  fillTraceNames();
}

function fillTraceNames() {
  const entry = catalog.find((o) => o.service_type === $("service").value && o.resource_type === $("resource-type").value);
  const names = entry ? entry.operation_list : [];
  $("trace-names").replaceChildren(...names.map((n) => el("option", { value: n }, n)));
}

function addOperations() {
  const service = $("service").value;
  const resource = $("resource-type").value;
  const chosen = Array.from($("trace-names").selectedOptions, (o) => o.value);
  const typed = $("typed-trace-names").value.split(",").map((s) => s.trim()).filter((s) => s);
  const names = chosen.concat(typed);
  if (!service || !resource || names.length === 0) {
    $("form-error").textContent = "Pick a service, a resource type and at least one trace name.";
    return;
  }
  $("form-error").textContent = "";
  let op = operations.find((o) => o.service_type === service && o.resource_type === resource);
  if (!op) operations.push((op = { service_type: service, resource_type: resource, trace_names: [] }));
  for (const n of names) if (!op.trace_names.includes(n)) op.trace_names.push(n);
  $("typed-trace-names").value = "";
  $("trace-names").selectedIndex = -1;
  renderOperations();
}

function renderOperations() {
  $("operations").replaceChildren(
    ...operations.map((op, i) =>
      el(
        "li",
        {},
        op.service_type + " / " + op.resource_type + ": " + op.trace_names.join(", ") + " ",
        el("button", { type: "button", class: "link", "aria-label": "Remove " + op.service_type + " " + op.resource_type, onclick: () => { operations.splice(i, 1); renderOperations(); } }, "Remove"),
      ),
    ),
  );
}

let rowIds = 0;

function addCondition(text) {
  const n = ++rowIds;
  const m = /^\s*([a-z_]+)\s*(!=|=)\s*(.*?)\s*$/.exec(text || "") || [];
  const field = el("select", { id: "filter-field-" + n },
    ...["trace_rating", "trace_type", "code", "api_version", "resource_id", "resource_name"].map((f) => el("option", { value: f }, f)));
  if (m[1]) field.value = m[1];
  const op = el("select", { id: "filter-op-" + n }, el("option", { value: "=" }, "="), el("option", { value: "!=" }, "!="));
  if (m[2]) op.value = m[2];
  const value = el("input", { id: "filter-value-" + n, autocomplete: "off", spellcheck: "false" });
  value.value = m[3] || "";
  const row = el("li", { class: "condition" },
    el("label", { for: field.id }, "Field"), field,
    el("label", { for: op.id }, "Operator"), op,
    el("label", { for: value.id }, "Value"), value,
    el("button", { type: "button", class: "link", onclick: () => { row.remove(); syncForm(); } }, "Remove"));
  $("filter-rows").append(row);
  $("add-condition").disabled = $("filter-rows").children.length >= MAX_CONDITIONS;
  return row;
}

function addGroup(name, users) {
  const n = ++rowIds;
  const group = el("input", { id: "group-" + n, autocomplete: "off" });
  group.value = name;
  const list = el("input", { id: "group-users-" + n, autocomplete: "off", size: "40" });
  list.value = users;
  const row = el("li", { class: "group" },
    el("label", { for: group.id }, "User Group"), group,
    el("label", { for: list.id }, "Users"), list,
    el("button", { type: "button", class: "link", onclick: () => { row.remove(); syncForm(); } }, "Remove"));
  $("user-groups").append(row);
  $("add-group").disabled = $("user-groups").children.length >= MAX_GROUPS;
  return row;
}

/// The rule the form describes, as create takes it.
function formRule() {
  const rule = { notification_name: $("notification-name").value.trim(), operation_type: checkedValue("operation-type") };
  if (rule.operation_type === "customized") rule.operations = operations;
  rule.notify_user_list =
    checkedValue("users") === "specified"
      ? Array.from($("user-groups").children, (li) => {
          const [group, users] = li.querySelectorAll("input");
          return { user_group: group.value.trim(), user_list: users.value.split(",").map((s) => s.trim()).filter((s) => s) };
        })
      : [];
  if ($("filter-on").checked) {
    rule.filter = {
      is_support_filter: true,
      condition: checkedValue("filter-condition"),
      rule: Array.from($("filter-rows").children, (li) => {
        const [field, op] = li.querySelectorAll("select");
        return field.value + " " + op.value + " " + li.querySelector("input").value.trim();
      }),
    };
  } else if (editing && editing.filter) {
    rule.filter = Object.assign({}, editing.filter, { is_support_filter: false });
  }
  if ($("digest-on").checked) {
    rule.digest = { window_seconds: Number($("digest-window").value), max_messages: Number($("digest-max").value) };
  }
  rule.topic_id = checkedValue("send") === "yes" ? $("topic").value.trim() : null;
  return rule;
}

async function save(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  const rule = formRule();
  try {
    if (editing) {
      const status = rule.topic_id ? editing.status : "disabled";
      await api("PUT", base() + "/notifications", Object.assign({ notification_id: editing.notification_id, status }, rule));
    } else {
      await api("POST", base() + "/notifications", rule);
    }
  } catch (e) {
    $("form-error").textContent = e.message + (e.code ? " (" + e.code + ")" : "");
    $("form-error").focus();
    return;
  }
  show("list");
  await refresh();
}

// ---- Test: the dry run of the form's rule on a trace.

async function loadSamples() {
  try {
    const samples = await (await fetch("/console/assets/samples.json")).json();
    $("sample").replaceChildren(el("option", { value: "" }, "Choose a sample…"), ...samples.map((s, i) => el("option", { value: String(i) }, s.name)));
    $("sample").onchange = () => {
      const s = samples[Number($("sample").value)];
      if (s) $("test-trace").value = JSON.stringify(s.input, null, 2);
    };
  } catch (_) {
    $("sample").replaceChildren(el("option", { value: "" }, "No samples"));
  }
}

async function runTest() {
  const out = $("test-result");
  out.replaceChildren();
  let traces;
  try {
    traces = JSON.parse($("test-trace").value);
  } catch (e) {
    out.append(el("p", { class: "error", role: "alert" }, "The trace is not JSON: " + e.message));
    return;
  }
  let answer;
  try {
    answer = await api("POST", base() + "/notifications/test", { notification: formRule(), traces });
  } catch (e) {
    out.append(el("p", { class: "error", role: "alert" }, e.message + (e.code ? " (" + e.code + ")" : "")));
    return;
  }
  for (const r of answer.results) {
    const head = r.error
      ? el("p", { class: "no-fire" }, "Trace " + (r.item + 1) + " cannot be read: " + r.error)
      : r.fires
        ? el("p", { class: "fires" }, "Trace " + r.trace_id + ": the rule fires.")
        : el("p", { class: "no-fire" }, "Trace " + r.trace_id + ": the rule does not fire (decided by " + r.decided_by + ").");
    out.append(head);
    if (r.checks) {
      out.append(
        el("ul", { class: "checks" },
          ...r.checks.map((c) =>
            el("li", {}, (c.holds ? "✓ " : "✗ ") + c.check + ": " + c.detail,
              ...(c.conditions || []).map((k) => el("div", {}, (k.holds ? "✓ " : "✗ ") + k.rule + " (trace: " + (k.value === null ? "none" : k.value) + ")"))))),
      );
    }
    if (r.would_publish) {
      const w = r.would_publish;
      out.append(el("p", {}, "Subject: " + w.subject), el("pre", { class: "message" }, w.message));
      if (w.email) out.append(el("p", {}, "Email text:"), el("pre", { class: "email" }, w.email));
    }
    if (r.digested) out.append(el("p", { class: "digested" }, "Past the limit: counted into the window's digest."));
  }
  if (answer.would_digest) {
    const d = answer.would_digest;
    out.append(el("p", { class: "digest" }, "Digest: " + d.subject), el("pre", { class: "message" }, d.message));
  }
}

// ---- Start.

function showCredentials(why) {
  show("credentials");
  document.querySelectorAll("#credentials .aksk").forEach((e) => (e.hidden = authMode !== "aksk"));
  document.querySelectorAll("#credentials .jwt").forEach((e) => (e.hidden = authMode !== "jwt"));
  $("credentials-error").textContent = why || "";
  (authMode === "jwt" ? $("token") : $("access-key")).focus();
}

function start() {
  if (!project) {
    show("choose-project");
    $("project-line").hidden = true;
    $("project-form").onsubmit = (e) => {
      e.preventDefault();
      location.assign("/console/" + encodeURIComponent($("project-input").value.trim()));
    };
    $("project-input").focus();
    return;
  }
  $("project").textContent = project;
  $("create").onclick = () => openEditor(null);
  $("delete-selected").onclick = () => removeRules(picked());
  $("select-all").onchange = () => {
    document.querySelectorAll("input.pick").forEach((c) => (c.checked = $("select-all").checked));
    updateDeleteButton();
  };
  $("rules").addEventListener("change", (e) => e.target.classList.contains("pick") && updateDeleteButton());
  $("view-close").onclick = () => show("list");
  $("cancel").onclick = () => show("list");
  $("rule-form").onsubmit = save;
  $("rule-form").addEventListener("change", (e) => e.target.type === "radio" || e.target.id === "filter-on" || e.target.id === "digest-on" ? syncForm() : null);
  $("service").onchange = fillResourceTypes;
  $("resource-type").onchange = fillTraceNames;
  $("add-operations").onclick = addOperations;
  $("add-condition").onclick = () => { addCondition(""); syncForm(); };
  $("add-group").onclick = () => { addGroup("", ""); syncForm(); };
  $("run-test").onclick = runTest;
  $("credentials-form").onsubmit = (e) => {
    e.preventDefault();
    session.accessKey = $("access-key").value.trim();
    session.secretKey = $("secret-key").value;
    session.token = $("token").value.trim();
    show("list");
    refresh();
  };
  loadSamples();
  if (authMode === "open") {
    show("list");
    refresh();
  } else {
    showCredentials();
  }
}

start();
