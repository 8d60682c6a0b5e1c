// The timeline page: reads /v1/entities, /v1/timeline and /v1/facts of the service that serves it (no build
// step, no dependencies). Everything from the lake is inserted as text, never as HTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const PAGE = 50;
  const ROOT = location.pathname.replace(/\/ui(\/.*)?$/, "");
  const state = { key: "", tenant: "", entity: "", rows: [], page: 0, history: [], span: null, timer: null, seq: 0 };

  const ms = (iso) => (iso ? Date.parse(iso) : NaN);
  const day = (iso) => (iso ? iso.slice(0, 16).replace("T", " ") : "now");
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  const say = (text) => { $("message").textContent = text || ""; };

  async function api(path, params) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") query.set(k, v);
    const resp = await fetch(`${ROOT}${path}?${query}`, { headers: state.key ? { Authorization: `Bearer ${state.key}` } : {} });
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    if (!resp.ok) {
      const detail = body && (body.detail || body.error);
      const why = { 401: "the API key is missing, unknown or revoked", 403: "this API key may not read that tenant" };
      throw new Error(`${why[resp.status] || `error ${resp.status}`}${detail ? ` (${detail})` : ""}`);
    }
    return body;
  }

  // -- timeline (paged: only one page of rows is ever in the DOM) ----------------------------------------------
  function renderTimeline(rows, page) {
    const t0 = performance.now();
    if (rows !== undefined) { state.rows = rows; state.page = page || 0; }
    const list = $("timeline");
    const pages = Math.max(1, Math.ceil(state.rows.length / PAGE));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    const frag = document.createDocumentFragment();
    if (!state.rows.length) {
      frag.append(el("li", "empty", state.entity ? `Nothing about “${state.entity}” in tenant “${state.tenant}”.`
        : "Pick a tenant and an entity."));
    }
    const start = state.page * PAGE;
    for (const row of state.rows.slice(start, start + PAGE)) {
      const li = el("li");
      li.dataset.sources = (row.source_event_ids || []).join(" ");
      li.append(el("span", "kind", row.kind), el("span", "text", row.text));
      const meta = [day(row.occurred_at), row.actor, row.stream && `stream ${row.stream}`,
        `sources ${(row.source_event_ids || []).join(", ")}`].filter(Boolean).join(" · ");
      li.append(el("div", "meta", meta));
      frag.append(li);
    }
    list.replaceChildren(frag);
    $("timeline-count").textContent = state.rows.length ? `${state.rows.length} entries, in time order` : "";
    $("page").textContent = `page ${state.page + 1} / ${pages}`;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
    return performance.now() - t0;
  }

  // -- facts: one bitemporal strip per predicate ------------------------------------------------------------------
  function computeSpan(rows) {
    const times = [];
    for (const r of rows) for (const k of ["valid_from", "valid_to", "occurred_at"]) if (r[k]) times.push(ms(r[k]));
    if (!times.length) return null;
    let lo = Math.min(...times), hi = Math.max(...times);
    const pad = Math.max((hi - lo) * 0.2, 86400000);
    return { lo: lo - pad / 4, hi: hi + pad };
  }

  function renderFacts(rows) {
    const box = $("facts");
    const frag = document.createDocumentFragment();
    const span = state.span;
    if (!rows.length || !span) {
      frag.append(el("p", "empty", state.entity ? `No facts about “${state.entity}” known at this time.`
        : "Pick a tenant and an entity."));
      box.replaceChildren(frag);
      $("axis").replaceChildren();
      return;
    }
    const pct = (t) => Math.min(100, Math.max(0, ((t - span.lo) / (span.hi - span.lo)) * 100));
    const groups = new Map();
    for (const r of [...rows].sort((a, b) => ms(a.valid_from) - ms(b.valid_from))) {
      if (!groups.has(r.predicate)) groups.set(r.predicate, []);
      groups.get(r.predicate).push(r);
    }
    for (const [predicate, versions] of groups) {
      const row = el("div", "fact-row");
      row.dataset.predicate = predicate;
      row.append(el("div", "pred", predicate.replace(/_/g, " ")));
      const strip = el("div", "strip");
      const lanes = [];
      for (const v of versions) {
        const left = pct(ms(v.valid_from));
        const right = v.valid_to ? pct(ms(v.valid_to)) : 100;
        let lane = lanes.findIndex((end) => end <= left);
        if (lane < 0) { lane = lanes.length; lanes.push(0); }
        lanes[lane] = right;
        const bar = el("div", `bar ${v.status || "current"}`, v.object);
        bar.style.left = `${left}%`;
        bar.style.width = `${Math.max(right - left, 1.2)}%`;
        bar.style.top = `${3 + lane * 23}px`;
        bar.title = `${v.object}: valid ${day(v.valid_from)} → ${v.valid_to ? day(v.valid_to) : "now"} (${v.status})`;
        bar.dataset.rowId = v.row_id;
        bar.addEventListener("click", () => showEvidence(v, bar));
        strip.append(bar);
      }
      strip.style.height = `${6 + lanes.length * 23}px`;
      row.append(strip);
      // the chain of values: consecutive versions of one value (a plan, then its confirmation) are one step
      const chain = el("div", "versions");
      let last = null;
      for (const v of versions) {
        if (last && last.fact.object === v.object) { last.fact = v; last.chip.className = `v ${v.status}`; continue; }
        if (last) chain.append(" → ");
        last = { fact: v, chip: el("span", `v ${v.status || "current"}`, v.object) };
        const step = last;
        step.chip.addEventListener("click", () => showEvidence(step.fact, step.chip));
        chain.append(step.chip);
      }
      row.append(chain);
      frag.append(row);
    }
    box.replaceChildren(frag);
    const axis = el("div");
    axis.append(el("span", "", day(new Date(span.lo).toISOString())), el("span", "", day(new Date(span.hi).toISOString())));
    $("axis").replaceChildren(el("span"), axis);
  }

  function showEvidence(fact, node) {
    document.querySelectorAll(".selected").forEach((n) => n.classList.remove("selected"));
    node.classList.add("selected");
    const ids = new Set(fact.source_event_ids || []);
    const body = $("evidence-body");
    const frag = document.createDocumentFragment();
    frag.append(el("p", "", `${fact.subject} ${fact.predicate.replace(/_/g, " ")} ${fact.object}`),
      el("p", "meta", `valid ${day(fact.valid_from)} → ${fact.valid_to ? day(fact.valid_to) : "now"} · ${fact.status}` +
        ` · recorded ${day(fact.recorded_at)}${fact.superseded_by ? " · superseded" : ""}`));
    const turns = state.rows.filter((r) => (r.source_event_ids || []).some((id) => ids.has(id)) && r.kind !== "fact");
    if (fact.statement) {
      const quote = el("div", "turn", `“${fact.statement}”`);
      quote.append(el("div", "meta", `${day(fact.occurred_at)} · ${fact.actor || ""} · events ${[...ids].join(", ")}`));
      frag.append(quote);
    }
    for (const r of turns) {
      const turn = el("div", "turn", r.text);
      turn.append(el("div", "meta", `${day(r.occurred_at)} · ${r.actor || ""} · ${(r.source_event_ids || []).join(", ")}`));
      frag.append(turn);
    }
    if (!fact.statement && !turns.length) frag.append(el("p", "meta", `source events: ${[...ids].join(", ")}`));
    body.replaceChildren(frag);
    $("evidence").hidden = false;
    const first = state.rows.findIndex((r) => (r.source_event_ids || []).some((id) => ids.has(id)));
    if (first >= 0) {
      renderTimeline(undefined);
      state.page = Math.floor(first / PAGE);
      renderTimeline(undefined);
      document.querySelectorAll("#timeline li").forEach((li) => {
        if (li.dataset.sources.split(" ").some((id) => ids.has(id))) li.classList.add("hl");
      });
    }
  }

  // -- the "as known at" slider: re-reads the facts as of that time -------------------------------------------
  function knownAt() {
    const v = Number($("known-at").value);
    if (!state.span || v >= 1000) return null;
    return new Date(state.span.lo + ((state.span.hi - state.span.lo) * v) / 1000).toISOString();
  }

  function onSlide() {
    const at = knownAt();
    $("known-label").textContent = at ? day(at) : "now";
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      const seq = ++state.seq;
      try {
        const body = await api("/v1/facts", { tenant: state.tenant, subject: state.entity, history: "true", as_of: at });
        if (seq === state.seq) renderFacts(body.rows);
      } catch (e) { say(e.message); }
    }, 120);
  }

  // -- loading -------------------------------------------------------------------------------------------------
  async function loadEntities() {
    const body = await api("/v1/entities", { tenant: state.tenant });
    const list = $("entities");
    list.replaceChildren(...body.rows.map((r) => { const o = el("option"); o.value = r.name; return o; }));
    return body.rows;
  }

  async function show(event) {
    if (event) event.preventDefault();
    state.key = $("key").value.trim();
    sessionStorage.setItem("tracelake.key", state.key);
    state.tenant = $("tenant").value.trim();
    state.entity = $("entity").value.trim();
    say("");
    $("evidence").hidden = true;
    try {
      if (!state.tenant) {
        const me = await api("/v1/whoami");
        $("tenants").replaceChildren(...me.tenants.map((t) => { const o = el("option"); o.value = t; return o; }));
        if (me.tenants.length === 1 && me.tenants[0] !== "*") state.tenant = $("tenant").value = me.tenants[0];
        else { say("Pick one of this key's tenants."); return; }
      }
      const none = { rows: [] };  // the three reads run in parallel
      const [entities, timeline, facts] = await Promise.all([
        loadEntities(),
        state.entity ? api("/v1/timeline", { tenant: state.tenant, entity: state.entity, limit: 100000 }) : none,
        state.entity ? api("/v1/facts", { tenant: state.tenant, subject: state.entity, history: "true" }) : none,
      ]);
      if (!entities.length) say(`Tenant “${state.tenant}” has no entities (unknown tenant, or nothing consolidated yet).`);
      if (!state.entity) { renderTimeline([]); renderFacts([]); if (entities.length) say("Pick an entity."); return; }
      state.history = facts.rows;
      state.span = computeSpan([...facts.rows, ...timeline.rows]);
      $("known-at").disabled = !state.span;
      $("known-at").value = 1000;
      $("known-label").textContent = "now";
      renderTimeline(timeline.rows, 0);  // one row per event: the server's timeline
      renderFacts(facts.rows);
      if (!timeline.rows.length && !facts.rows.length && entities.length) {
        say(`No memories about “${state.entity}” in tenant “${state.tenant}”.`);
      }
      document.body.dataset.loaded = `${state.tenant}/${state.entity}`;
    } catch (e) {
      renderTimeline([]);
      renderFacts([]);
      say(`Could not load: ${e.message}.`);
      document.body.dataset.loaded = "error";
    }
  }

  $("pick").addEventListener("submit", show);
  $("known-at").addEventListener("input", onSlide);
  $("prev").addEventListener("click", () => { state.page -= 1; renderTimeline(undefined); });
  $("next").addEventListener("click", () => { state.page += 1; renderTimeline(undefined); });
  $("key").value = sessionStorage.getItem("tracelake.key") || "";
  const q = new URLSearchParams(location.search);
  if (q.get("tenant")) $("tenant").value = q.get("tenant");
  if (q.get("entity")) $("entity").value = q.get("entity");
  if (q.get("tenant") && q.get("entity") && $("key").value) show();
  renderTimeline([]);

  window.tracelakeUI = { renderTimeline, renderFacts, state };
})();
