// One ticket: its thread and history as one timeline, public replies and internal notes, its
// properties (each change saved with the version read, so nobody overwrites another's change),
// the SLA clock, the requester and linked conversations.

import "./shell.js";
import {
  $,
  $$,
  act,
  announce,
  api,
  badge,
  fill,
  fmtDateTime,
  h,
  memberName,
  memberOptions,
  page,
  showError,
  t,
  teamOptions,
  teams,
  timeEl,
  tOr,
} from "./core.js";
import { slaClock } from "./sla.js";

let ticket = null;

async function actorName(actor) {
  const [kind, id] = actor.split(":");
  if (kind === "user") return memberName(id);
  if (kind === "system") return t("ticket.system", { what: id || "" });
  if (kind === "contact") return t("ticket.customer");
  return t("ticket.api");
}

async function valueText(field, value) {
  if (value === null || value === undefined || value === "") return t("ticket.none");
  if (field === "status") return t(`ticket.${value}`);
  if (field === "priority") return t(`priority.${value}`);
  if (field === "assignee_id") return memberName(value);
  if (field === "team_id") {
    const team = (await teams()).find((tm) => tm.id === value);
    return team ? team.name : value;
  }
  if (field.endsWith("_at")) return fmtDateTime(value);
  return Array.isArray(value) ? value.join(", ") : String(value);
}

async function changeLines(changes) {
  const lines = [];
  for (const [field, [before, after]] of Object.entries(changes || {})) {
    if (field === "first_responded_at") continue;
    // Every change of assignee has its own "assigned" event, told once in words.
    if (field === "assignee_id") continue;
    lines.push(
      t("ticket.change", {
        field: tOr(`field.${field}`, field),
        before: await valueText(field, before),
        after: await valueText(field, after),
      }),
    );
  }
  return lines;
}

async function eventText(event) {
  const data = event.data || {};
  switch (event.kind) {
    case "assigned":
      return data.assignee_id
        ? t("event.assigned", { name: await memberName(data.assignee_id) })
        : t("event.unassigned");
    case "updated":
    case "reply":
    case "note": {
      const lines = await changeLines(data.changes);
      return lines.length ? lines.join(" · ") : null;
    }
    case "routed":
      return t("event.routed", { rules: (data.rules || []).join(", ") });
    case "sla_breached":
    case "sla_warning":
      return t(`event.${event.kind}`, { what: t(`sla.${data.target}`) });
    case "escalated":
      return t("event.escalated", { reason: data.reason || "" });
    default:
      return tOr(`event.${event.kind}`, event.kind);
  }
}

function commentItem(comment) {
  const kind = comment.public ? comment.author_kind : "note";
  return h(
    "li",
    { class: `comment ${kind}` },
    h(
      "header",
      {},
      h("strong", { text: comment.author_name || t(`author.${comment.author_kind}`) }),
      comment.public ? h("span", { text: t("ticket.public") }) : h("span", { class: "badge", text: t("ticket.internal") }),
      h("span", { text: tOr(`channel.${comment.channel}`, comment.channel) }),
      timeEl(comment.created_at),
    ),
    h("div", { class: "body", text: comment.body }),
    comment.attachments.map((file) =>
      h("div", {}, h("a", { href: `/api/v1/tickets/${ticket.id}/attachments/${file.id}`, text: `📎 ${file.filename}` })),
    ),
  );
}

async function renderTimeline() {
  const events = await api("GET", `/tickets/${ticket.id}/history`);
  const items = [
    ...ticket.comments.map((c) => ({ at: c.created_at, node: commentItem(c) })),
    ...(await Promise.all(
      events.map(async (event) => {
        const text = await eventText(event);
        if (!text) return null;
        return {
          at: event.at,
          node: h("li", { class: "event" }, await actorName(event.actor), " · ", text, " · ", timeEl(event.at)),
        };
      }),
    )).filter(Boolean),
  ];
  items.sort((a, b) => a.at.localeCompare(b.at));
  fill($("#timeline"), items.map((item) => item.node));
}

function renderSla() {
  const rows = [
    ["sla.first_response", ticket.first_response_due_at, ticket.first_responded_at, ticket.response_breached_at],
    ["sla.resolution", ticket.resolution_due_at, ticket.solved_at, ticket.resolution_breached_at],
  ];
  fill(
    $("#sla"),
    h("p", {}, slaClock(ticket)),
    h(
      "dl",
      { class: "facts" },
      rows.map(([label, due, done, breached]) => [
        h("dt", { text: t(label) }),
        h(
          "dd",
          {},
          due ? t("sla.due", { at: fmtDateTime(due) }) : t("sla.no_target"),
          done ? h("div", { class: "small", text: t("sla.met_at", { at: fmtDateTime(done) }) }) : null,
          breached ? h("div", {}, h("span", { class: "badge sla-breached", text: t("sla.breached") })) : null,
        ),
      ]),
    ),
  );
}

