// One knowledge-base entry: edit it (each change a new version), move it through review, read
// its history, compare any two versions side by side and roll back. Also the new-FAQ form.

import "./shell.js";
import {
  $,
  act,
  announce,
  api,
  badge,
  confirmDialog,
  fill,
  fmtDate,
  h,
  memberName,
  page,
  showError,
  t,
  timeEl,
  tOr,
} from "./core.js";
import { sideBySide } from "./diff.js";

const form = $("#entry-form");
const can = page.can;
let entry = null;

function lines(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

function tagList(text) {
  return text
    .split(/[,，]/)
    .map((tag) => tag.trim())
    .filter(Boolean);
}

function showFormError(error) {
  const box = $("#form-error");
  box.hidden = !error;
  box.textContent = error ? error.message : "";
}

function missing() {
  for (const name of ["question", "answer"]) {
    const input = form.elements[name];
    if (!input.closest("[hidden]") && !input.value.trim()) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return t("form.required", { field: $(`label[for=${name}]`).textContent });
    }
    input.removeAttribute("aria-invalid");
  }
  return null;
}

// -- a new FAQ entry ----------------------------------------------------------------------------

async function startNew() {
  $("#collection-field").hidden = false;
  $("#publish-field").hidden = !can["kb.publish"];
  $("#save").textContent = t("kb.create");
  // Ours before the collections load: an early submit must not reload the page and lose the text.
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = missing();
    if (problem) return showFormError(new Error(problem));
    showFormError(null);
    const body = {
      collection_id: form.elements.collection.value,
      question: form.elements.question.value.trim(),
      similar: lines(form.elements.similar.value),
      answer: form.elements.answer.value.trim(),
      tags: tagList(form.elements.tags.value),
      review_by: form.elements.review_by.value || null,
      publish: form.elements.publish.checked,
    };
    try {
      const created = await api("POST", "/kb/faq", body);
      location.assign(`/console/kb/entries/${created.id}?created=1`);
    } catch (error) {
      showFormError(error);
    }
  });
  const wanted = new URLSearchParams(location.search).get("collection");
  const collections = await api("GET", "/kb/collections");
  fill(
    $("#collection"),
    collections.map((c) => h("option", { value: c.id, text: c.name, selected: c.id === wanted })),
  );
  if (collections.length === 0) {
    showFormError(new Error(t("kb.no_collection_yet")));
    $("#save").disabled = true;
  }
  $("#question").focus();
}

// -- an existing entry --------------------------------------------------------------------------

function statusLine() {
  const facts = [
    badge("status", entry.status),
    h("span", { text: t("kb.current_version", { n: entry.current_version }) }),
    h("span", {
      class: "muted",
      text: entry.published_version
        ? t("kb.published_version", { n: entry.published_version })
        : t("kb.not_published"),
    }),
    h("span", { class: "muted", text: t("kb.index") }),
    badge("index", entry.index_status),
    entry.index_error ? h("span", { class: "notice error small", text: entry.index_error }) : null,
    h("span", { class: "muted", text: tOr(`language.${entry.language}`, entry.language) }),
    entry.review_by
      ? h("span", { class: "muted", text: t("kb.review_by_date", { date: fmtDate(entry.review_by) }) })
      : null,
  ];
  fill($("#status-line"), facts);
}

function actionButton(label, handler, style = "") {
  return h("button", {
    type: "button",
    class: `button ${style}`,
    text: label,
    on: { click: (event) => act(event.currentTarget, handler) },
  });
}

async function workflow(step, body) {
  entry = await api("POST", `/kb/entries/${entry.id}/${step}`, body);
  announce(t(`kb.done.${step}`), "ok");
  render();
  await loadHistory();
}

function actions() {
  const buttons = [];
  const { status } = entry;
  if (status === "draft" && can["kb.write"]) {
    buttons.push(actionButton(t("kb.submit"), () => workflow("submit"), "primary"));
  }
  if (status === "in_review" && can["kb.review"]) {
    buttons.push(
      h("a", { class: "button primary", href: `/console/kb/review?entry=${entry.id}`, text: t("kb.review_it") }),
    );
  }
  if (status !== "published" && status !== "archived" && can["kb.publish"]) {
    buttons.push(actionButton(t("kb.publish"), () => workflow("publish")));
  }
  if (status === "published" && can["kb.publish"]) {
    buttons.push(actionButton(t("kb.archive"), () => workflow("archive")));
  }
  if (status === "archived" && can["kb.write"]) {
    buttons.push(actionButton(t("kb.restore"), () => workflow("restore")));
  }
  if (can["kb.write"]) {
    buttons.push(
      actionButton(
        t("action.delete"),
        async () => {
          if (!(await confirmDialog(t("kb.confirm_delete", { title: entry.title }), t("action.delete"), true))) return;
          await api("DELETE", `/kb/entries/${entry.id}`);
          location.assign(`/console/kb?collection=${entry.collection_id}`);
        },
        "danger",
      ),
    );
  }
  fill($("#actions"), buttons);
}

