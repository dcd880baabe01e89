// The frame around every page: the agent's availability, the count of waiting conversations in
// the navigation, and a session that stays alive while a page stays open. Page scripts import
// this module for its effect.

import { $, api, debounce, fill, h, page, showError, t } from "./core.js";
import { live } from "./live.js";

const SESSION_REFRESH_MS = 20 * 60 * 1000;

async function keepSession() {
  const response = await fetch("/console/session", {
    method: "POST",
    headers: { "X-Knowdesk-Console": "1" },
    credentials: "same-origin",
  });
  if (response.status === 401) location.reload();
}

function showPresence(status) {
  const select = $("#presence");
  select.value = status;
  $("#presence-dot").className = `dot ${status}`;
}

async function setUpPresence() {
  const select = $("#presence");
  if (!select) return;
  const agents = await api("GET", "/chat/agents");
  const me = agents.find((agent) => agent.user_id === page.user.id);
  showPresence(me ? me.status : "offline");
  select.addEventListener("change", async () => {
    try {
      const agent = await api("PUT", "/chat/agents/me/presence", { status: select.value });
      showPresence(agent.status);
    } catch (error) {
      showError(error);
    }
  });
}

let counts = 0;

async function countWaiting() {
  const badge = $("#inbox-count");
  if (!badge) return;
  // Counts may overlap on a slow network: an older answer must not overwrite a newer one.
  const count = ++counts;
  const queued = await api("GET", "/chat/conversations?state=queued&limit=500");
  if (count !== counts) return;
  badge.hidden = queued.length === 0;
  fill(
    badge,
    String(queued.length),
    h("span", { class: "visually-hidden", text: ` ${t("inbox.waiting_count")}` }),
  );
}

// A module runs once however many page scripts import it: the frame starts here.
setInterval(keepSession, SESSION_REFRESH_MS);
if (page.can["chat.agent"]) {
  setUpPresence().catch(showError);
  const socket = live();
  const recount = debounce(() => countWaiting().catch(() => {}), 400);
  socket.on("conversation", recount);
  socket.on("status", ({ online }) => {
    document.body.classList.toggle("offline", !online);
    if (online) recount();
  });
}
