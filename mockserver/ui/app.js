// mockserver dashboard: three views over the admin API (/__mock/...). No framework, no build step.
// Everything from the server is put on the page with textContent, never as HTML.
"use strict";

const API = "/__mock";
const POLL_MS = 1000;
const state = { journal: [], journalLoaded: false, expanded: new Set(), scenarios: null, docs: null, timer: null };

// -- small DOM helpers ------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const $ = (selector) => document.querySelector(selector);

async function call(path, options = {}) {
  const response = await fetch(API + path, { headers: { Accept: "application/json" }, ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function announce(message) {
  $("#status-line").textContent = message;
}

// -- views and navigation -----------------------------------------------------------------------
const VIEWS = ["journal", "scenarios", "docs"];

function currentView() {
  const wanted = location.hash.replace("#", "").split("/")[0];
  return VIEWS.includes(wanted) ? wanted : "journal";
}

function show(view) {
  for (const name of VIEWS) {
    $(`#view-${name}`).hidden = name !== view;
    const link = document.querySelector(`nav a[data-view="${name}"]`);
    if (name === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${view === "docs" ? "API docs" : view[0].toUpperCase() + view.slice(1)} · mockserver`;
  if (view === "scenarios") loadScenarios();
  if (view === "docs" && !state.docs) loadDocs();
  if (view === "journal") refreshJournal();
}

// -- theme: system, light or dark, remembered -----------------------------------------------------
const THEMES = ["system", "light", "dark"];
function applyTheme(theme) {
  if (theme === "system") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.setAttribute("data-theme", theme);
  $("#theme").textContent = `Theme: ${theme}`;
  $("#theme").setAttribute("aria-label", `Colour theme: ${theme}. Press to change.`);
}
function cycleTheme() {
  const now = localStorage.getItem("mockserver-theme") || "system";
  const next = THEMES[(THEMES.indexOf(now) + 1) % THEMES.length];
  localStorage.setItem("mockserver-theme", next);
  applyTheme(next);
}

// -- journal -------------------------------------------------------------------------------------
function statusClass(status) {
  return `badge s${String(status)[0]} s${status}`;
}

function fieldsOf(entry) {
  const named = [...(entry.errors || []), ...(entry.violations || []).filter((v) => v.in === "request")];
  return new Set(named.map((e) => e.field).filter(Boolean).map((f) => String(f).split(".").pop()));
}

// Pretty JSON with every line that names an offending field marked.
function jsonBlock(value, marked = new Set(), label = "") {
  const pre = el("pre", { tabindex: "0", "aria-label": label || null });
  if (value === null || value === undefined) {
    pre.textContent = "(none)";
    return pre;
  }
  for (const line of JSON.stringify(value, null, 2).split("\n")) {
    const key = /^\s*"([^"]+)":/.exec(line);
    if (key && marked.has(key[1])) pre.append(el("mark", { text: line, title: "named in a validation error" }), "\n");
    else pre.append(line + "\n");
  }
  return pre;
}

function headerList(headers) {
  const list = el("dl", { class: "headers" });
  for (const [name, value] of Object.entries(headers || {})) list.append(el("dt", { text: name }), el("dd", { text: value }));
  return list;
}

function detailRow(entry, id) {
  const marked = fieldsOf(entry);
  const errors = (entry.errors || []).length
    ? el(
        "ul",
        { class: "errors" },
        entry.errors.map((e) => el("li", {}, e.field ? el("code", { text: e.field }) : "", e.field ? ": " : "", e.message || e.details || e.code))
      )
    : el("p", { class: "muted", text: "No validation errors." });
  const query = entry.query ? el("p", {}, el("strong", { text: "Query: " }), entry.query) : null;
  const contract = entry.violations ? violationList(entry.violations) : null;
  return el(
    "tr",
    { class: "detail", id },
    el(
      "td",
      { colspan: "7" },
      el(
        "div",
        { class: "grid" },
        el("div", {}, contract, el("h4", { text: "Validation errors" }), errors, el("h4", { text: "Request headers (secrets masked)" }), headerList(entry.headers), query),
        el("div", {}, el("h4", { text: "Request body" }), jsonBlock(entry.body, marked, "Request body")),
        el(
          "div",
          {},
          el("h4", { text: `Response ${entry.status}` }),
          jsonBlock(entry.response, new Set(), "Response body"),
          el("h4", { text: "Response headers" }),
          headerList(entry.response_headers)
        )
      )
    )
  );
}

// A proxied exchange (serve --upstream): what broke the contract, request and response.
function violationList(violations) {
  const title = el("h4", { text: "Contract violations (proxied)" });
  if (!violations.length) return el("div", {}, title, el("p", { class: "muted", text: "None: both ways conform to the spec." }));
  return el(
    "div",
    {},
    title,
    el(
      "ul",
      { class: "errors violations" },
      violations.map((v) => el("li", {}, `${v.in} · ${v.check}`, v.field ? " · " : "", v.field ? el("code", { text: v.field }) : "", `: ${v.message}`))
    )
  );
}

function ruleCell(entry) {
  const cell = el("td", { text: entry.rule || "–" });
  if (entry.violations && entry.violations.length) {
    const count = entry.violations.length;
    cell.append(" ", el("span", { class: "badge s4", text: `${count} violation${count === 1 ? "" : "s"}` }));
  }
  return cell;
}

function journalRows(entries) {
  const rows = [];
  for (const entry of entries) {
    const id = `entry-${entry.id}`;
    const open = state.expanded.has(entry.id);
    const toggle = el("button", {
      type: "button",
      class: "path",
      "aria-expanded": String(open),
      "aria-controls": `${id}-detail`,
      text: entry.path + (entry.query ? `?${entry.query}` : ""),
      onclick: () => {
        if (state.expanded.has(entry.id)) state.expanded.delete(entry.id);
        else state.expanded.add(entry.id);
        renderJournal();
        document.querySelector(`#${id} button.path`)?.focus();
      },
    });
    const time = new Date(entry.time * 1000);
    rows.push(
      el(
        "tr",
        { id, "data-status": entry.status },
        el("td", { text: time.toLocaleTimeString() }),
        el("td", { text: entry.method }),
        el("td", {}, toggle),
        el("td", {}, el("span", { class: statusClass(entry.status), text: entry.status })),
        el("td", { text: entry.scenario || "–" }),
        ruleCell(entry),
        el("td", { class: "num", text: Number(entry.elapsed_ms).toFixed(1) })
      )
    );
    if (open) rows.push(detailRow(entry, `${id}-detail`));
  }
  return rows;
}

function filtered() {
  const form = $("#journal-filter");
  const status = form.status.value.trim();
  const path = form.path.value.trim().toLowerCase();
  return state.journal.filter(
    (e) => (!status || String(e.status).startsWith(status)) && (!path || (e.path + "?" + e.query).toLowerCase().includes(path))
  );
}

function renderJournal() {
  const entries = filtered();
  $("#journal-table tbody").replaceChildren(...journalRows(entries));
  $("#journal-empty").hidden = state.journal.length > 0;
  $("#journal-count").textContent = `${entries.length} of ${state.journal.length} request${state.journal.length === 1 ? "" : "s"} shown, newest first.`;
}

async function refreshJournal() {
  try {
    const { entries } = await call("/journal?limit=500");
    const changed =
      !state.journalLoaded || entries.length !== state.journal.length || entries.some((e, i) => e.id !== state.journal[i]?.id);
    state.journal = entries;
    state.journalLoaded = true;
    if (changed) renderJournal();
  } catch (error) {
    announce(`Could not read the journal: ${error.message}`);
  }
}

function poll() {
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    if ($("#journal-filter").live.checked && currentView() === "journal" && !document.hidden) refreshJournal();
    loadActive();
  }, POLL_MS);
}

