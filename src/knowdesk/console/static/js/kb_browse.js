// Knowledge base: collections, and their entries found by title words, kind and status.

import "./shell.js";
import { $, act, api, badge, debounce, fill, h, page, showError, t, timeEl } from "./core.js";

const PAGE_SIZE = 50;
const params = new URLSearchParams(location.search);
const state = {
  collection: params.get("collection") || "",
  offset: 0,
};

const form = $("#filters");
for (const name of ["q", "kind", "status"]) {
  if (params.get(name)) form.elements[name].value = params.get(name);
}

function query(offset) {
  const search = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
  if (state.collection) search.set("collection_id", state.collection);
  for (const name of ["q", "kind", "status"]) {
    const value = form.elements[name].value.trim();
    if (value) search.set(name, value);
  }
  return search;
}

/** Keep the address in step with the filters, so a view can be bookmarked or shared. */
function remember() {
  const search = query(0);
  search.delete("limit");
  search.delete("offset");
  if (search.has("collection_id")) {
    search.set("collection", search.get("collection_id"));
    search.delete("collection_id");
  }
  const text = search.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}

function entryRow(entry) {
  const version =
    entry.published_version && entry.published_version !== entry.current_version
      ? t("kb.version_of", { current: entry.current_version, published: entry.published_version })
      : `v${entry.current_version}`;
  return h(
    "tr",
    {},
    h(
      "td",
      { class: "title", dataset: { label: t("kb.title") } },
      h("a", { href: `/console/kb/entries/${entry.id}`, text: entry.title }),
      entry.tags.length ? h("div", {}, entry.tags.map((tag) => [h("span", { class: "tag", text: tag }), " "])) : null,
    ),
    h("td", { dataset: { label: t("kb.kind") }, text: t(`kind.${entry.kind}`) }),
    h("td", { dataset: { label: t("kb.status") } }, badge("status", entry.status)),
    h("td", { dataset: { label: t("kb.version") }, text: version }),
    h("td", { dataset: { label: t("kb.index") } }, badge("index", entry.index_status)),
    h("td", { dataset: { label: t("kb.updated") } }, timeEl(entry.updated_at)),
  );
}

async function load(append = false) {
  state.offset = append ? state.offset + PAGE_SIZE : 0;
  const rows = await api("GET", `/kb/entries?${query(state.offset)}`);
  const body = $("#entries tbody");
  if (!append) body.replaceChildren();
  if (!append && rows.length === 0) {
    body.append(h("tr", {}, h("td", { class: "empty", attrs: { colspan: 6 }, text: t("kb.no_entries") })));
  }
  body.append(...rows.map(entryRow));
  $("#more").hidden = rows.length < PAGE_SIZE;
  const shown = body.querySelectorAll("tr td.title").length;
  $("#result-count").textContent = t("kb.shown", { n: shown });
  remember();
}

async function loadCollections() {
  const collections = await api("GET", "/kb/collections");
  const link = (id, name) =>
    h(
      "li",
      {},
      h("a", {
        href: id ? `?collection=${id}` : "?",
        text: name,
        attrs: { "aria-current": state.collection === id ? "true" : null },
        on: {
          click: (event) => {
            event.preventDefault();
            state.collection = id;
            loadCollections().catch(showError);
            load().catch(showError);
          },
        },
      }),
    );
  fill(
    $("#collections"),
    link("", t("kb.all_collections")),
    collections.map((c) => link(c.id, c.name)),
  );
  const current = collections.find((c) => c.id === state.collection);
  $("#kb-title").textContent = current ? current.name : t("kb.section.browse");
  const exportLink = $("#export");
  exportLink.hidden = !current;
  if (current) exportLink.href = `/api/v1/kb/collections/${current.id}/faq-export?format=xlsx`;
  if ($("#new-faq")) {
    $("#new-faq").href = current ? `/console/kb/new?collection=${current.id}` : "/console/kb/new";
    $("#upload-link").href = current ? `/console/kb/upload?collection=${current.id}` : "/console/kb/upload";
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load().catch(showError);
});
form.addEventListener("change", () => load().catch(showError));
form.elements.q.addEventListener("input", debounce(() => load().catch(showError), 300));
$("#more").addEventListener("click", (event) => act(event.currentTarget, () => load(true)));

const newCollection = $("#new-collection");
if (newCollection && page.can["kb.write"]) {
  newCollection.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#collection-name");
    const created = await act(event.submitter, () =>
      api("POST", "/kb/collections", { name: input.value.trim() }),
    );
    if (!created) return;
    input.value = "";
    state.collection = created.id;
    await loadCollections();
    await load();
  });
}

loadCollections().catch(showError);
load().catch(showError);
