// Settings (owners): members and roles, API keys, chat channels with their widget snippet and
// business hours, teams, webhooks, SLA policies, the routing rules' page (rules.js) and the
// language model endpoint (settings_llm.js).

import "./shell.js";
import {
  $,
  act,
  announce,
  api,
  badge,
  confirmDialog,
  copyText,
  fill,
  fmtSpan,
  h,
  memberName,
  members,
  page,
  showError,
  t,
  teamOptions,
  timeEl,
} from "./core.js";
import { rulesSection } from "./rules.js";
import { card, cell, field, formError, onSubmit, select, table } from "./settings_forms.js";
import { llmSection } from "./settings_llm.js";

const root = $("#settings");
const ROLES = ["owner", "editor", "reviewer", "agent"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

// -- small builders -----------------------------------------------------------------------------

function roleSelect(selected) {
  return select(ROLES.map((role) => [role, t(`role.${role}`)]), selected);
}

/** A secret shown once, with a copy button. */
function secretBox(label, secret) {
  return h(
    "div",
    { class: "notice ok stack", attrs: { role: "status" } },
    h("strong", { text: label }),
    h(
      "div",
      { class: "secret" },
      h("code", { class: "secret-value", text: secret }),
      h("button", { type: "button", class: "button small", text: t("action.copy"), on: { click: () => copyText(secret) } }),
    ),
  );
}

// -- members ------------------------------------------------------------------------------------

async function membersSection() {
  const people = await api("GET", "/workspace/members");
  const rows = people.map((member) => {
    const role = roleSelect(member.role);
    role.setAttribute("aria-label", t("members.role_of", { name: member.user.name }));
    role.addEventListener("change", async () => {
      try {
        await api("PATCH", `/workspace/members/${member.user.id}`, { role: role.value });
        announce(t("members.role_changed", { name: member.user.name }), "ok");
      } catch (error) {
        showError(error);
        role.value = member.role;
      }
    });
    const remove =
      member.user.id === page.user.id
        ? h("span", { class: "muted small", text: t("members.you") })
        : h("button", {
            type: "button",
            class: "button small danger",
            text: t("members.remove"),
            attrs: { "aria-label": t("members.remove_who", { name: member.user.name }) },
            on: {
              click: async (event) => {
                if (!(await confirmDialog(t("members.confirm_remove", { name: member.user.name }), t("members.remove"), true))) return;
                const done = await act(event.target, () => api("DELETE", `/workspace/members/${member.user.id}`));
                if (done !== undefined) render();
              },
            },
          });
    return h(
      "tr",
      {},
      cell(t("members.name"), h("strong", { text: member.user.name })),
      cell(t("members.email"), member.user.email),
      cell(t("members.role"), role),
      cell("", remove),
    );
  });
  const email = h("input", { type: "email", required: true, autocomplete: "off" });
  const name = h("input", { type: "text", required: true, maxLength: 200 });
  const role = roleSelect("agent");
  const password = h("input", { type: "password", minLength: 8, autocomplete: "new-password" });
  const error = formError();
  const form = h(
    "form",
    { id: "add-member" },
    h(
      "div",
      { class: "row" },
      field(t("members.email"), email),
      field(t("members.name"), name),
      field(t("members.role"), role),
      field(t("members.password"), password, t("members.password_hint")),
    ),
    error,
    h("button", { type: "submit", class: "button primary", text: t("members.add") }),
  );
  onSubmit(form, error, async () => {
    const body = { email: email.value.trim(), name: name.value.trim(), role: role.value };
    if (password.value) body.password = password.value;
    await api("POST", "/workspace/members", body);
    announce(t("members.added", { name: body.name }), "ok");
    render();
  });
  fill(
    root,
    card(t("members.title"), table([t("members.name"), t("members.email"), t("members.role"), ""], rows, "")),
    card(t("members.add_title"), form),
  );
}

// -- API keys -----------------------------------------------------------------------------------

async function apiKeysSection(created) {
  const keys = await api("GET", "/api-keys");
  const rows = keys.map((key) =>
    h(
      "tr",
      {},
      cell(t("keys.name"), h("strong", { text: key.name })),
      cell(t("keys.prefix"), h("code", { text: `${key.prefix}…` })),
      cell(t("members.role"), t(`role.${key.role}`)),
      cell(t("keys.created"), timeEl(key.created_at)),
      cell(t("keys.last_used"), timeEl(key.last_used_at)),
      cell(
        "",
        key.revoked_at
          ? h("span", { class: "badge delivery-failed", text: t("keys.revoked") })
          : h("button", {
              type: "button",
              class: "button small danger",
              text: t("keys.revoke"),
              attrs: { "aria-label": t("keys.revoke_which", { name: key.name }) },
              on: {
                click: async (event) => {
                  if (!(await confirmDialog(t("keys.confirm_revoke", { name: key.name }), t("keys.revoke"), true))) return;
                  const done = await act(event.target, () => api("DELETE", `/api-keys/${key.id}`));
                  if (done !== undefined) render();
                },
              },
            }),
      ),
    ),
  );
  const name = h("input", { type: "text", required: true, maxLength: 200 });
  const role = roleSelect("editor");
  const error = formError();
  const form = h(
    "form",
    { id: "create-key" },
    h("div", { class: "row" }, field(t("keys.name"), name), field(t("members.role"), role)),
    error,
    h("button", { type: "submit", class: "button primary", text: t("keys.create") }),
  );
  onSubmit(form, error, async () => {
    const key = await api("POST", "/api-keys", { name: name.value.trim(), role: role.value });
    render(key);
  });
  fill(
    root,
    created ? secretBox(t("keys.secret_once", { name: created.name }), created.secret) : null,
    card(
      t("keys.title"),
      table([t("keys.name"), t("keys.prefix"), t("members.role"), t("keys.created"), t("keys.last_used"), ""], rows, t("keys.none")),
    ),
    card(t("keys.create_title"), form),
  );
  if (created) root.querySelector(".secret-value").scrollIntoView();
}

// -- channels -----------------------------------------------------------------------------------

function widgetSnippet(channel) {
  return `<script src="${location.origin}/widget/knowdesk-chat.js" data-widget-token="${channel.widget_token}" async></script>`;
}

function hoursText(ranges) {
  return (ranges || []).map(([start, end]) => `${start}-${end}`).join(", ");
}

/** "09:00-12:00, 13:00-18:00" as [["09:00","12:00"], …]; throws on a malformed range. */
function parseRanges(text, day) {
  return text
    .split(/[,，]/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = part.match(/^(\d{1,2}:\d{2})\s*[-–~]\s*(\d{1,2}:\d{2})$/);
      if (!match) throw new Error(t("hours.bad_range", { day: t(`day.${day}`), text: part }));
      return [match[1].padStart(5, "0"), match[2].padStart(5, "0")];
    });
}