async function clearJournal() {
  await call("/journal", { method: "DELETE" });
  state.expanded.clear();
  await refreshJournal();
  renderJournal();
  announce("Journal cleared.");
}

// -- scenarios -----------------------------------------------------------------------------------
function activeSummary(active, fallback) {
  const parts = [active.everyone || `${fallback} (default)`];
  const brands = Object.keys(active.brands || {}).length;
  const keys = Object.keys(active.keys || {}).length;
  if (brands) parts.push(`${brands} Brand-URL choice${brands > 1 ? "s" : ""}`);
  if (keys) parts.push(`${keys} Auth-Key choice${keys > 1 ? "s" : ""}`);
  return parts.join(" · ");
}

function showReloadProblems(problems) {
  const box = $("#reload-problems");
  box.hidden = !problems.length;
  box.textContent = problems.length ? `The last edit did not load; still serving the previous files:\n${problems.join("\n")}` : "";
}

async function loadActive() {
  try {
    const listing = await call("/scenarios");
    $("#active-summary").textContent = activeSummary(listing.active, listing.default);
    showReloadProblems(listing.reload_problems || []);
    if (currentView() === "scenarios" && JSON.stringify(listing) !== JSON.stringify(state.scenarios)) renderScenarios(listing);
  } catch (error) {
    announce(`Could not reach the admin API: ${error.message}`);
  }
}