function renderBlocks(content) {
  fill(
    $("#blocks"),
    (content.blocks || []).map((block) =>
      h("p", {
        class: block.kind === "heading" ? "block-heading" : "",
        text: block.page ? `${block.text}  [p. ${block.page}]` : block.text,
      }),
    ),
  );
}

function render() {
  const { content } = entry;
  $("#entry-heading").textContent = entry.title;
  document.title = `${entry.title} · knowdesk`;
  $("#back").href = `/console/kb?collection=${entry.collection_id}`;
  statusLine();
  actions();
  const faq = entry.kind === "faq";
  $(".faq-only").hidden = !faq;
  $(".doc-only").hidden = faq;
  $("#title-field").hidden = faq;
  $("#note-field").hidden = false;
  if (faq) {
    form.elements.question.value = content.question;
    form.elements.similar.value = content.similar.join("\n");
    form.elements.answer.value = content.answer;
  } else {
    form.elements.title.value = content.title || entry.title;
    renderBlocks(content);
  }
  form.elements.tags.value = entry.tags.join(", ");
  form.elements.review_by.value = entry.review_by || "";
  form.elements.note.value = "";
  $("#save-hint").textContent = t("kb.save_hint");
  if (!can["kb.write"]) {
    for (const element of form.elements) element.disabled = true;
    $("#save").hidden = true;
    $("#save-hint").textContent = t("kb.read_only");
  }
  if (["queued", "processing"].includes(entry.index_status)) watchIndex();
}

let watching = false;

/** Follow the indexing job until the entry is searchable (or failed). */
async function watchIndex() {
  if (watching) return;
  watching = true;
  while (["queued", "processing"].includes(entry.index_status)) {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const fresh = await api("GET", `/kb/entries/${entry.id}`);
    if (fresh.current_version !== entry.current_version) break;
    entry = fresh;
    statusLine();
  }
  watching = false;
}

async function save(event) {
  event.preventDefault();
  const problem = missing();
  if (problem) return showFormError(new Error(problem));
  showFormError(null);
  const body = {
    expected_version: entry.current_version,
    tags: tagList(form.elements.tags.value),
    review_by: form.elements.review_by.value || null,
    note: form.elements.note.value.trim(),
  };
  if (entry.kind === "faq") {
    body.question = form.elements.question.value.trim();
    body.similar = lines(form.elements.similar.value);
    body.answer = form.elements.answer.value.trim();
  } else if (form.elements.title.value.trim()) {
    body.title = form.elements.title.value.trim();
  }
  const before = entry.current_version;
  const saved = await act($("#save"), async () => {
    try {
      return await api("PATCH", `/kb/entries/${entry.id}`, body);
    } catch (error) {
      if (error.status === 409) error.message = t("kb.conflict");
      showFormError(error);
      return null;
    }
  });
  if (!saved) return;
  entry = saved;
  announce(
    entry.current_version > before
      ? t("kb.saved_version", { n: entry.current_version })
      : t("kb.saved_same"),
    "ok",
  );
  render();
  await loadHistory();
}

// -- history ------------------------------------------------------------------------------------

