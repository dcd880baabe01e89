// Inbox: the live list of conversations by state and team, one conversation with its history
// (and the bot's sources for each answer), the customer's profile, past conversations and
// tickets, a suggested answer from the knowledge base, and the agent's actions: take over,
// reply (with canned replies), hand back to the bot, resolve, create a ticket.

import "./shell.js";
import {
  $,
  $$,
  act,
  announce,
  api,
  badge,
  clientId,
  fill,
  fmtClock,
  fmtDateTime,
  h,
  memberName,
  page,
  showError,
  t,
  teamOptions,
  timeEl,
} from "./core.js";
import { live } from "./live.js";
import { cannedReplies, manageCanned } from "./canned.js";

const socket = live();
const me = page.user.id;
const PAGE = 500;

// Each view is one or more list queries of GET /chat/conversations.
const VIEWS = {
  mine: [{ state: "assigned", assignee: "me" }],
  queued: [{ state: "queued" }],
  open: [{ state: "queued" }, { state: "assigned" }],
  bot: [{ state: "bot" }],
  resolved: [{ state: "resolved" }],
};

const params = new URLSearchParams(location.search);
const state = {
  view: VIEWS[params.get("view")] ? params.get("view") : "open",
  team: params.get("team") || "",
  list: new Map(), // conversation id -> conversation
  current: null, // the conversation shown
  shown: new Set(), // seqs of the messages shown
  lastSeq: 0,
  lastRead: 0,
  typingTimer: null,
  lastTypingSent: 0,
};
const contacts = new Map(); // contact id -> Promise<contact>

function contact(contactId) {
  if (!contacts.has(contactId)) {
    contacts.set(
      contactId,
      api("GET", `/chat/contacts/${contactId}`).catch(() => ({ id: contactId, name: "", email: "" })),
    );
  }
  return contacts.get(contactId);
}

function contactLabel(person) {
  return person.name || person.email || t("inbox.visitor", { id: person.id.slice(0, 6) });
}

// -- the list -----------------------------------------------------------------------------------

function matches(conversation) {
  if (state.team && conversation.team_id !== state.team) return false;
  return VIEWS[state.view].some(
    (q) =>
      q.state === conversation.state && (q.assignee !== "me" || conversation.assignee_id === me),
  );
}

function ordered() {
  const rows = [...state.list.values()];
  if (state.view === "queued") {
    // The queue: whoever has waited longest first.
    return rows.sort((a, b) => (a.queued_at || "").localeCompare(b.queued_at || ""));
  }
  const last = (c) => c.last_message_at || c.created_at;
  return rows.sort((a, b) => last(b).localeCompare(last(a)));
}

function viewUrl(conversationId) {
  const search = new URLSearchParams({ view: state.view });
  if (state.team) search.set("team", state.team);
  return `/console/inbox${conversationId ? `/${conversationId}` : ""}?${search}`;
}

function listItem(conversation) {
  const who = h("span", { class: "who", text: "…" });
  contact(conversation.contact_id).then((person) => {
    who.textContent = contactLabel(person);
  });
  const assignee = h("span");
  if (conversation.assignee_id) {
    memberName(conversation.assignee_id).then((name) => {
      assignee.textContent = name;
    });
  }
  const link = h(
    "a",
    {
      href: viewUrl(conversation.id),
      attrs: { "aria-current": state.current && state.current.id === conversation.id ? "page" : null },
      dataset: { id: conversation.id },
      on: {
        click: (event) => {
          if (event.ctrlKey || event.metaKey || event.shiftKey) return;
          event.preventDefault();
          history.pushState(null, "", viewUrl(conversation.id));
          openConversation(conversation.id, true).catch(showError);
        },
      },
    },
    who,
    timeEl(conversation.last_message_at || conversation.created_at, "small muted"),
    h(
      "span",
      { class: "meta" },
      badge("state", conversation.state),
      assignee,
      conversation.tags.map((tag) => h("span", { class: "tag", text: tag })),
    ),
  );
  return h("li", {}, link);
}

function renderList() {
  const rows = ordered();
  fill($("#conversations"), rows.map(listItem));
  $("#no-conversations").hidden = rows.length > 0;
  for (const button of $$("#states button")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === state.view));
  }
}

