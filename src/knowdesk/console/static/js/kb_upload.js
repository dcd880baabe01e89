// Upload documents or FAQ files into a collection, with the upload's progress, each file's
// result (rows created, updated, unchanged, refused with their row number) and the indexing of
// what was published.

import "./shell.js";
import { $, api, fill, h, page, showError, t, upload } from "./core.js";

const form = $("#upload-form");
const input = $("#files");
const maxBytes = page.max_upload_bytes;

function size(bytes) {
  if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function showChosen() {
  const files = [...input.files];
  fill(
    $("#chosen"),
    files.map((file) =>
      h(
        "li",
        {},
        file.name,
        " ",
        h("span", { class: "muted", text: size(file.size) }),
        file.size > maxBytes ? h("span", { class: "badge sla-breached", text: t("upload.too_large") }) : null,
      ),
    ),
  );
}

function problem(message) {
  const box = $("#upload-error");
  box.hidden = !message;
  box.textContent = message || "";
}

function resultRow(result) {
  const problems = result.errors.map((e) => (e.row ? t("upload.row", { row: e.row, message: e.message }) : e.message));
  return h(
    "tr",
    {},
    h("td", { class: "title", dataset: { label: t("upload.file") }, text: result.filename }),
    h("td", { dataset: { label: t("upload.created") }, text: String(result.created) }),
    h("td", { dataset: { label: t("upload.updated") }, text: String(result.updated) }),
    h("td", { dataset: { label: t("upload.unchanged") }, text: String(result.unchanged) }),
    h(
      "td",
      { dataset: { label: t("upload.problems") } },
      problems.length ? h("ul", { class: "plain-list" }, problems.map((p) => h("li", { class: "small", text: p }))) : "—",
    ),
  );
}

/** Follow the indexing of published entries until every one is searchable or failed. */
async function watchIndexing(ids) {
  const line = $("#indexing");
  let pending = ids;
  while (pending.length) {
    const entries = await Promise.all(pending.map((id) => api("GET", `/kb/entries/${id}`)));
    pending = entries.filter((e) => ["queued", "processing"].includes(e.index_status)).map((e) => e.id);
    line.textContent = pending.length
      ? t("upload.indexing", { done: ids.length - pending.length, total: ids.length })
      : t("upload.indexed", { n: ids.length });
    if (pending.length) await new Promise((resolve) => setTimeout(resolve, 2500));
  }
}

async function listEntries(ids) {
  const shown = ids.slice(0, 30);
  const entries = await Promise.all(shown.map((id) => api("GET", `/kb/entries/${id}`)));
  fill(
    $("#new-entries"),
    entries.map((entry) => h("li", {}, h("a", { href: `/console/kb/entries/${entry.id}`, text: entry.title }))),
    ids.length > shown.length ? h("li", { class: "muted", text: t("upload.and_more", { n: ids.length - shown.length }) }) : null,
  );
}

async function submit(event) {
  event.preventDefault();
  problem("");
  const files = [...input.files];
  if (!form.elements.collection.value) return problem(t("upload.no_collection"));
  if (files.length === 0) {
    input.focus();
    return problem(t("upload.no_files"));
  }
  const kind = form.elements.kind.value;
  const data = new FormData();
  for (const file of files) data.append("files", file, file.name);
  const publish = $("#publish");
  data.append("publish", publish && publish.checked ? "true" : "false");
  const path =
    kind === "faq"
      ? `/kb/collections/${form.elements.collection.value}/faq-import`
      : `/kb/collections/${form.elements.collection.value}/documents`;
  const button = $("#start");
  const bar = $("#progress");
  const text = $("#progress-text");
  button.disabled = true;
  $("#progress-box").hidden = false;
  bar.value = 0;
  let lastSpoken = -1;
  try {
    const result = await upload(path, data, (sent, total) => {
      const percent = Math.round((sent / total) * 100);
      bar.value = percent;
      // Tell screen readers in steps of a quarter rather than at every event.
      if (Math.floor(percent / 25) !== lastSpoken) {
        lastSpoken = Math.floor(percent / 25);
        text.textContent = t("upload.sent", { sent: size(sent), total: size(total), percent });
      }
      if (sent === total) text.textContent = t("upload.processing");
    });
    bar.value = 100;
    text.textContent = t("upload.done");
    fill($("#results tbody"), result.files.map(resultRow));
    const card = $("#results-card");
    card.hidden = false;
    card.focus();
    const ids = result.files.flatMap((f) => f.entry_ids);
    input.value = "";
    showChosen();
    await listEntries(ids);
    if (publish && publish.checked && ids.length) await watchIndexing(ids);
  } catch (error) {
    text.textContent = "";
    problem(error.message);
  } finally {
    button.disabled = false;
  }
}

async function start() {
  // Ours before the collections load: an early submit must not reload the page and drop the files.
  form.addEventListener("submit", submit);
  $("#limit").textContent = t("upload.limit", { size: size(maxBytes) });
  const wanted = new URLSearchParams(location.search).get("collection");
  const collections = await api("GET", "/kb/collections");
  fill(
    $("#collection"),
    collections.map((c) => h("option", { value: c.id, text: c.name, selected: c.id === wanted })),
  );
  const zone = $("#dropzone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    input.files = event.dataTransfer.files;
    showChosen();
  });
  input.addEventListener("change", showChosen);
}

start().catch(showError);
