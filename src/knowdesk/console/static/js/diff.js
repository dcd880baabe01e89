// Two versions side by side, from the unified diff the API returns (GET …/entries/{id}/diff).
// Removed lines stand left, added lines right, paired in order so that a changed line reads
// across; within a pair the changed middle is marked.

import { h, t } from "./core.js";

/** Rows of {left, right}, each side {text, kind: "same" | "del" | "add" | "gap"} or null. */
export function diffRows(unified) {
  const rows = [];
  let removed = [];
  let added = [];
  const flush = () => {
    const count = Math.max(removed.length, added.length);
    for (let i = 0; i < count; i += 1) {
      rows.push({
        left: i < removed.length ? { text: removed[i], kind: "del" } : null,
        right: i < added.length ? { text: added[i], kind: "add" } : null,
      });
    }
    removed = [];
    added = [];
  };
  for (const line of unified.split("\n")) {
    if (line.startsWith("---") || line.startsWith("+++")) continue;
    if (line.startsWith("@@")) {
      flush();
      if (rows.length) rows.push({ gap: true });
    } else if (line.startsWith("-")) {
      removed.push(line.slice(1));
    } else if (line.startsWith("+")) {
      added.push(line.slice(1));
    } else {
      flush();
      const text = line.startsWith(" ") ? line.slice(1) : line;
      rows.push({ left: { text, kind: "same" }, right: { text, kind: "same" } });
    }
  }
  flush();
  return rows;
}

/** The text with its middle (what differs from `other`) wrapped in `tag`. */
function marked(text, other, tag) {
  let start = 0;
  while (start < text.length && start < other.length && text[start] === other[start]) start += 1;
  let end = 0;
  while (
    end < text.length - start &&
    end < other.length - start &&
    text[text.length - 1 - end] === other[other.length - 1 - end]
  ) {
    end += 1;
  }
  // Mark whole Latin words ("Two" → "Three", not "wo" → "hree"); CJK text stays by character.
  const letter = /[A-Za-z0-9]/;
  while (start > 0 && letter.test(text[start - 1])) start -= 1;
  while (end > 0 && letter.test(text[text.length - end])) end -= 1;
  const middle = text.slice(start, text.length - end);
  if (!middle) return [text];
  return [text.slice(0, start), h(tag, { text: middle }), text.slice(text.length - end)];
}

function cell(side, other, tag, label) {
  if (!side) return h("div", { class: "cell gap", attrs: { "aria-hidden": "true" } });
  const content = other && side.kind !== "same" ? marked(side.text, other.text, tag) : [side.text];
  return h(
    "div",
    { class: `cell ${side.kind}` },
    side.kind === "same" ? null : h("span", { class: "visually-hidden", text: `${label}: ` }),
    content,
  );
}

/** The side-by-side element for a unified diff. */
export function sideBySide(unified, leftTitle, rightTitle) {
  const rows = diffRows(unified);
  const grid = h(
    "div",
    { class: "diff", attrs: { role: "group", "aria-label": t("diff.label") } },
    h("div", { class: "diff-head", text: leftTitle }),
    h("div", { class: "diff-head", text: rightTitle }),
  );
  if (rows.length === 0) {
    grid.append(h("div", { class: "cell", text: t("diff.same") }), h("div", { class: "cell" }));
  }
  for (const row of rows) {
    if (row.gap) {
      grid.append(h("div", { class: "cell gap", text: "⋯" }), h("div", { class: "cell gap", text: "⋯" }));
      continue;
    }
    grid.append(
      cell(row.left, row.right, "del", t("diff.removed")),
      cell(row.right, row.left, "ins", t("diff.added")),
    );
  }
  return grid;
}

/** A version's content as the lines that versions are compared by (kb/content.py). */
export function contentLines(content) {
  if ("question" in content) {
    return [
      `Q: ${content.question}`,
      ...content.similar.map((s) => `~ ${s}`),
      "A:",
      ...content.answer.split("\n"),
    ];
  }
  const lines = [`# ${content.title || ""}`];
  for (const block of content.blocks || []) {
    const prefix = block.kind === "heading" ? "## " : "";
    lines.push(...block.text.split("\n").map((line) => prefix + line));
  }
  return lines;
}

/** A first version, all new: the same grid with an empty left side. */
export function allNew(content, rightTitle) {
  const unified = contentLines(content)
    .map((line) => `+${line}`)
    .join("\n");
  return sideBySide(unified, t("diff.nothing_before"), rightTitle);
}