async function loadList() {
  const results = await Promise.all(
    VIEWS[state.view].map((q) => {
      const search = new URLSearchParams({ state: q.state, limit: String(PAGE) });
      if (q.assignee) search.set("assignee", q.assignee);
      if (state.team) search.set("team_id", state.team);
      return api("GET", `/chat/conversations?${search}`);
    }),
  );
  state.list = new Map(results.flat().map((c) => [c.id, c]));
  renderList();
}

function onConversation(frame) {
  const conversation = frame.conversation;
  const known = state.list.has(conversation.id);
  if (matches(conversation)) {
    state.list.set(conversation.id, conversation);
    if (!known && conversation.state === "queued") announce(t("inbox.new_waiting"));
  } else {
    state.list.delete(conversation.id);
  }
  renderList();
  if (state.current && state.current.id === conversation.id) {
    state.current = { ...state.current, ...conversation };
    renderHead();
  }
}

// -- one conversation ---------------------------------------------------------------------------

function senderLabel(message) {
  if (message.sender_kind === "bot") return t("inbox.bot");
  if (message.sender_kind === "agent") return message.sender_name || t("inbox.agent");
  if (message.sender_kind === "contact") return state.contactName || t("inbox.customer");
  return "";
}

function sourcesOf(message) {
  const sources = (message.meta && message.meta.sources) || [];
  if (!sources.length) return null;
  return h(
    "details",
    {},
    h("summary", { text: t("inbox.sources", { n: sources.length }) }),
    h(
      "ol",
      { class: "plain-list" },
      sources.map((source) =>
        h(
          "li",
          {},
          h("a", { href: `/console/kb/entries/${source.entry_id}`, text: source.title }),
          " ",
          h("span", { class: "score muted small", text: t("try.score", { score: Number(source.score).toFixed(2) }) }),
          source.text ? h("p", { class: "snippet small", text: source.text }) : null,
        ),
      ),
    ),
  );
}

function messageItem(message) {
  const kind = message.sender_kind;
  if (kind === "system") {
    return h("li", { class: "msg system", dataset: { seq: message.seq } }, message.text, " · ", timeEl(message.created_at));
  }
  const decision = kind === "bot" && message.meta && message.meta.decision;
  return h(
    "li",
    { class: `msg ${kind}`, dataset: { seq: message.seq } },
    h(
      "div",
      { class: "from" },
      h("strong", { text: senderLabel(message) }),
      h("time", {
        text: fmtClock(message.created_at),
        attrs: { datetime: message.created_at, title: fmtDateTime(message.created_at) },
      }),
      decision ? badge("decision", decision) : null,
      message.rating ? h("span", { class: "badge", text: t(`rating.${message.rating}`) }) : null,
    ),
    message.text ? h("div", { class: "text", text: message.text }) : null,
    message.buttons && message.buttons.length
      ? h("div", { class: "chips" }, message.buttons.map((b) => h("span", { class: "tag", text: b.label })))
      : null,
    (message.attachments || []).map((file) =>
      h("div", {}, h("a", { href: `/api/v1/chat/attachments/${file.id}`, text: `📎 ${file.filename}` })),
    ),
    sourcesOf(message),
  );
}

function addMessages(messages) {
  const list = $("#messages");
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  let contactSpoke = false;
  for (const message of messages) {
    if (state.shown.has(message.seq)) continue;
    state.shown.add(message.seq);
    state.lastSeq = Math.max(state.lastSeq, message.seq);
    if (message.sender_kind === "contact") {
      contactSpoke = true;
      state.contactTurns.push(message.text);
    }
    const item = messageItem(message);
    // Keep seq order even if a page of history arrives after a live message.
    const later = [...list.children].find((li) => Number(li.dataset.seq) > message.seq);
    list.insertBefore(item, later || null);
  }
  if (nearBottom) list.scrollTop = list.scrollHeight;
  markRead();
  return contactSpoke;
}

function markRead() {
  if (!state.current || state.lastSeq <= state.lastRead) return;
  if (socket.send({ type: "read", conversation_id: state.current.id, seq: state.lastSeq })) {
    state.lastRead = state.lastSeq;
  }
}

