// Canned replies: short texts an agent inserts into a reply. They are kept in this browser, per
// workspace (the API has no store for them yet). `{customer}` and `{agent}` are filled in.

import { fill, h, page, t } from "./core.js";

const key = `knowdesk-canned:${page.workspace.id}`;

export function cannedReplies() {
  try {
    const saved = JSON.parse(localStorage.getItem(key));
    if (Array.isArray(saved)) return saved;
  } catch {
    // fall through to the defaults
  }
  return [t("canned.default.hello"), t("canned.default.wait"), t("canned.default.more")];
}

function save(replies) {
  localStorage.setItem(key, JSON.stringify(replies));
}

/** A dialog to add and remove canned replies; `changed` runs after each change. */
export function manageCanned(changed) {
  const list = h("ul", { class: "plain-list" });
  const render = () => {
    const replies = cannedReplies();
    fill(
      list,
      replies.map((text, index) =>
        h(
          "li",
          { class: "row" },
          h("span", { class: "grow", text }),
          h("button", {
            type: "button",
            class: "button small danger",
            text: t("action.delete"),
            attrs: { "aria-label": t("canned.delete", { text: text.slice(0, 40) }) },
            on: {
              click: () => {
                replies.splice(index, 1);
                save(replies);
                render();
                changed();
              },
            },
          }),
        ),
      ),
    );
  };
  const input = h("textarea", { id: "canned-new", rows: 2, maxLength: 4000 });
  const dialog = h(
    "dialog",
    { class: "dialog", attrs: { "aria-labelledby": "canned-title" } },
    h("h2", { id: "canned-title", text: t("canned.title") }),
    h("p", { class: "hint", text: t("canned.hint") }),
    list,
    h(
      "form",
      {
        class: "stack mt",
        on: {
          submit: (event) => {
            event.preventDefault();
            const text = input.value.trim();
            if (!text) return;
            save([...cannedReplies(), text]);
            input.value = "";
            render();
            changed();
          },
        },
      },
      h("label", { attrs: { for: "canned-new" }, text: t("canned.new") }),
      input,
      h(
        "div",
        { class: "row end" },
        h("button", { type: "button", class: "button", text: t("action.close"), on: { click: () => dialog.close() } }),
        h("button", { type: "submit", class: "button primary", text: t("action.add") }),
      ),
    ),
  );
  dialog.addEventListener("close", () => dialog.remove());
  render();
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}
