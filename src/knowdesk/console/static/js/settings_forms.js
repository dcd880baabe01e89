// Small builders the settings pages share: labelled fields, selects, cards, tables, and forms
// that show a refusal inside themselves instead of losing what was typed.

import { h } from "./core.js";

let fieldCounter = 0;

/** A labelled control; returns [wrapper, control]. */
export function field(label, control, hint) {
  fieldCounter += 1;
  control.id ||= `f${fieldCounter}`;
  const hintEl = hint ? h("span", { class: "hint", id: `${control.id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { attrs: { for: control.id }, text: label }), control, hintEl);
}

export function select(options, selected) {
  return h(
    "select",
    {},
    options.map(([value, label]) => h("option", { value, text: label, selected: value === selected })),
  );
}

export function card(title, ...children) {
  fieldCounter += 1;
  const id = `card-${fieldCounter}`;
  return h("section", { class: "card", attrs: { "aria-labelledby": id } }, h("h2", { id, text: title }), children);
}

export function table(headers, rows, emptyText) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "list cards" },
      h("thead", {}, h("tr", {}, headers.map((label) => h("th", { attrs: { scope: "col" }, text: label })))),
      h(
        "tbody",
        {},
        rows.length ? rows : h("tr", {}, h("td", { class: "empty", attrs: { colspan: headers.length }, text: emptyText })),
      ),
    ),
  );
}

export function cell(label, ...content) {
  return h("td", { dataset: { label } }, content);
}

export function formError() {
  return h("p", { class: "notice error", attrs: { role: "alert" }, hidden: true });
}

/** Submit handler that shows a failure inside the form instead of losing the input. */
export function onSubmit(form, errorBox, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    const button = event.submitter;
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      errorBox.hidden = false;
      errorBox.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}