function hoursEditor(hours) {
  const always = h("input", { type: "checkbox", checked: !hours });
  const zone = h("input", { type: "text", value: (hours && hours.timezone) || Intl.DateTimeFormat().resolvedOptions().timeZone });
  const days = DAYS.map((day) => {
    const input = h("input", {
      type: "text",
      value: hours ? hoursText(hours.weekly[day]) : "",
      placeholder: t("hours.closed"),
      attrs: { "aria-label": t(`day.${day}`) },
    });
    return [day, input];
  });
  const holidays = h("input", { type: "text", value: hours ? (hours.holidays || []).join(", ") : "", placeholder: "2026-10-01, 2026-10-02" });
  const grid = h("div", { class: "stack" }, field(t("hours.timezone"), zone), h("div", { class: "hours" }, days.map(([day, input]) => [h("span", { text: t(`day.${day}`) }), input])), field(t("hours.holidays"), holidays));
  const sync = () => {
    grid.hidden = always.checked;
  };
  always.addEventListener("change", sync);
  sync();
  const element = h(
    "fieldset",
    {},
    h("legend", { text: t("hours.title") }),
    h("label", { class: "check" }, always, t("hours.always")),
    h("p", { class: "hint", text: t("hours.hint") }),
    grid,
  );
  const value = () => {
    if (always.checked) return null;
    const weekly = {};
    for (const [day, input] of days) {
      const ranges = parseRanges(input.value, day);
      if (ranges.length) weekly[day] = ranges;
    }
    const dates = holidays.value.split(/[,，\s]+/).filter(Boolean);
    return { timezone: zone.value.trim() || "UTC", weekly, holidays: dates };
  };
  return { element, value };
}