async function loadScenarios() {
  renderScenarios(await call("/scenarios"));
}

async function activate(name, scope = "everyone", value = "") {
  const body = { scenario: name };
  if (scope !== "everyone") body[scope] = value;
  try {
    renderScenarios(await call("/scenario", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
    announce(`${name} is now active for ${scope === "everyone" ? "everyone" : `${scope === "brand" ? "Brand-URL" : "Auth-Key"} ${value}`}.`);
  } catch (error) {
    announce(`Could not switch: ${error.message}`);
  }
}

async function undo(query, label) {
  renderScenarios(await call(`/scenario${query}`, { method: "DELETE" }));
  announce(`Undid the choice for ${label}.`);
}

function renderScenarios(listing) {
  state.scenarios = listing;
  const { active } = listing;
  $("#active-summary").textContent = activeSummary(active, listing.default);
  showReloadProblems(listing.reload_problems || []);
  const select = $("#switch-scenario");
  const chosen = select.value;
  select.replaceChildren(...listing.scenarios.map((s) => el("option", { value: s.name, text: s.name })));
  if (chosen) select.value = chosen;

  const choices = [];
  if (active.everyone) choices.push(el("li", {}, `Everyone: ${active.everyone} `, el("button", { type: "button", text: "Undo", onclick: () => undo("", "everyone") })));
  for (const [brand, name] of Object.entries(active.brands || {}))
    choices.push(el("li", {}, `Brand-URL ${brand}: ${name} `, el("button", { type: "button", text: "Undo", "aria-label": `Undo the choice for Brand-URL ${brand}`, onclick: () => undo(`?brand=${encodeURIComponent(brand)}`, brand) })));
  for (const [key, name] of Object.entries(active.keys || {})) choices.push(el("li", {}, `Auth-Key ${key}: ${name}`));
  $("#active-choices").replaceChildren(choices.length ? el("div", {}, el("h3", { text: "Runtime choices" }), el("ul", {}, choices)) : "");

  const current = active.everyone || listing.default;
  const problems = listing.reload_problems || [];
  $("#scenario-list").replaceChildren(
    ...listing.scenarios.map((s) => {
      const isActive = s.name === current;
      const own = problems.filter((p) => s.source && p.includes(s.source.split("/").pop()));
      const tags = [
        isActive ? el("span", { class: "tag on", text: "active for everyone" }) : null,
        s.stateful ? el("span", { class: "tag", text: "stateful" }) : null,
        s.outside_contract ? el("span", { class: "tag", text: "outside the contract" }) : null,
        s.rate_limit ? el("span", { class: "tag", text: `limit ${s.rate_limit.limit} per ${s.rate_limit.window} s by ${s.rate_limit.key}` }) : null,
      ];
      const rules = (s.rule_details || []).map((r) =>
        el(
          "li",
          {},
          el("strong", { text: r.name }),
          `: when ${r.when.join(", ")} → ${r.answers.join(" then ")}`,
          r.sequence ? ` (per ${r.sequence.key}, ${r.sequence.then})` : ""
        )
      );
      return el(
        "article",
        { class: `card${isActive ? " active" : ""}`, "aria-labelledby": `scenario-${s.name}`, "data-scenario": s.name },
        el("h3", { id: `scenario-${s.name}`, text: s.name }),
        el("div", {}, tags),
        el("p", { text: s.description || "No description." }),
        rules.length ? el("ul", { "aria-label": `Rules of ${s.name}` }, rules) : el("p", { class: "muted", text: "No rules: answers as the spec documents." }),
        own.length ? el("p", { class: "problem", role: "note", text: own.join("\n") }) : null,
        el("button", { type: "button", class: isActive ? "" : "primary", disabled: isActive, text: isActive ? "Active" : `Use ${s.name} for everyone`, onclick: () => activate(s.name) })
      );
    })
  );
}

// -- API docs ------------------------------------------------------------------------------------
function constraintText(constraints) {
  return Object.entries(constraints || {})
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" | ") : v}`)
    .join("; ");
}

function table(caption, rows, columns) {
  return el(
    "table",
    {},
    el("caption", { class: "visually-hidden", text: caption }),
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", text: c })))),
    el("tbody", {}, rows)
  );
}

function defaultValue(param) {
  const name = param.name.toLowerCase();
  if (name === "brand-url") return "your-domain.com";
  if (name === "auth-key") return "demo-key";
  return param.constraints?.default ?? "";
}

function tryForm(op, scenarios) {
  const id = `try-${op.id}`;
  const inputs = op.parameters.filter((p) => ["header", "path", "query"].includes(p.in));
  const fields = inputs.map((p) =>
    el("label", {}, `${p.name} (${p.in})`, el("input", { name: p.name, "data-in": p.in, value: defaultValue(p), required: p.required, autocomplete: "off" }))
  );
  const scenario = el(
    "select",
    { name: "X-Mock-Scenario", "data-in": "mock" },
    el("option", { value: "", text: "(the active one)" }),
    scenarios.map((name) => el("option", { value: name, text: name }))
  );
  fields.push(el("label", {}, "X-Mock-Scenario", scenario));
  const body = op.body
    ? el("label", {}, `Body (${op.body.mediaType})`, el("textarea", { name: "__body", rows: "12", spellcheck: "false", text: JSON.stringify(op.body.example ?? {}, null, 2) }))
    : null;
  const output = el("div", { class: "result", "aria-live": "polite", id: `${id}-result` });
  const form = el(
    "form",
    { class: "try", id, "aria-label": `Send ${op.method} ${op.path} to the mock` },
    el("div", { class: "fields" }, fields),
    body,
    el("div", {}, el("button", { type: "submit", class: "primary", text: `Send ${op.method} request` }))
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let path = op.path;
    const headers = {};
    const query = new URLSearchParams();
    for (const input of form.querySelectorAll("[data-in]")) {
      const value = input.value;
      if (input.dataset.in === "path") path = path.replace(`{${input.name}}`, encodeURIComponent(value || "missing"));
      else if (input.dataset.in === "query" && value) query.set(input.name, value);
      else if ((input.dataset.in === "header" || input.dataset.in === "mock") && value) headers[input.name] = value;
    }
    const options = { method: op.method, headers };
    if (op.body) {
      headers["Content-Type"] = op.body.mediaType;
      options.body = form.__body.value;
    }
    const url = path + (query.toString() ? `?${query}` : "");
    output.replaceChildren(el("p", { class: "muted", text: `Sending ${op.method} ${url} …` }));
    try {
      const response = await fetch(url, options);
      const text = await response.text();
      let parsed = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      const shown = {};
      response.headers.forEach((v, k) => (shown[k] = v));
      output.replaceChildren(
        el("h4", {}, "Response ", el("span", { class: statusClass(response.status), text: response.status })),
        typeof parsed === "string" ? el("pre", { text: parsed }) : jsonBlock(parsed, new Set(), "Response body"),
        el("details", {}, el("summary", { text: "Response headers" }), headerList(shown)),
        el("p", {}, el("a", { href: "#journal", text: "See it in the journal" }))
      );
    } catch (error) {
      output.replaceChildren(el("p", { class: "problem", text: `The request failed: ${error.message}` }));
    }
  });
  return el("section", { "aria-label": "Try it" }, el("h4", { text: "Try it against this mock" }), form, output);
}

function renderDocs(model, scenarios) {
  $("#docs-intro").replaceChildren(
    el("p", {}, el("strong", { text: model.title }), model.version ? ` · version ${model.version} · ` : " · ", el("a", { href: `${API}/openapi.json`, text: "openapi.json" })),
    model.description ? el("p", { class: "muted", text: model.description }) : ""
  );
  $("#docs-operations").replaceChildren(
    ...model.operations.map((op) => {
      const params = op.parameters.length
        ? table(
            "Parameters",
            op.parameters.map((p) =>
              el("tr", {}, el("td", {}, el("code", { text: p.name })), el("td", { text: p.in }), el("td", { text: p.required ? "yes" : "no" }), el("td", { text: p.type }), el("td", { text: [p.description, constraintText(p.constraints)].filter(Boolean).join(" — ") }))
            ),
            ["Name", "In", "Required", "Type", "Description"]
          )
        : null;
      const body = op.body
        ? table(
            "Request body fields",
            op.body.properties.map((p) =>
              el("tr", {}, el("td", {}, el("code", { text: p.name })), el("td", { text: p.required ? "yes" : "no" }), el("td", { text: p.type }), el("td", { text: [p.description, constraintText(p.constraints)].filter(Boolean).join(" — ") }))
            ),
            ["Field", "Required", "Type", "Description and constraints"]
          )
        : null;
      const responses = el(
        "ul",
        {},
        op.responses.map((r) =>
          el("li", {}, el("details", {}, el("summary", {}, el("span", { class: statusClass(r.status), text: r.status }), ` ${r.description}`), r.example !== null ? jsonBlock(r.example, new Set(), `Example ${r.status}`) : el("p", { class: "muted", text: "No example." })))
        )
      );
      return el(
        "article",
        { class: "op", id: `op-${op.id}`, "aria-labelledby": `op-${op.id}-title` },
        el("h3", { id: `op-${op.id}-title` }, el("span", { class: "method", text: op.method }), el("code", { text: op.path })),
        op.summary ? el("p", {}, el("strong", { text: op.summary })) : null,
        op.description ? el("p", { class: "muted", text: op.description }) : null,
        params ? el("h4", { text: "Parameters" }) : null,
        params,
        body ? el("h4", { text: "Request body" }) : null,
        body,
        el("h4", { text: "Responses" }),
        responses,
        tryForm(op, scenarios)
      );
    })
  );
}

async function loadDocs() {
  try {
    const [model, listing] = await Promise.all([call("/docs.json"), call("/scenarios")]);
    state.docs = model;
    renderDocs(model, listing.scenarios.map((s) => s.name));
  } catch (error) {
    announce(`Could not load the API docs: ${error.message}`);
  }
}

// -- start ---------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  applyTheme(localStorage.getItem("mockserver-theme") || "system");
  $("#theme").addEventListener("click", cycleTheme);
  $("#clear-journal").addEventListener("click", clearJournal);
  $("#journal-filter").addEventListener("input", renderJournal);
  $("#journal-filter").addEventListener("submit", (event) => event.preventDefault());
  const switchForm = $("#switch-form");
  switchForm.addEventListener("change", () => {
    switchForm.subject.disabled = switchForm.scope.value === "everyone";
  });
  switchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const scope = switchForm.scope.value;
    if (scope !== "everyone" && !switchForm.subject.value.trim()) {
      announce(`Enter the ${scope === "brand" ? "Brand-URL" : "Auth-Key"} to switch for.`);
      switchForm.subject.focus();
      return;
    }
    activate(switchForm.scenario.value, scope, switchForm.subject.value.trim());
  });
  $("#reset-state").addEventListener("click", async () => {
    await call("/reset", { method: "POST" });
    announce("State reset: stored items, sequence counters and rate-limit windows are forgotten.");
  });
  window.addEventListener("hashchange", () => show(currentView()));
  show(currentView());
  loadActive();
  poll();
});
