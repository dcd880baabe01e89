// Tickets: the list with filters (kept in the address, so a view is a link), built-in and
// saved views, the SLA clock of each ticket, bulk changes, and a new ticket.

import "./shell.js";
import {
  $,
  $$,
  act,
  announce,
  api,
  badge,
  debounce,
  fill,
  h,
  memberName,
  memberOptions,
  page,
  promptDialog,
  showError,
  t,
  teamOptions,
  teams,
  timeEl,
} from "./core.js";
import { slaClock } from "./sla.js";

const PAGE_SIZE = 100;
const ACTIVE = ["new", "open", "pending", "on_hold"];
const FILTERS = ["q", "status", "priority", "assignee", "team", "breached", "triage"];
const BUILT_IN = [
  ["views.mine", "status=active&assignee=me"],
  ["views.unassigned", "status=active&assignee=unassigned"],
  ["views.breached", "status=active&breached=1"],
  ["views.triage", "status=active&triage=1"],
  ["views.active", "status=active"],
  ["views.solved", "status=solved"],
];
const savedKey = `knowdesk-ticket-views:${page.workspace.id}`;
const form = $("#filters");
const selected = new Set();
let rows = []; // tickets shown
let offset = 0;

function savedViews() {
  try {
    return JSON.parse(localStorage.getItem(savedKey)) || [];
  } catch {
    return [];
  }
}

/** The filters as the page's query string (what views are made of). */
function filterQuery() {
  const search = new URLSearchParams();
  for (const name of FILTERS) {
    const input = form.elements[name];
    if (input.type === "checkbox") {
      if (input.checked) search.set(name, "1");
    } else if (input.value.trim()) search.set(name, input.value.trim());
  }
  return search;
}

function applyQuery(query) {
  const search = new URLSearchParams(query);
  for (const name of FILTERS) {
    const input = form.elements[name];
    if (input.type === "checkbox") input.checked = search.get(name) === "1";
    else input.value = search.get(name) || (name === "status" ? "active" : "");
  }
}

/** The API's query for the filters. */
function apiQuery(search, at) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(at) });
  const status = search.get("status") || "active";
  if (status === "active") ACTIVE.forEach((s) => query.append("status", s));
  else if (status !== "any") query.append("status", status);
  if (search.get("q")) query.set("q", search.get("q"));
  if (search.get("priority")) query.set("priority", search.get("priority"));
  const assignee = search.get("assignee");
  if (assignee === "me") query.set("assignee_id", page.user.id);
  else if (assignee === "unassigned") query.set("unassigned", "true");
  else if (assignee) query.set("assignee_id", assignee);
  if (search.get("team")) query.set("team_id", search.get("team"));
  if (search.get("breached")) query.set("breached", "true");
  if (search.get("triage")) query.set("needs_triage", "true");
  return query;
}

function renderViews() {
  const current = filterQuery().toString();
  const link = (label, query, removable) =>
    h(
      "span",
      { class: "row" },
      h("a", {
        class: "button small",
        href: `?${query}`,
        text: label,
        attrs: { "aria-current": new URLSearchParams(query).toString() === current ? "page" : null },
        on: {
          click: (event) => {
            event.preventDefault();
            applyQuery(query);
            reload();
          },
        },
      }),
      removable
        ? h("button", {
            type: "button",
            class: "linkish small",
            text: "×",
            attrs: { "aria-label": t("tickets.delete_view", { name: label }) },
            on: {
              click: () => {
                localStorage.setItem(savedKey, JSON.stringify(savedViews().filter((v) => v.name !== label)));
                renderViews();
              },
            },
          })
        : null,
    );
  fill(
    $("#views"),
    BUILT_IN.map(([key, query]) => link(t(key), query, false)),
    savedViews().map((view) => link(view.name, view.query, true)),
  );
  for (const a of $$("#views a[aria-current=page]")) a.classList.add("primary");
}

async function ticketRow(ticket, teamNames) {
  const checkbox = h("input", {
    type: "checkbox",
    checked: selected.has(ticket.id),
    attrs: { "aria-label": t("bulk.select", { n: ticket.number }) },
    on: {
      change: (event) => {
        if (event.target.checked) selected.add(ticket.id);
        else selected.delete(ticket.id);
        showBulk();
      },
    },
  });
  return h(
    "tr",
    { dataset: { id: ticket.id } },
    h("td", {}, checkbox),
    h("td", { class: "mono", dataset: { label: "#" }, text: String(ticket.number) }),
    h(
      "td",
      { class: "title", dataset: { label: t("tickets.subject") } },
      h("a", { href: `/console/tickets/${ticket.id}`, text: ticket.subject }),
      ticket.needs_triage ? [" ", h("span", { class: "badge priority-high", text: t("tickets.triage") })] : null,
    ),
    h("td", { dataset: { label: t("tickets.status") } }, badge("ticket", ticket.status)),
    h("td", { dataset: { label: t("tickets.priority") } }, badge("priority", ticket.priority)),
    h("td", { dataset: { label: t("tickets.assignee") }, text: ticket.assignee_id ? await memberName(ticket.assignee_id) : t("tickets.nobody") }),
    h("td", { dataset: { label: t("tickets.team") }, text: teamNames.get(ticket.team_id) || "—" }),
    h("td", { class: "sla-cell", dataset: { label: t("tickets.sla") } }, slaClock(ticket)),
    h("td", { dataset: { label: t("tickets.updated") } }, timeEl(ticket.updated_at)),
  );
}