async function channelForm(channel, onSaved) {
  const name = h("input", { type: "text", required: true, maxLength: 200, value: channel ? channel.name : "" });
  const team = h("select", {}, await teamOptions(channel ? channel.team_id || "" : "", [["", t("channels.any_agent")]]));
  const bot = h("input", { type: "checkbox", checked: channel ? channel.bot_enabled : true });
  const welcome = h("textarea", { rows: 2, maxLength: 4000, value: channel ? channel.welcome_message : "" });
  const queued = h("textarea", { rows: 2, maxLength: 4000, value: channel ? channel.queued_message : "" });
  const closed = h("textarea", { rows: 2, maxLength: 4000, value: channel ? channel.closed_message : "" });
  const rate = h("input", { type: "number", min: 1, max: 600, value: channel ? channel.messages_per_minute : 30 });
  const hours = hoursEditor(channel ? channel.business_hours : null);
  const error = formError();
  const form = h(
    "form",
    { class: "stack" },
    h("div", { class: "row" }, field(t("channels.name"), name), field(t("channels.team"), team)),
    h("label", { class: "check" }, bot, t("channels.bot")),
    field(t("channels.welcome"), welcome),
    field(t("channels.queued"), queued, t("channels.default_hint")),
    field(t("channels.closed"), closed, t("channels.default_hint")),
    hours.element,
    field(t("channels.rate"), rate),
    error,
    h("div", {}, h("button", { type: "submit", class: "button primary", text: channel ? t("action.save") : t("channels.create") })),
  );
  onSubmit(form, error, async () => {
    const body = {
      name: name.value.trim(),
      team_id: team.value || null,
      bot_enabled: bot.checked,
      welcome_message: welcome.value,
      queued_message: queued.value,
      closed_message: closed.value,
      business_hours: hours.value(),
      messages_per_minute: Number(rate.value) || 30,
    };
    const saved = channel
      ? await api("PATCH", `/chat/channels/${channel.id}`, body)
      : await api("POST", "/chat/channels", body);
    announce(t(channel ? "channels.saved" : "channels.created", { name: saved.name }), "ok");
    onSaved(saved);
  });
  return form;
}

async function channelCard(channel) {
  const snippet = h("textarea", { class: "snippet-box", readOnly: true, rows: 3, value: widgetSnippet(channel) });
  const secretSlot = h("div");
  const editor = h(
    "details",
    { class: "editor" },
    h("summary", { text: t("channels.edit") }),
    await channelForm(channel, () => render()),
  );
  return card(
    channel.name,
    h(
      "p",
      { class: "row" },
      channel.bot_enabled ? h("span", { class: "badge decision-direct", text: t("channels.bot_on") }) : h("span", { class: "badge", text: t("channels.bot_off") }),
      channel.business_hours ? h("span", { class: "badge", text: t("channels.has_hours") }) : h("span", { class: "badge", text: t("channels.always_open") }),
      h("a", { href: `/widget/demo?token=${encodeURIComponent(channel.widget_token)}`, text: t("channels.try_widget"), attrs: { target: "_blank", rel: "noopener" } }),
    ),
    field(t("channels.snippet"), snippet, t("channels.snippet_hint")),
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", class: "button small", text: t("channels.copy_snippet"), on: { click: () => copyText(snippet.value) } }),
      h("button", {
        type: "button",
        class: "button small",
        text: t("channels.show_secret"),
        on: {
          click: (event) =>
            act(event.currentTarget, async () => {
              const secrets = await api("GET", `/chat/channels/${channel.id}/secrets`);
              fill(secretSlot, secretBox(t("channels.identity_secret"), secrets.identity_secret));
            }),
        },
      }),
      h("button", {
        type: "button",
        class: "button small danger",
        text: t("channels.rotate"),
        on: {
          click: async (event) => {
            if (!(await confirmDialog(t("channels.confirm_rotate", { name: channel.name }), t("channels.rotate"), true))) return;
            const done = await act(event.target, () => api("POST", `/chat/channels/${channel.id}/rotate`));
            if (done) {
              announce(t("channels.rotated"), "ok");
              render();
            }
          },
        },
      }),
    ),
    secretSlot,
    editor,
  );
}

