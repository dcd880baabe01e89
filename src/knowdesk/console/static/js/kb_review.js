// Review queue: each entry waiting for review, what it changes against the published version
// side by side, and the reviewer's decision with a comment.

import "./shell.js";
import { $, act, announce, api, badge, fill, h, memberName, page, showError, t, timeEl } from "./core.js";
import { allNew, sideBySide } from "./diff.js";

const reviewBox = $("#review");
let queue = [];
let selected = new URLSearchParams(location.search).get("entry");

function renderQueue() {
  $("#queue-count").textContent = String(queue.length);
  if (queue.length === 0) {
    fill($("#queue"), h("li", { class: "muted", text: t("review.empty") }));
    return;
  }
  fill(
    $("#queue"),
    queue.map((entry) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            attrs: { "aria-current": entry.id === selected ? "true" : null },
            on: { click: () => select(entry.id, true) },
          },
          h("strong", { text: entry.title }),
          h(
            "div",
            { class: "small muted" },
            t(`kind.${entry.kind}`),
            " · ",
            t("kb.version_n", { n: entry.current_version }),
            " · ",
            timeEl(entry.updated_at),
          ),
        ),
      ),
    ),
  );
}

async function decide(entry, decision, comment, button) {
  if (decision === "reject" && !comment.trim()) {
    const box = $("#decision-error");
    box.hidden = false;
    box.textContent = t("review.reason_needed");
    $("#comment").focus();
    return;
  }
  const done = await act(button, () =>
    api("POST", `/kb/entries/${entry.id}/${decision}`, { comment: comment.trim() }),
  );
  if (!done) return;
  announce(t(decision === "approve" ? "review.done_approve" : "review.done_reject", { title: entry.title }), "ok");
  const index = queue.findIndex((e) => e.id === entry.id);
  queue.splice(index, 1);
  const next = queue[Math.min(index, queue.length - 1)];
  selected = next ? next.id : null;
  renderQueue();
  if (next) await select(next.id, true);
  else fill(reviewBox, h("p", { class: "empty", text: t("review.all_done") }));
}

async function select(entryId, focus = false) {
  selected = entryId;
  history.replaceState(null, "", `?entry=${entryId}`);
  renderQueue();
  const entry = await api("GET", `/kb/entries/${entryId}`);
  const history_ = await api("GET", `/kb/entries/${entryId}/history`);
  const newest = history_.versions[history_.versions.length - 1];
  let comparison;
  if (entry.published_version && entry.published_version !== entry.current_version) {
    const result = await api(
      "GET",
      `/kb/entries/${entryId}/diff?from=${entry.published_version}&to=${entry.current_version}`,
    );
    comparison = sideBySide(
      result.diff,
      t("kb.version_published", { n: entry.published_version }),
      t("review.proposed", { n: entry.current_version }),
    );
  } else {
    comparison = allNew(entry.content, t("review.proposed", { n: entry.current_version }));
  }
  const heading = h("h2", { id: "review-title", tabindex: "-1", text: entry.title });
  const comment = h("textarea", { id: "comment", rows: 3, maxLength: 5000 });
  const approve = h("button", { type: "button", class: "button primary", text: t("review.approve") });
  const reject = h("button", { type: "button", class: "button danger", text: t("review.reject") });
  approve.addEventListener("click", () => decide(entry, "approve", comment.value, approve));
  reject.addEventListener("click", () => decide(entry, "reject", comment.value, reject));
  fill(
    reviewBox,
    heading,
    h(
      "div",
      { class: "status-line" },
      badge("status", entry.status),
      h("span", { class: "muted", text: t(`kind.${entry.kind}`) }),
      h("span", { class: "muted" }, t("review.by"), " ", await memberName(newest && newest.author_id)),
      newest ? timeEl(newest.created_at) : null,
      h("a", { href: `/console/kb/entries/${entry.id}`, text: t("review.open_entry") }),
    ),
    newest && newest.note ? h("p", {}, h("strong", { text: `${t("kb.note")}: ` }), newest.note) : null,
    comparison,
    page.can["kb.review"]
      ? h(
          "div",
          { class: "stack mt" },
          h("label", { attrs: { for: "comment" }, text: t("review.comment") }),
          comment,
          h("p", { class: "notice error", id: "decision-error", attrs: { role: "alert" }, hidden: true }),
          h("div", { class: "row" }, approve, reject),
        )
      : h("p", { class: "notice warn mt", text: t("review.cannot") }),
  );
  if (focus) heading.focus();
}

async function start() {
  queue = await api("GET", "/kb/review-queue");
  queue.sort((a, b) => a.updated_at.localeCompare(b.updated_at));
  if (!queue.some((e) => e.id === selected)) selected = queue.length ? queue[0].id : null;
  renderQueue();
  if (selected) await select(selected);
  else fill(reviewBox, h("p", { class: "empty", text: t("review.empty") }));
}

start().catch(showError);