async function renderRequester() {
  if (!ticket.requester_id) {
    fill($("#requester"), h("p", { class: "muted", text: t("ticket.no_requester") }));
    return;
  }
  const person = await api("GET", `/chat/contacts/${ticket.requester_id}`);
  fill(
    $("#requester"),
    h(
      "dl",
      { class: "facts" },
      h("dt", { text: t("customer.name") }),
      h("dd", { text: person.name || "—" }),
      h("dt", { text: t("customer.email") }),
      h("dd", { text: person.email || "—" }),
    ),
  );
}

function renderConversations() {
  fill(
    $("#conversations"),
    ticket.conversation_ids.length
      ? ticket.conversation_ids.map((id, index) =>
          h("li", {}, h("a", { href: `/console/inbox/${id}`, text: t("ticket.conversation_n", { n: index + 1 }) })),
        )
      : h("li", { class: "muted", text: t("ticket.no_conversations") }),
  );
}

async function render() {
  $("#ticket-title").textContent = `#${ticket.number} ${ticket.subject}`;
  document.title = `#${ticket.number} ${ticket.subject} · knowdesk`;
  fill(
    $("#description"),
    h(
      "div",
      { class: "status-line" },
      badge("ticket", ticket.status),
      badge("priority", ticket.priority),
      ticket.category ? h("span", { class: "tag", text: ticket.category }) : null,
      ticket.escalation_level ? h("span", { class: "badge priority-urgent", text: t("ticket.escalated", { n: ticket.escalation_level }) }) : null,
      h("span", { class: "muted small" }, t("ticket.opened"), " ", timeEl(ticket.created_at)),
    ),
    ticket.description
      ? h("div", { class: "body", text: ticket.description })
      : h("p", { class: "muted", text: t("ticket.no_description") }),
  );
  $("#prop-status").value = ticket.status;
  $("#prop-priority").value = ticket.priority;
  fill($("#prop-assignee"), await memberOptions(ticket.assignee_id || "", [["", t("tickets.nobody")]]));
  fill($("#prop-team"), await teamOptions(ticket.team_id || "", [["", t("ticket.none")]]));
  $("#prop-tags").value = ticket.tags.join(", ");
  $("#props-meta").textContent = t("ticket.version", { n: ticket.version });
  fill(
    $("#ticket-actions"),
    h("button", {
      type: "button",
      class: "button",
      text: t("ticket.escalate"),
      on: { click: (event) => act(event.currentTarget, escalate) },
    }),
  );
  renderSla();
  renderConversations();
  await Promise.all([renderTimeline(), renderRequester()]);
}

async function reloadTicket() {
  ticket = await api("GET", `/tickets/${page.ticket_id}`);
  await render();
}

/** Save changed fields with the version read; a newer version means someone else changed it. */
async function change(fields) {
  try {
    ticket = await api("PATCH", `/tickets/${ticket.id}`, { version: ticket.version, ...fields });
    announce(t("ticket.saved"), "ok");
  } catch (error) {
    if (error.status === 409) {
      announce(t("ticket.conflict"), "error");
    } else {
      showError(error);
    }
    ticket = await api("GET", `/tickets/${page.ticket_id}`);
  }
  await render();
}

async function escalate() {
  ticket = await api("POST", `/tickets/${ticket.id}/escalate`, { version: ticket.version, reason: "by hand" });
  announce(t("ticket.escalated_now"), "ok");
  await render();
}

async function reply(event) {
  event.preventDefault();
  if (!ticket) return; // still loading: the text stays for the next press
  const form = event.target;
  const body = form.elements.body.value.trim();
  if (!body) {
    form.elements.body.focus();
    return;
  }
  const payload = { body, public: form.elements.kind.value === "public" };
  if (form.elements.status.value) {
    payload.status = form.elements.status.value;
    payload.version = ticket.version;
  }
  const sent = await act($("#reply-send"), () => api("POST", `/tickets/${ticket.id}/comments`, payload));
  if (!sent) return;
  form.elements.body.value = "";
  form.elements.status.value = "";
  announce(t(payload.public ? "ticket.reply_sent" : "ticket.note_added"), "ok");
  await reloadTicket();
}

function replyKindChanged() {
  const note = $("#reply-form").elements.kind.value === "note";
  $("#reply-form").classList.toggle("note", note);
  $("#reply-label").textContent = t(note ? "ticket.note_body" : "ticket.reply_body");
  $("#reply-send").textContent = t(note ? "ticket.add_note" : "ticket.send_reply");
}

async function start() {
  // Ours before the ticket loads: an early send must not reload the page and lose the reply.
  $("#reply-form").addEventListener("submit", reply);
  await reloadTicket();
  for (const select of $$("select[data-field]")) {
    select.addEventListener("change", () => {
      const value = select.value || null;
      change({ [select.dataset.field]: value }).catch(showError);
    });
  }
  $("#tags-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const tags = $("#prop-tags")
      .value.split(/[,，]/)
      .map((tag) => tag.trim())
      .filter(Boolean);
    change({ tags }).catch(showError);
  });
  for (const radio of $$("#reply-form input[name=kind]")) radio.addEventListener("change", replyKindChanged);
  setInterval(() => ticket && renderSla(), 30000);
}

start().catch(showError);