function mineToAnswer() {
  const c = state.current;
  return c && c.state === "assigned" && c.assignee_id === me;
}

function actionButton(label, handler, style = "") {
  return h("button", {
    type: "button",
    class: `button small ${style}`,
    text: label,
    on: { click: (event) => act(event.currentTarget, handler) },
  });
}

async function conversationAction(path, body, message) {
  const updated = await api("POST", `/chat/conversations/${state.current.id}/${path}`, body);
  onConversation({ conversation: updated });
  announce(message, "ok");
  renderHead();
  if (path === "assign") $("#reply").focus();
}

async function createTicket() {
  const ticket = await api("POST", "/tickets/from-conversation", { conversation_id: state.current.id });
  announce(t("inbox.ticket_created", { n: ticket.number }), "ok");
  await loadTickets();
}

function renderHead() {
  const c = state.current;
  const buttons = [];
  if (c.state !== "resolved" && !mineToAnswer()) {
    buttons.push(actionButton(t("inbox.take_over"), () => conversationAction("assign", {}, t("inbox.taken")), "primary"));
  }
  if (c.state === "assigned" || c.state === "queued") {
    buttons.push(actionButton(t("inbox.hand_back"), () => conversationAction("handback", undefined, t("inbox.handed_back"))));
  }
  if (c.state !== "resolved") {
    buttons.push(actionButton(t("inbox.resolve"), () => conversationAction("resolve", undefined, t("inbox.resolved"))));
  }
  if (page.can["tickets.work"]) buttons.push(actionButton(t("inbox.create_ticket"), createTicket));
  fill($("#conversation-actions"), badge("state", c.state), buttons);
  const answerable = mineToAnswer();
  $("#composer").hidden = !answerable;
  const locked = $("#composer-locked");
  locked.hidden = answerable;
  if (!answerable) {
    if (c.state === "resolved") locked.textContent = t("inbox.locked_resolved");
    else if (c.assignee_id) {
      memberName(c.assignee_id).then((name) => {
        locked.textContent = t("inbox.locked_other", { name });
      });
    } else locked.textContent = t("inbox.locked_take");
  }
}

async function loadAllMessages(conversationId) {
  const all = [];
  for (let after = 0; ; ) {
    const batch = await api("GET", `/chat/conversations/${conversationId}/messages?after_seq=${after}&limit=${PAGE}`);
    all.push(...batch);
    if (batch.length < PAGE) return all;
    after = batch[batch.length - 1].seq;
  }
}

async function openConversation(conversationId, focus = false) {
  if (state.current) socket.leave(state.current.id);
  const detail = await api("GET", `/chat/conversations/${conversationId}`);
  state.current = detail;
  state.shown = new Set();
  state.contactTurns = [];
  state.lastSeq = 0;
  state.lastRead = 0;
  state.contactName = contactLabel(detail.contact);
  contacts.set(detail.contact.id, Promise.resolve(detail.contact));
  $("#inbox").classList.add("has-conversation");
  $("#assist").hidden = false;
  $("#conversation-title").textContent = state.contactName;
  $("#back").href = viewUrl(null);
  document.title = `${state.contactName} · ${t("nav.inbox")} · knowdesk`;
  for (const link of $$("#conversations a")) {
    link.setAttribute("aria-current", link.dataset.id === conversationId ? "page" : "false");
  }
  $("#messages").replaceChildren();
  $("#typing").textContent = "";
  renderHead();
  addMessages(await loadAllMessages(conversationId));
  $("#messages").scrollTop = $("#messages").scrollHeight;
  socket.follow(conversationId, state.lastSeq);
  if (focus) $("#conversation-title").focus();
  renderCustomer(detail.contact);
  await Promise.all([loadPast(detail.contact.id), loadTickets(), suggest()]);
}

function closeConversation() {
  if (state.current) socket.leave(state.current.id);
  state.current = null;
  $("#inbox").classList.remove("has-conversation");
  $("#assist").hidden = true;
  $("#composer").hidden = true;
  $("#composer-locked").hidden = true;
  $("#conversation-title").textContent = t("inbox.pick");
  fill($("#conversation-actions"));
  $("#messages").replaceChildren();
  renderList();
}