async function channelsSection() {
  const channels = await api("GET", "/chat/channels");
  const cards = await Promise.all(channels.map(channelCard));
  fill(
    root,
    cards.length ? cards : h("p", { class: "notice", text: t("channels.none") }),
    card(t("channels.new"), await channelForm(null, () => render())),
  );
}

// -- teams --------------------------------------------------------------------------------------

async function teamForm(team) {
  const people = await members();
  const name = h("input", { type: "text", required: true, maxLength: 200, value: team ? team.name : "" });
  const routing = select(
    [
      ["round_robin", t("teams.round_robin")],
      ["least_busy", t("teams.least_busy")],
    ],
    team ? team.routing : "round_robin",
  );
  const boxes = people.map((member) => [
    member.user.id,
    h("input", { type: "checkbox", checked: team ? team.member_ids.includes(member.user.id) : false }),
    member.user.name,
  ]);
  const error = formError();
  const form = h(
    "form",
    { class: "stack" },
    h("div", { class: "row" }, field(t("teams.name"), name), field(t("teams.routing"), routing)),
    h("fieldset", {}, h("legend", { text: t("teams.members") }), h("div", { class: "checks" }, boxes.map(([, box, label]) => h("label", { class: "check" }, box, label)))),
    error,
    h("div", {}, h("button", { type: "submit", class: "button primary", text: team ? t("action.save") : t("teams.create") })),
  );
  onSubmit(form, error, async () => {
    const body = {
      name: name.value.trim(),
      routing: routing.value,
      member_ids: boxes.filter(([, box]) => box.checked).map(([id]) => id),
    };
    if (team) await api("PATCH", `/chat/teams/${team.id}`, body);
    else await api("POST", "/chat/teams", body);
    announce(t("teams.saved", { name: body.name }), "ok");
    render();
  });
  return form;
}

async function teamsSection() {
  const list = await api("GET", "/chat/teams");
  const cards = await Promise.all(
    list.map(async (team) =>
      card(
        team.name,
        h("p", { class: "muted", text: `${t(`teams.${team.routing}`)} · ${t("teams.count", { n: team.member_ids.length })}` }),
        h("p", {}, (await Promise.all(team.member_ids.map(memberName))).join(", ") || t("teams.empty")),
        h("details", { class: "editor" }, h("summary", { text: t("teams.edit") }), await teamForm(team)),
      ),
    ),
  );
  fill(root, cards.length ? cards : h("p", { class: "notice", text: t("teams.none") }), card(t("teams.new"), await teamForm(null)));
}

// -- webhooks -----------------------------------------------------------------------------------

function deliveryItem(delivery) {
  return h(
    "li",
    {},
    badge("delivery", delivery.status),
    " ",
    h("code", { text: delivery.event }),
    " · ",
    t("webhooks.attempts", { n: delivery.attempts }),
    " · ",
    timeEl(delivery.created_at),
    delivery.failure_reason ? h("div", { class: "small muted", text: delivery.failure_reason }) : null,
  );
}