async function rollback(version) {
  const publish = h("input", { type: "checkbox", id: "rollback-publish" });
  const dialog = h(
    "dialog",
    { class: "dialog", attrs: { "aria-labelledby": "rollback-text" } },
    h(
      "form",
      { method: "dialog", class: "stack" },
      h("p", { id: "rollback-text", text: t("kb.rollback_explain", { n: version }) }),
      can["kb.publish"]
        ? h("label", { class: "check" }, publish, t("kb.rollback_publish"))
        : null,
      h(
        "div",
        { class: "row end" },
        h("button", { class: "button", value: "no", text: t("action.cancel") }),
        h("button", { class: "button primary", value: "yes", text: t("kb.rollback") }),
      ),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
  const answer = await new Promise((resolve) =>
    dialog.addEventListener("close", () => resolve(dialog.returnValue)),
  );
  dialog.remove();
  if (answer !== "yes") return;
  try {
    entry = await api("POST", `/kb/entries/${entry.id}/rollback`, {
      version,
      publish: publish.checked,
    });
    announce(t("kb.rolled_back", { n: version, current: entry.current_version }), "ok");
    render();
    await loadHistory();
  } catch (error) {
    showError(error);
  }
}

async function compare(from, to) {
  const card = $("#compare-card");
  const result = await api("GET", `/kb/entries/${entry.id}/diff?from=${from}&to=${to}`);
  const label = (n) =>
    n === entry.published_version ? t("kb.version_published", { n }) : t("kb.version_n", { n });
  fill($("#diff"), sideBySide(result.diff, label(from), label(to)));
  card.hidden = false;
  card.focus();
}


// Notes the server writes itself are words of ours, shown in the reader's language; people's
// notes are shown as they wrote them.
const SERVER_NOTES = { created: "kb.note.created", import: "kb.note.import", upload: "kb.note.upload" };

function versionNote(note) {
  if (!note) return t("kb.no_note");
  if (SERVER_NOTES[note]) return t(SERVER_NOTES[note]);
  const rollback = note.match(/^rollback to version (\d+)$/);
  return rollback ? t("kb.note.rollback", { n: rollback[1] }) : note;
}
async function loadHistory() {
  const history = await api("GET", `/kb/entries/${entry.id}/history`);
  const versions = [...history.versions].reverse();
  const items = await Promise.all(
    versions.map(async (version) => {
      const author = await memberName(version.author_id);
      const current = version.number === entry.current_version;
      const buttons = [];
      if (!current) {
        buttons.push(
          h("button", {
            type: "button",
            class: "button small",
            text: t("kb.compare_with_current"),
            on: { click: (event) => act(event.currentTarget, () => compare(version.number, entry.current_version)) },
          }),
        );
        if (can["kb.write"]) {
          buttons.push(
            h("button", {
              type: "button",
              class: "button small",
              text: t("kb.rollback"),
              attrs: { "aria-label": t("kb.rollback_to", { n: version.number }) },
              on: { click: () => rollback(version.number) },
            }),
          );
        }
      }
      return h(
        "li",
        { dataset: { version: version.number } },
        h(
          "div",
          { class: "row" },
          h("strong", { text: t("kb.version_n", { n: version.number }) }),
          version.number === entry.published_version ? badge("status", "published") : null,
          current ? h("span", { class: "badge", text: t("kb.newest") }) : null,
        ),
        h("div", { class: "small" }, versionNote(version.note)),
        h("div", { class: "small muted" }, author, " · ", timeEl(version.created_at)),
        buttons.length ? h("div", { class: "row mt" }, buttons) : null,
      );
    }),
  );
  fill($("#versions"), items);
  const options = (selected) =>
    versions.map((v) => h("option", { value: v.number, text: t("kb.version_n", { n: v.number }), selected: v.number === selected }));
  fill($("#compare-from"), options(entry.published_version || Math.max(1, entry.current_version - 1)));
  fill($("#compare-to"), options(entry.current_version));
  $("#compare-form").hidden = versions.length < 2;

  const reviews = await Promise.all(
    [...history.reviews].reverse().map(async (review) =>
      h(
        "li",
        {},
        h(
          "div",
          { class: "row" },
          badge("review", review.decision),
          h("span", { class: "small", text: t("kb.version_n", { n: review.version }) }),
        ),
        review.comment ? h("div", { class: "small", text: review.comment }) : null,
        h("div", { class: "small muted" }, await memberName(review.reviewer_id), " · ", timeEl(review.created_at)),
      ),
    ),
  );
  fill($("#reviews"), reviews.length ? reviews : h("li", { class: "muted", text: t("kb.no_reviews") }));
}

async function open() {
  entry = await api("GET", `/kb/entries/${page.entry_id}`);
  $("#side").hidden = false;
  render();
  if (new URLSearchParams(location.search).get("created")) announce(t("kb.created"), "ok");
  form.addEventListener("submit", save);
  $("#compare-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(event.submitter, () => compare(Number($("#compare-from").value), Number($("#compare-to").value)));
  });
  await loadHistory();
}

(page.entry_id ? open() : startNew()).catch(showError);