// -- the customer -------------------------------------------------------------------------------

function renderCustomer(person) {
  const attributes = Object.entries(person.attributes || {});
  fill(
    $("#customer"),
    h(
      "dl",
      { class: "facts" },
      h("dt", { text: t("customer.name") }),
      h("dd", { text: person.name || "—" }),
      h("dt", { text: t("customer.email") }),
      h("dd", { text: person.email || "—" }),
      person.external_id ? [h("dt", { text: t("customer.external_id") }), h("dd", { class: "mono", text: person.external_id })] : null,
      attributes.map(([key, value]) => [h("dt", { text: key }), h("dd", { text: typeof value === "string" ? value : JSON.stringify(value) })]),
      h("dt", { text: t("customer.first_seen") }),
      h("dd", {}, timeEl(person.created_at)),
      h("dt", { text: t("customer.last_seen") }),
      h("dd", {}, timeEl(person.last_seen_at)),
    ),
  );
}

async function loadPast(contactId) {
  const conversations = await api("GET", `/chat/contacts/${contactId}/conversations`);
  const others = conversations.filter((c) => c.id !== state.current.id);
  fill(
    $("#past"),
    others.length
      ? others.map((c) =>
          h(
            "li",
            {},
            h("a", {
              href: viewUrl(c.id),
              text: fmtDateTime(c.created_at),
              on: {
                click: (event) => {
                  event.preventDefault();
                  history.pushState(null, "", viewUrl(c.id));
                  openConversation(c.id, true).catch(showError);
                },
              },
            }),
            " ",
            badge("state", c.state),
          ),
        )
      : h("li", { class: "muted small", text: t("inbox.no_past") }),
  );
}

async function loadTickets() {
  if (!page.can["tickets.work"] || !state.current) return;
  const tickets = await api("GET", `/tickets?requester_id=${state.current.contact_id}&limit=20`);
  fill(
    $("#customer-tickets"),
    tickets.length
      ? tickets.map((ticket) =>
          h(
            "li",
            {},
            h("a", { href: `/console/tickets/${ticket.id}`, text: `#${ticket.number} ${ticket.subject}` }),
            " ",
            badge("ticket", ticket.status),
          ),
        )
      : h("li", { class: "muted small", text: t("inbox.no_tickets") }),
  );
}

// -- suggested answer ---------------------------------------------------------------------------

function insertReply(text) {
  const box = $("#reply");
  const start = box.selectionStart ?? box.value.length;
  box.value = box.value.slice(0, start) + text + box.value.slice(box.selectionEnd ?? start);
  box.focus();
}

async function suggest(question) {
  const turns = state.contactTurns.filter((text) => text && text.trim());
  const asked = question || turns[turns.length - 1];
  const box = $("#suggestion");
  if (!asked) {
    fill(box, h("p", { class: "muted small", text: t("inbox.suggest_none") }));
    return;
  }
  fill(box, h("p", { class: "muted small", text: t("inbox.suggest_loading") }));
  const result = await api("POST", "/ask", {
    question: asked.slice(0, 2000),
    history: question ? [] : turns.slice(-6, -1),
  });
  // Several units of one entry may match (its question and a similar one): name it once.
  const sources = result.sources.filter(
    (source, index) => result.sources.findIndex((s) => s.entry_id === source.entry_id) === index,
  );
  const use = h("button", {
    type: "button",
    class: "button small primary",
    text: t("inbox.use_answer"),
    on: { click: () => insertReply(result.answer) },
  });
  fill(
    box,
    h("p", { class: "small muted" }, t("inbox.for_question"), " ", h("q", { text: result.resolved_question || asked })),
    h("p", {}, badge("decision", result.decision)),
    result.decision === "handoff" || !result.answer
      ? h("p", { class: "small", text: t("inbox.suggest_nothing") })
      : h("div", { class: "answer-text small", id: "suggested-answer", text: result.answer }),
    result.suggestions.length
      ? h(
          "div",
          { class: "stack" },
          result.suggestions.map((s) =>
            h("button", {
              type: "button",
              class: "button small",
              text: s.question,
              on: { click: () => suggest(s.question).catch(showError) },
            }),
          ),
        )
      : null,
    sources.length
      ? h(
          "ul",
          { class: "plain-list small" },
          sources.map((source) =>
            h("li", {}, h("a", { href: `/console/kb/entries/${source.entry_id}`, text: source.title }), " ", h("span", { class: "score muted", text: Number(source.score).toFixed(2) })),
          ),
        )
      : null,
    result.decision !== "handoff" && result.decision !== "clarify" && result.answer && mineToAnswer()
      ? h("div", { class: "row mt" }, use)
      : null,
  );
}