function webhookCard(webhook) {
  const deliveries = h("ul", { class: "plain-list" });
  const log = h(
    "details",
    {
      class: "editor",
      on: {
        toggle: (event) => {
          if (!event.target.open) return;
          api("GET", `/webhooks/${webhook.id}/deliveries?limit=10`)
            .then((rows) => fill(deliveries, rows.length ? rows.map(deliveryItem) : h("li", { class: "muted", text: t("webhooks.no_deliveries") })))
            .catch(showError);
        },
      },
    },
    h("summary", { text: t("webhooks.deliveries") }),
    deliveries,
  );
  return card(
    webhook.url,
    webhook.description ? h("p", { text: webhook.description }) : null,
    h(
      "p",
      { class: "row" },
      webhook.active ? h("span", { class: "badge delivery-delivered", text: t("webhooks.active") }) : h("span", { class: "badge", text: t("webhooks.paused") }),
      webhook.events.map((event) => h("code", { class: "tag", text: event })),
    ),
    h(
      "div",
      { class: "row" },
      h("button", {
        type: "button",
        class: "button small",
        text: t("webhooks.test"),
        on: {
          click: (event) =>
            act(event.currentTarget, async () => {
              await api("POST", `/webhooks/${webhook.id}/test`);
              announce(t("webhooks.test_sent"), "ok");
            }),
        },
      }),
      h("button", {
        type: "button",
        class: "button small",
        text: webhook.active ? t("webhooks.pause") : t("webhooks.resume"),
        on: {
          click: (event) =>
            act(event.currentTarget, async () => {
              await api("PATCH", `/webhooks/${webhook.id}`, { active: !webhook.active });
              render();
            }),
        },
      }),
      h("button", {
        type: "button",
        class: "button small",
        text: t("webhooks.show_secret"),
        on: { click: (event) => event.currentTarget.replaceWith(secretBox(t("webhooks.secret"), webhook.secret)) },
      }),
      h("button", {
        type: "button",
        class: "button small danger",
        text: t("action.delete"),
        on: {
          click: async (event) => {
            if (!(await confirmDialog(t("webhooks.confirm_delete", { url: webhook.url }), t("action.delete"), true))) return;
            const done = await act(event.target, () => api("DELETE", `/webhooks/${webhook.id}`));
            if (done !== undefined) render();
          },
        },
      }),
    ),
    log,
  );
}

/** What an event means, in the reader's language (the server's English for an event added
 * since this table was written). */
function eventText(event) {
  const key = `hook_event.${event.name}`;
  const text = t(key);
  return text === key ? event.description : text;
}

async function webhooksSection() {
  const [hooks, events] = await Promise.all([api("GET", "/webhooks"), api("GET", "/webhooks/events")]);
  const url = h("input", { type: "url", required: true, placeholder: "https://example.com/hooks/knowdesk" });
  const description = h("input", { type: "text", maxLength: 200 });
  const all = h("input", { type: "checkbox", value: "*" });
  const boxes = events.map((event) => [event.name, h("input", { type: "checkbox", value: event.name }), eventText(event)]);
  const error = formError();
  const form = h(
    "form",
    { class: "stack", id: "add-webhook" },
    h("div", { class: "row" }, field(t("webhooks.url"), url), field(t("webhooks.description"), description)),
    h(
      "fieldset",
      {},
      h("legend", { text: t("webhooks.events") }),
      h("label", { class: "check" }, all, t("webhooks.all_events")),
      h("div", { class: "checks mt" }, boxes.map(([name, box, text]) => h("label", { class: "check", attrs: { title: text } }, box, h("code", { text: name })))),
    ),
    error,
    h("div", {}, h("button", { type: "submit", class: "button primary", text: t("webhooks.add") })),
  );
  onSubmit(form, error, async () => {
    const chosen = all.checked ? ["*"] : boxes.filter(([, box]) => box.checked).map(([name]) => name);
    if (!chosen.length) throw new Error(t("webhooks.pick_event"));
    await api("POST", "/webhooks", { url: url.value.trim(), description: description.value.trim(), events: chosen });
    announce(t("webhooks.added"), "ok");
    render();
  });
  fill(root, hooks.length ? hooks.map(webhookCard) : h("p", { class: "notice", text: t("webhooks.none") }), card(t("webhooks.new"), form));
}

