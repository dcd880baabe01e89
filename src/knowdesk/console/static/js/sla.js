// The SLA clock of a ticket: which target is next (first response, then resolution), how long
// is left or how long it is overdue, and whether the clock is paused (pending on the customer).

import { fmtSpan, h, t } from "./core.js";

const DONE = new Set(["solved", "closed"]);
const SOON_MS = 60 * 60 * 1000;

/** {target, due, breached, paused} for the ticket's next SLA target, or null. */
export function nextTarget(ticket) {
  if (DONE.has(ticket.status)) return null;
  const paused = ticket.status === "pending";
  if (!ticket.first_responded_at && ticket.first_response_due_at) {
    return {
      target: "first_response",
      due: ticket.first_response_due_at,
      breached: Boolean(ticket.response_breached_at),
      paused,
    };
  }
  if (ticket.resolution_due_at) {
    return {
      target: "resolution",
      due: ticket.resolution_due_at,
      breached: Boolean(ticket.resolution_breached_at),
      paused,
    };
  }
  return null;
}

/** A span telling the clock: "reply in 1 h 05 min", "resolution overdue 20 min", "paused". */
export function slaClock(ticket, now = Date.now()) {
  const next = nextTarget(ticket);
  if (!next) return h("span", { class: "muted", text: "—" });
  const left = new Date(next.due).getTime() - now;
  const what = t(`sla.${next.target}`);
  if (next.paused) return h("span", { class: "sla muted", text: t("sla.paused", { what }) });
  if (left < 0 || next.breached) {
    return h("span", { class: "sla overdue", text: t("sla.overdue", { what, span: fmtSpan(left / 1000) }) });
  }
  return h("span", {
    class: `sla ${left < SOON_MS ? "due-soon" : ""}`,
    text: t("sla.left", { what, span: fmtSpan(left / 1000) }),
  });
}
