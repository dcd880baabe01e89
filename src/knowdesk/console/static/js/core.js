// Shared by every console page: words, the REST API, building elements, messages to the person.
//
// Every text that comes from the API is put in the page with textContent (through `h`), never
// as HTML: messages, titles and answers are exactly what people typed.

const strings = JSON.parse(document.getElementById("i18n").textContent);

/** The page's frame data: locale, user, workspace, role, permissions, and the page's ids. */
export const page = JSON.parse(document.getElementById("page-data").textContent);

const intlLocale = page.locale === "zh" ? "zh-CN" : "en";

/** A text in the person's language; `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  // A count of one reads `key.one` where the language words it apart ("1 ticket").
  const singular = values.n === 1 ? strings[`${key}.one`] : undefined;
  let text = singular ?? strings[key] ?? key;
  for (const [name, value] of Object.entries(values)) {
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

/** Like `t`, but a key without a text gives `fallback` (for values the server may add to). */
export function tOr(key, fallback) {
  return key in strings ? t(key) : fallback;
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function signInAgain() {
  const here = location.pathname + location.search;
  location.assign(`/console/sign-in?next=${encodeURIComponent(here)}`);
}

function errorFrom(status, data, fallback) {
  const error = data && typeof data === "object" ? data.error : null;
  let message = (error && error.message) || fallback;
  if (error && error.code === "validation" && Array.isArray(error.details)) {
    message += " " + error.details.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  return new ApiError(status, error ? error.code : "http", message, error ? error.details : null);
}

/**
 * Call the REST API under /api/v1 with the session cookie. The X-Knowdesk-Console header is
 * what lets the server accept a cookie-authenticated change (see console/csrf.py).
 */
export async function api(method, path, body) {
  const headers = { "X-Knowdesk-Console": "1", Accept: "application/json" };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: payload,
      credentials: "same-origin",
    });
  } catch (err) {
    throw new ApiError(0, "network", t("error.network"), null);
  }
  if (response.status === 401) {
    signInAgain();
    throw new ApiError(401, "unauthenticated", t("error.signed_out"), null);
  }
  if (response.status === 204) return null;
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const data = isJson ? await response.json() : await response.text();
  if (!response.ok) throw errorFrom(response.status, data, response.statusText);
  return data;
}