// -- replying -----------------------------------------------------------------------------------

async function send(event) {
  event.preventDefault();
  const box = $("#reply");
  const text = box.value.trim();
  if (!text) return;
  const sent = await act($("#send"), () =>
    api("POST", `/chat/conversations/${state.current.id}/messages`, {
      client_msg_id: clientId(),
      text,
    }),
  );
  if (!sent) return;
  box.value = "";
  socket.send({ type: "typing", conversation_id: state.current.id, typing: false });
  addMessages([sent.message]);
  $("#messages").scrollTop = $("#messages").scrollHeight;
}

function typing() {
  const now = Date.now();
  if (now - state.lastTypingSent < 3000 || !state.current) return;
  state.lastTypingSent = now;
  socket.send({ type: "typing", conversation_id: state.current.id, typing: true });
}

function fillCanned() {
  const select = $("#canned");
  const replies = cannedReplies();
  fill(
    select,
    h("option", { value: "", text: t("canned.choose") }),
    replies.map((text, index) => h("option", { value: String(index), text: text.length > 60 ? `${text.slice(0, 60)}…` : text })),
  );
}

function useCanned() {
  const select = $("#canned");
  const text = cannedReplies()[Number(select.value)];
  select.value = "";
  if (text === undefined) return;
  insertReply(
    text.replaceAll("{customer}", state.contactName || "").replaceAll("{agent}", page.user.name),
  );
}

// -- start --------------------------------------------------------------------------------------

function conversationFromPath() {
  const match = location.pathname.match(/^\/console\/inbox\/([0-9a-f-]{36})$/);
  return match ? match[1] : null;
}

async function start() {
  fill($("#team-filter"), await teamOptions(state.team, [["", t("inbox.all_teams")]]));
  $("#team-filter").addEventListener("change", (event) => {
    state.team = event.target.value;
    history.replaceState(null, "", viewUrl(state.current && state.current.id));
    loadList().catch(showError);
  });
  for (const button of $$("#states button")) {
    button.addEventListener("click", () => {
      state.view = button.dataset.view;
      history.replaceState(null, "", viewUrl(state.current && state.current.id));
      loadList().catch(showError);
    });
  }
  socket.on("conversation", onConversation);
  socket.on("message", (frame) => {
    if (!state.current || frame.conversation_id !== state.current.id) return;
    if (addMessages([frame.message])) suggest().catch(showError);
    if (frame.message.sender_kind === "contact") $("#typing").textContent = "";
  });
  socket.on("typing", (frame) => {
    if (!state.current || frame.conversation_id !== state.current.id) return;
    if (frame.sender.kind !== "contact") return;
    clearTimeout(state.typingTimer);
    $("#typing").textContent = frame.typing ? t("inbox.customer_typing", { name: state.contactName }) : "";
    state.typingTimer = setTimeout(() => {
      $("#typing").textContent = "";
    }, 8000);
  });
  socket.on("status", ({ online }) => {
    if (online) loadList().catch(showError);
  });
  $("#composer").addEventListener("submit", send);
  $("#reply").addEventListener("input", typing);
  $("#reply").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  fillCanned();
  $("#canned").addEventListener("change", useCanned);
  $("#manage-canned").addEventListener("click", () => manageCanned(fillCanned));
  $("#back").addEventListener("click", (event) => {
    event.preventDefault();
    history.pushState(null, "", viewUrl(null));
    closeConversation();
  });
  window.addEventListener("popstate", () => {
    const id = conversationFromPath();
    if (id) openConversation(id).catch(showError);
    else closeConversation();
  });
  await loadList();
  const id = page.conversation_id || conversationFromPath();
  if (id) await openConversation(id);
}

start().catch(showError);