// -- SLA policies -------------------------------------------------------------------------------

function seconds(value) {
  return value ? fmtSpan(value) : "—";
}

async function slaSection() {
  const [policies, calendars] = await Promise.all([api("GET", "/sla-policies"), api("GET", "/sla-calendars")]);
  const calendarName = new Map(calendars.map((c) => [c.id, c.name]));
  const policyRows = policies.map((policy) =>
    h(
      "tr",
      {},
      cell(t("sla.policy"), h("strong", { text: policy.name })),
      cell(t("tickets.priority"), badge("priority", policy.priority)),
      cell(t("sla.first_response"), seconds(policy.first_response_seconds)),
      cell(t("sla.resolution"), seconds(policy.resolution_seconds)),
      cell(t("sla.calendar"), calendarName.get(policy.calendar_id) || t("sla.around_clock")),
      cell(
        "",
        h("button", {
          type: "button",
          class: "button small danger",
          text: t("action.delete"),
          attrs: { "aria-label": t("sla.delete_policy", { name: policy.name }) },
          on: {
            click: async (event) => {
              if (!(await confirmDialog(t("sla.confirm_delete", { name: policy.name }), t("action.delete"), true))) return;
              const done = await act(event.target, () => api("DELETE", `/sla-policies/${policy.id}`));
              if (done !== undefined) render();
            },
          },
        }),
      ),
    ),
  );
  const name = h("input", { type: "text", required: true, maxLength: 200 });
  const priority = select(["urgent", "high", "normal", "low"].map((p) => [p, t(`priority.${p}`)]), "normal");
  const first = h("input", { type: "number", min: 0.25, step: 0.25, value: 4 });
  const resolution = h("input", { type: "number", min: 0.25, step: 0.25, value: 24 });
  const calendar = select([["", t("sla.around_clock")], ...calendars.map((c) => [c.id, c.name])], "");
  const error = formError();
  const form = h(
    "form",
    { class: "stack", id: "add-policy" },
    h(
      "div",
      { class: "row" },
      field(t("sla.policy"), name),
      field(t("tickets.priority"), priority),
      field(t("sla.first_hours"), first),
      field(t("sla.resolution_hours"), resolution),
      field(t("sla.calendar"), calendar),
    ),
    error,
    h("div", {}, h("button", { type: "submit", class: "button primary", text: t("sla.add") })),
  );
  onSubmit(form, error, async () => {
    const hours = (input) => (input.value ? Math.round(Number(input.value) * 3600) : null);
    await api("POST", "/sla-policies", {
      name: name.value.trim(),
      priority: priority.value,
      first_response_seconds: hours(first),
      resolution_seconds: hours(resolution),
      calendar_id: calendar.value || null,
    });
    announce(t("sla.added"), "ok");
    render();
  });
  fill(
    root,
    card(
      t("sla.policies"),
      table([t("sla.policy"), t("tickets.priority"), t("sla.first_response"), t("sla.resolution"), t("sla.calendar"), ""], policyRows, t("sla.none")),
    ),
    card(t("sla.new"), form),
  );
}

// -- dispatch -----------------------------------------------------------------------------------

const SECTIONS = {
  members: membersSection,
  "api-keys": apiKeysSection,
  channels: channelsSection,
  teams: teamsSection,
  webhooks: webhooksSection,
  sla: slaSection,
  rules: () => rulesSection(root),
  llm: () => llmSection(root),
};

function render(...args) {
  const section = SECTIONS[page.section];
  if (section) section(...args).catch(showError);
}

render();
