// Entries past their review-by date: what to recheck first, oldest first.

import "./shell.js";
import { $, api, badge, fill, fmtDate, h, memberName, showError, t } from "./core.js";

const DAY_MS = 86400000;

async function start() {
  const [entries, collections] = await Promise.all([
    api("GET", "/kb/stale"),
    api("GET", "/kb/collections"),
  ]);
  const names = new Map(collections.map((c) => [c.id, c.name]));
  entries.sort((a, b) => (a.review_by || "").localeCompare(b.review_by || ""));
  const body = $("#stale tbody");
  if (entries.length === 0) {
    fill(body, h("tr", {}, h("td", { class: "empty", attrs: { colspan: 5 }, text: t("stale.none") })));
    return;
  }
  const rows = await Promise.all(
    entries.map(async (entry) => {
      const overdue = Math.max(0, Math.floor((Date.now() - new Date(entry.review_by).getTime()) / DAY_MS));
      return h(
        "tr",
        {},
        h("td", { class: "title", dataset: { label: t("kb.title") } }, h("a", { href: `/console/kb/entries/${entry.id}`, text: entry.title })),
        h("td", { dataset: { label: t("kb.collection") }, text: names.get(entry.collection_id) || "" }),
        h("td", { dataset: { label: t("stale.owner") }, text: await memberName(entry.owner_id) }),
        h(
          "td",
          { dataset: { label: t("kb.review_by") } },
          fmtDate(entry.review_by),
          " ",
          h("span", { class: "badge sla-breached", text: t("stale.days_over", { n: overdue }) }),
        ),
        h("td", { dataset: { label: t("kb.status") } }, badge("status", entry.status)),
      );
    }),
  );
  fill(body, rows);
}

start().catch(showError);