async function render(append) {
  const teamNames = new Map((await teams()).map((team) => [team.id, team.name]));
  const body = $("#tickets tbody");
  const shown = append ? rows.slice(-PAGE_SIZE) : rows;
  const items = await Promise.all(shown.map((ticket) => ticketRow(ticket, teamNames)));
  if (!append) body.replaceChildren();
  body.append(...items);
  if (rows.length === 0) {
    body.append(h("tr", {}, h("td", { class: "empty", attrs: { colspan: 9 }, text: t("tickets.none") })));
  }
  $("#ticket-count").textContent = t("tickets.shown", { n: rows.length });
}

async function load(append = false) {
  const search = filterQuery();
  offset = append ? offset + PAGE_SIZE : 0;
  const batch = await api("GET", `/tickets?${apiQuery(search, offset)}`);
  rows = append ? [...rows, ...batch] : batch;
  if (!append) selected.clear();
  $("#more").hidden = batch.length < PAGE_SIZE;
  await render(append);
  showBulk();
  renderViews();
  history.replaceState(null, "", `?${search}`);
}

const reload = () => load().catch(showError);

function showBulk() {
  $("#bulkbar").hidden = selected.size === 0;
  $("#selected-count").textContent = t("bulk.selected", { n: selected.size });
  $("#select-all").checked = rows.length > 0 && rows.every((ticket) => selected.has(ticket.id));
}

async function applyBulk() {
  const changes = {};
  if ($("#bulk-status").value) changes.status = $("#bulk-status").value;
  if ($("#bulk-priority").value) changes.priority = $("#bulk-priority").value;
  const assignee = $("#bulk-assignee").value;
  if (assignee === "unassigned") changes.assignee_id = null;
  else if (assignee) changes.assignee_id = assignee;
  if (Object.keys(changes).length === 0) {
    announce(t("bulk.nothing"), "error");
    return;
  }
  const chosen = rows.filter((ticket) => selected.has(ticket.id));
  const results = await Promise.allSettled(
    chosen.map((ticket) => api("PATCH", `/tickets/${ticket.id}`, { version: ticket.version, ...changes })),
  );
  const failed = results.filter((r) => r.status === "rejected");
  announce(
    t("bulk.done", { ok: results.length - failed.length, failed: failed.length }),
    failed.length ? "error" : "ok",
  );
  for (const id of ["#bulk-status", "#bulk-priority", "#bulk-assignee"]) $(id).value = "";
  await load();
}

async function createTicket(event) {
  event.preventDefault();
  const data = new FormData(event.target);
  const body = {
    subject: data.get("subject").trim(),
    description: data.get("description").trim(),
  };
  if (data.get("email").trim()) body.requester = { email: data.get("email").trim(), name: data.get("name").trim() };
  if (data.get("priority")) body.priority = data.get("priority");
  try {
    const ticket = await api("POST", "/tickets", body);
    location.assign(`/console/tickets/${ticket.id}`);
  } catch (error) {
    const box = $("#new-error");
    box.hidden = false;
    box.textContent = error.message;
  }
}

async function start() {
  const assigneeExtra = [
    ["", t("filter.anyone")],
    ["me", t("tickets.me")],
    ["unassigned", t("tickets.nobody")],
  ];
  fill($("#assignee"), await memberOptions("", assigneeExtra));
  fill($("#team"), await teamOptions("", [["", t("filter.any")]]));
  fill(
    $("#bulk-assignee"),
    await memberOptions("", [
      ["", t("bulk.keep")],
      ["unassigned", t("tickets.nobody")],
    ]),
  );
  applyQuery(location.search || "status=active");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    reload();
  });
  form.addEventListener("change", reload);
  form.elements.q.addEventListener("input", debounce(reload, 300));
  $("#more").addEventListener("click", (event) => act(event.currentTarget, () => load(true)));
  $("#select-all").addEventListener("change", (event) => {
    for (const ticket of rows) {
      if (event.target.checked) selected.add(ticket.id);
      else selected.delete(ticket.id);
    }
    for (const box of $$("#tickets tbody input[type=checkbox]")) box.checked = event.target.checked;
    showBulk();
  });
  $("#bulk-apply").addEventListener("click", (event) => act(event.currentTarget, applyBulk));
  $("#bulk-clear").addEventListener("click", () => {
    selected.clear();
    for (const box of $$("#tickets input[type=checkbox]")) box.checked = false;
    showBulk();
  });
  $("#save-view").addEventListener("click", async () => {
    const name = await promptDialog(t("tickets.view_name"));
    if (!name) return;
    const views = savedViews().filter((v) => v.name !== name);
    localStorage.setItem(savedKey, JSON.stringify([...views, { name, query: filterQuery().toString() }]));
    renderViews();
    announce(t("tickets.view_saved", { name }), "ok");
  });
  const dialog = $("#new-dialog");
  $("#new-ticket").addEventListener("click", () => {
    dialog.showModal();
    $("#new-subject").focus();
  });
  $("#new-cancel").addEventListener("click", () => dialog.close());
  $("#new-form").addEventListener("submit", createTicket);
  // Keep the SLA clocks current without reloading the list.
  setInterval(() => {
    for (const ticket of rows) {
      const cell = $(`#tickets tr[data-id="${ticket.id}"] .sla-cell`);
      if (cell) fill(cell, slaClock(ticket));
    }
  }, 30000);
  await load();
}

start().catch(showError);