/** A multipart upload that reports its progress (fetch cannot): onProgress(sent, total). */
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/v1${path}`);
    request.setRequestHeader("X-Knowdesk-Console", "1");
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener("load", () => {
      if (request.status === 401) signInAgain();
      if (request.status >= 200 && request.status < 300) resolve(request.response);
      else reject(errorFrom(request.status, request.response, request.statusText));
    });
    request.addEventListener("error", () =>
      reject(new ApiError(0, "network", t("error.network"), null)),
    );
    request.send(formData);
  });
}

/**
 * Build an element. props: class, text, attrs (attributes), on (listeners), and any other key as
 * a property (value, checked, href, …). Children: nodes, strings (as text), arrays, or nothing.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "attrs") {
      for (const [name, attr] of Object.entries(value)) {
        if (attr !== undefined && attr !== null && attr !== false) {
          element.setAttribute(name, attr === true ? "" : attr);
        }
      }
    } else if (key === "on") {
      for (const [event, listener] of Object.entries(value)) {
        element.addEventListener(event, listener);
      }
    } else if (key === "dataset") Object.assign(element.dataset, value);
    else element[key] = value;
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** A short message to the person: polite, or assertive for errors; gone after a while. */
export function announce(message, kind = "info") {
  const toast = h("div", { class: `toast ${kind}`, text: message });
  const shelf = $("#toasts");
  shelf.append(toast);
  // A few at a time: older ones make way rather than cover the page.
  while (shelf.children.length > 3) shelf.firstElementChild.remove();
  if (kind === "error") fill($("#alerts"), message);
  setTimeout(() => toast.remove(), kind === "error" ? 9000 : 5000);
}

export function showError(error) {
  announce(error instanceof Error ? error.message : String(error), "error");
}

/**
 * Run an action from a button: the button is disabled (and marked busy) meanwhile, and a
 * failure is told to the person. Returns the action's result, or undefined on failure.
 */
export async function act(button, action) {
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}

// -- time -------------------------------------------------------------------------------------

const dateTimeFormat = new Intl.DateTimeFormat(intlLocale, {
  dateStyle: "medium",
  timeStyle: "short",
});
const dateFormat = new Intl.DateTimeFormat(intlLocale, { dateStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(intlLocale, { numeric: "auto" });

export function fmtDateTime(iso) {
  return iso ? dateTimeFormat.format(new Date(iso)) : "";
}

const clockFormat = new Intl.DateTimeFormat(intlLocale, { timeStyle: "short" });

/** The time of day for today's moments, the date and time for older ones. */
export function fmtClock(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? clockFormat.format(date) : dateTimeFormat.format(date);
}

export function fmtDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "";
}

/** "3 minutes ago", "in 2 hours". */
export function fmtRelative(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const steps = [
    [60, "second"],
    [3600, "minute", 60],
    [86400, "hour", 3600],
    [86400 * 30, "day", 86400],
    [Infinity, "month", 86400 * 30],
  ];
  for (const [limit, unit, size = 1] of steps) {
    if (Math.abs(seconds) < limit) return relative.format(Math.round(seconds / size), unit);
  }
  return "";
}

/** A <time> element showing a relative time, with the full date in its title. */
export function timeEl(iso, className = "") {
  if (!iso) return h("span", { class: "muted", text: "—" });
  return h("time", {
    class: className,
    text: fmtRelative(iso),
    attrs: { datetime: iso, title: fmtDateTime(iso) },
  });
}

/** "2 h 05 min" for a span of seconds. */
export function fmtSpan(seconds) {
  const total = Math.round(Math.abs(seconds) / 60);
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  if (days) return t("time.days_hours", { d: days, h: hours });
  if (hours) return t("time.hours_minutes", { h: hours, m: String(minutes).padStart(2, "0") });
  return t("time.minutes", { m: minutes });
}

// -- small pieces -----------------------------------------------------------------------------

/** A coloured label for a status-like value, with its words from `prefix.value`. */
export function badge(prefix, value) {
  return h("span", { class: `badge ${prefix}-${value}`, text: t(`${prefix}.${value}`) });
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A modal <dialog> asking to confirm; resolves true or false. */
export function confirmDialog(message, confirmLabel = t("action.confirm"), danger = false) {
  return new Promise((resolve) => {
    const yes = h("button", {
      type: "submit",
      value: "yes",
      class: `button ${danger ? "danger" : "primary"}`,
      text: confirmLabel,
    });
    const dialog = h(
      "dialog",
      { class: "dialog", attrs: { "aria-labelledby": "confirm-text" } },
      h(
        "form",
        { method: "dialog" },
        h("p", { id: "confirm-text", text: message }),
        h(
          "div",
          { class: "row end" },
          h("button", { type: "submit", value: "no", class: "button", text: t("action.cancel") }),
          yes,
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    yes.focus();
  });
}

/** Ask for one line of text in a modal <dialog>; resolves the text, or null. */
export function promptDialog(label, initial = "") {
  return new Promise((resolve) => {
    const input = h("input", { id: "prompt-input", type: "text", value: initial, required: true });
    const dialog = h(
      "dialog",
      { class: "dialog" },
      h(
        "form",
        { method: "dialog", class: "stack" },
        h("label", { attrs: { for: "prompt-input" }, text: label }),
        input,
        h(
          "div",
          { class: "row end" },
          h("button", {
            type: "button",
            class: "button",
            text: t("action.cancel"),
            on: { click: () => dialog.close("") },
          }),
          h("button", { type: "submit", value: "ok", class: "button primary", text: t("action.ok") }),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? input.value.trim() : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

/** Copy text, telling the person it was copied. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    announce(t("action.copied"));
  } catch {
    announce(t("action.copy_failed"), "error");
  }
}

// -- the workspace's people -------------------------------------------------------------------

let membersPromise = null;

/** The workspace's members, fetched once per page: [{user: {id, name, email}, role}]. */
export function members() {
  membersPromise ??= api("GET", "/workspace/members").catch((error) => {
    membersPromise = null;
    throw error;
  });
  return membersPromise;
}

export async function memberName(userId) {
  if (!userId) return "";
  const found = (await members()).find((m) => m.user.id === userId);
  return found ? found.user.name : t("people.unknown");
}

let teamsPromise = null;

export function teams() {
  teamsPromise ??= api("GET", "/chat/teams").catch((error) => {
    teamsPromise = null;
    throw error;
  });
  return teamsPromise;
}

/** <option>s for a select of people, with `extra` options first: [[value, label], …]. */
export async function memberOptions(selected, extra = []) {
  const people = await members();
  return [
    ...extra.map(([value, label]) => h("option", { value, text: label, selected: value === selected })),
    ...people.map((m) =>
      h("option", { value: m.user.id, text: m.user.name, selected: m.user.id === selected }),
    ),
  ];
}

export async function teamOptions(selected, extra = []) {
  const list = await teams();
  return [
    ...extra.map(([value, label]) => h("option", { value, text: label, selected: value === selected })),
    ...list.map((team) =>
      h("option", { value: team.id, text: team.name, selected: team.id === selected }),
    ),
  ];
}

/** A unique id for a message sent from this page (so a retry is stored once). */
export function clientId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}
