// Routing rules (owners): the rules in the order they run, moved up and down, and one form that
// adds a rule or edits the one chosen. The server checks the whole set before it keeps a change
// (unknown team or assignee, contradictory or cyclic rules: 422); its refusal is shown beside
// the form or the list, and the form keeps everything typed.

import { announce, api, confirmDialog, fill, h, members, t, teams } from "./core.js";
import { card, field, formError, onSubmit, select } from "./settings_forms.js";

// The facts a condition may test (see tickets/routing.py); "contact." takes an attribute name.
const FIELDS = [
  ["category", "rules.field.category"],
  ["channel", "rules.field.channel"],
  ["language", "rules.field.language"],
  ["priority", "rules.field.priority"],
  ["team", "rules.field.team"],
  ["intent", "rules.field.intent"],
  ["subject", "rules.field.subject"],
  ["tags", "rules.field.tags"],
  ["contact.email", "rules.field.contact_email"],
  ["contact.", "rules.field.contact"],
];
const OPERATORS = [
  ["eq", "rules.op.eq"],
  ["neq", "rules.op.neq"],
  ["in", "rules.op.in"],
  ["not_in", "rules.op.not_in"],
  ["contains", "rules.op.contains"],
  ["not_contains", "rules.op.not_contains"],
  ["gte", "rules.op.gte"],
  ["lte", "rules.op.lte"],
  ["exists", "rules.op.exists"],
];
const LIST_OPS = new Set(["in", "not_in"]);
const NUMBER_OPS = new Set(["gte", "lte"]);
const PRIORITIES = ["urgent", "high", "normal", "low"];
// Values offered as suggestions while typing (any other value may still be typed).
const KNOWN_VALUES = {
  channel: ["web", "email", "api", "widget", "chat"],
  language: ["en", "zh"],
  priority: ["low", "normal", "high", "urgent"],
};

const isAttribute = (name) => name.startsWith("contact.") && name !== "contact.email";
const fieldKey = (name) => (isAttribute(name) ? "contact." : name);
const label = (table, value) => t((table.find(([v]) => v === value) || [value, value])[1]);
const splitList = (text) =>
  text
    .split(/[,，]/)
    .map((part) => part.trim())
    .filter(Boolean);

function valueText(value) {
  if (value === null || value === undefined) return "";
  return Array.isArray(value) ? value.join(", ") : String(value);
}

/** A condition's value as the API takes it: a list for "is one of", a number for "at least",
 * true/false for a customer attribute; one left as it was keeps the type it was stored with. */
function parseValue(name, op, text, original) {
  if (op === "exists") return null;
  if (original && original.field === name && original.op === op && text === valueText(original.value)) {
    return original.value;
  }
  const trimmed = text.trim();
  if (LIST_OPS.has(op)) return splitList(trimmed);
  if (NUMBER_OPS.has(op)) return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
  if (isAttribute(name) && /^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === "true";
  return trimmed;
}

// -- the list -----------------------------------------------------------------------------------

function conditionText(condition, teamName) {
  const subject = isAttribute(condition.field)
    ? [t("rules.field.contact"), " ", h("code", { text: condition.field.slice("contact.".length) })]
    : label(FIELDS, condition.field);
  const value =
    condition.op === "exists"
      ? null
      : h("code", {
          text: condition.field === "team" ? [condition.value].flat().map(teamName).join(", ") : valueText(condition.value),
        });
  return h("span", { class: "condition-text" }, subject, " ", label(OPERATORS, condition.op), value ? [" ", value] : null);
}

function actionsText(rule, teamName, personName) {
  return [
    rule.team_id ? t("rules.to_team", { name: teamName(rule.team_id) }) : null,
    rule.assignee_id ? t("rules.to_person", { name: personName(rule.assignee_id) }) : null,
    rule.priority ? t("rules.priority", { p: t(`priority.${rule.priority}`) }) : null,
    rule.tags.length ? t("rules.tags", { tags: rule.tags.join(", ") }) : null,
    rule.stop ? t("rules.stop") : null,
  ]
    .filter(Boolean)
    .join("; ");
}

export async function rulesSection(root) {
  const [rulesNow, teamList, people, categories] = await Promise.all([
    api("GET", "/ticket-rules"),
    teams(),
    members(),
    api("GET", "/ticket-categories"),
  ]);
  let rules = rulesNow;
  const teamName = (id) => (teamList.find((team) => team.id === id) || { name: id }).name;
  const personName = (id) => (people.find((m) => m.user.id === id) || { user: { name: t("people.unknown") } }).user.name;

  const listError = formError();
  const list = h("ol", { class: "rules", id: "rules" });
  const formSlot = h("div");
  let editing = null; // the id of the rule in the form, or null for a new one

  // Suggestions for typed values, one list per field that has known values.
  const suggestions = {
    ...KNOWN_VALUES,
    category: categories.map((c) => c.name),
    intent: categories.map((c) => c.name),
  };
  const datalists = Object.entries(suggestions).map(([name, values]) =>
    h("datalist", { id: `rule-values-${name}` }, values.map((value) => h("option", { value }))),
  );

  async function reload() {
    rules = await api("GET", "/ticket-rules");
    drawList();
  }

  /** Run a change from the list; a refusal is shown above the list (which then still shows
   * the stored order, as nothing was changed). Returns whether it worked. */
  async function change(button, action) {
    listError.hidden = true;
    button.disabled = true;
    try {
      await action();
      return true;
    } catch (error) {
      listError.hidden = false;
      listError.textContent = error.message;
      return false;
    } finally {
      button.disabled = false;
    }
  }

  async function move(rule, step) {
    const ids = rules.map((r) => r.id);
    const from = ids.indexOf(rule.id);
    const to = from + step;
    [ids[from], ids[to]] = [ids[to], ids[from]];
    rules = await api("PUT", "/ticket-rules/order", { rule_ids: ids });
    drawList();
    announce(t("rules.moved", { name: rule.name, n: to + 1 }), "ok");
    // Keep the keyboard where it was: on the same button of the moved rule, or its other one.
    const item = list.querySelector(`li[data-rule-id="${rule.id}"]`);
    const same = item.querySelector(step < 0 ? ".move-up" : ".move-down");
    (same.disabled ? item.querySelector(step < 0 ? ".move-down" : ".move-up") : same).focus();
  }

  function ruleItem(rule, index) {
    const button = (text, aria, className, onClick, disabled = false) =>
      h("button", { type: "button", class: `button small ${className}`, text, disabled, attrs: { "aria-label": aria }, on: { click: onClick } });
    const conditions = rule.conditions.map((c) => conditionText(c, teamName));
    return h(
      "li",
      { dataset: { ruleId: rule.id } },
      h(
        "div",
        { class: "rule-head" },
        h("span", { class: "rule-number", text: String(index + 1) }),
        h("strong", { class: "rule-name", text: rule.name }),
        rule.enabled ? null : h("span", { class: "badge", text: t("rules.disabled") }),
      ),
      h(
        "dl",
        { class: "facts rule-facts" },
        h("dt", { text: t("rules.when") }),
        h("dd", {}, conditions.length ? conditions.flatMap((c, i) => (i ? [` ${t("rules.and")} `, c] : [c])) : t("rules.always")),
        h("dt", { text: t("rules.then") }),
        h("dd", { text: actionsText(rule, teamName, personName) }),
      ),
      h(
        "div",
        { class: "row" },
        button(t("rules.move_up"), t("rules.move_up_which", { name: rule.name }), "move-up", (e) => change(e.currentTarget, () => move(rule, -1)), index === 0),
        button(t("rules.move_down"), t("rules.move_down_which", { name: rule.name }), "move-down", (e) => change(e.currentTarget, () => move(rule, 1)), index === rules.length - 1),
        button(t("rules.edit"), t("rules.edit_which", { name: rule.name }), "edit", () => drawForm(rule)),
        button(t("action.delete"), t("rules.delete_which", { name: rule.name }), "danger", async (event) => {
          const target = event.currentTarget;
          if (!(await confirmDialog(t("rules.confirm_delete", { name: rule.name }), t("action.delete"), true))) return;
          const done = await change(target, () => api("DELETE", `/ticket-rules/${rule.id}`));
          if (done) {
            announce(t("rules.deleted", { name: rule.name }), "ok");
            await reload();
            if (editing === rule.id) drawForm(null);
            list.closest("section").querySelector("h2").focus();
          }
        }),
      ),
    );
  }

  function drawList() {
    fill(list, rules.length ? rules.map(ruleItem) : h("li", { class: "empty", text: t("rules.none") }));
  }

  // -- the form ---------------------------------------------------------------------------------

  function conditionRow(condition, rows) {
    const name = h("select", {}, FIELDS.map(([value, key]) => h("option", { value, text: t(key), selected: condition && fieldKey(condition.field) === value })));
    const attribute = h("input", {
      type: "text",
      maxLength: 100,
      value: condition && isAttribute(condition.field) ? condition.field.slice("contact.".length) : "",
    });
    const op = select(OPERATORS.map(([value, key]) => [value, t(key)]), condition ? condition.op : "eq");
    const text = h("input", { type: "text", maxLength: 500, value: condition && condition.field !== "team" ? valueText(condition.value) : "" });
    const teamValue = h(
      "select",
      {},
      teamList.map((team) => h("option", { value: team.id, text: team.name, selected: condition && [condition.value].flat().includes(team.id) })),
    );
    const attributeField = field(t("rules.cond_attribute"), attribute);
    // One "Value" field: a team is chosen from a list, anything else is typed.
    const valueField = field(t("rules.cond_value"), text);
    teamValue.id = text.id;
    const remove = h("button", { type: "button", class: "button small danger", text: t("rules.remove_condition") });
    const element = h(
      "div",
      { class: "condition" },
      field(t("rules.cond_field"), name),
      attributeField,
      field(t("rules.cond_op"), op),
      valueField,
      remove,
    );
    const sync = () => {
      const chosen = name.value;
      attributeField.hidden = chosen !== "contact.";
      attribute.required = chosen === "contact.";
      const needsValue = op.value !== "exists";
      valueField.hidden = !needsValue;
      const [shown, gone] = chosen === "team" ? [teamValue, text] : [text, teamValue];
      if (gone.isConnected) gone.replaceWith(shown);
      text.placeholder = LIST_OPS.has(op.value) ? t("rules.several_values") : "";
      if (suggestions[chosen]) text.setAttribute("list", `rule-values-${chosen}`);
      else text.removeAttribute("list");
    };
    name.addEventListener("change", sync);
    op.addEventListener("change", sync);
    sync();
    const row = {
      element,
      value() {
        const fieldName = name.value === "contact." ? `contact.${attribute.value.trim()}` : name.value;
        const value =
          fieldName === "team" && op.value !== "exists"
            ? LIST_OPS.has(op.value)
              ? [teamValue.value]
              : teamValue.value
            : parseValue(fieldName, op.value, text.value, condition);
        return { field: fieldName, op: op.value, value };
      },
    };
    remove.addEventListener("click", () => {
      const at = rows.indexOf(row);
      rows.splice(at, 1);
      element.remove();
      renumber(rows);
    });
    return row;
  }

  function renumber(rows) {
    rows.forEach((row, i) => {
      const remove = row.element.querySelector("button");
      remove.setAttribute("aria-label", t("rules.remove_condition_n", { n: i + 1 }));
    });
  }

  /** Back from the form to the rule it edited, for the keyboard. */
  function focusEdit(ruleId) {
    const button = list.querySelector(`li[data-rule-id="${ruleId}"] .edit`);
    if (button) button.focus();
  }

  function drawForm(rule) {
    editing = rule ? rule.id : null;
    const name = h("input", { type: "text", required: true, maxLength: 200, value: rule ? rule.name : "" });
    const enabled = h("input", { type: "checkbox", checked: rule ? rule.enabled : true });
    const rows = [];
    const conditionList = h("div", { class: "conditions" });
    const addCondition = (condition) => {
      const row = conditionRow(condition, rows);
      rows.push(row);
      conditionList.append(row.element);
      renumber(rows);
      return row;
    };
    (rule ? rule.conditions : []).forEach(addCondition);
    const team = select([["", t("rules.no_team")], ...teamList.map((x) => [x.id, x.name])], rule ? rule.team_id || "" : "");
    const assignee = select([["", t("rules.no_assignee")], ...people.map((m) => [m.user.id, m.user.name])], rule ? rule.assignee_id || "" : "");
    const priority = select([["", t("rules.keep_priority")], ...PRIORITIES.map((p) => [p, t(`priority.${p}`)])], rule ? rule.priority || "" : "");
    const tags = h("input", { type: "text", maxLength: 500, value: rule ? rule.tags.join(", ") : "" });
    const stop = h("input", { type: "checkbox", checked: rule ? rule.stop : false });
    const error = formError();
    const form = h(
      "form",
      { class: "stack", id: "rule-form" },
      field(t("rules.rule_name"), name),
      h("label", { class: "check" }, enabled, t("rules.enabled")),
      h(
        "fieldset",
        {},
        h("legend", { text: t("rules.conditions") }),
        h("p", { class: "hint", text: t("rules.conditions_hint") }),
        conditionList,
        h("button", {
          type: "button",
          class: "button small",
          text: t("rules.add_condition"),
          on: { click: () => addCondition(null).element.querySelector("select").focus() },
        }),
      ),
      h(
        "fieldset",
        {},
        h("legend", { text: t("rules.actions") }),
        h("div", { class: "row rule-actions" }, field(t("rules.team"), team), field(t("rules.assignee"), assignee), field(t("rules.set_priority"), priority)),
        field(t("rules.add_tags"), tags, t("rules.tags_hint")),
        h("label", { class: "check" }, stop, t("rules.stop_label")),
      ),
      error,
      h(
        "div",
        { class: "row" },
        h("button", { type: "submit", class: "button primary", text: rule ? t("rules.save") : t("rules.add") }),
        rule
          ? h("button", {
              type: "button",
              class: "button",
              text: t("action.cancel"),
              on: {
                click: () => {
                  drawForm(null);
                  focusEdit(rule.id);
                },
              },
            })
          : null,
      ),
    );
    onSubmit(form, error, async () => {
      const body = {
        name: name.value.trim(),
        enabled: enabled.checked,
        conditions: rows.map((row) => row.value()),
        team_id: team.value || null,
        assignee_id: assignee.value || null,
        priority: priority.value || null,
        tags: splitList(tags.value),
        stop: stop.checked,
      };
      const saved = rule ? await api("PUT", `/ticket-rules/${rule.id}`, body) : await api("POST", "/ticket-rules", body);
      listError.hidden = true;
      await reload();
      drawForm(null);
      if (rule) focusEdit(rule.id);
      announce(t(rule ? "rules.saved" : "rules.added", { name: saved.name }), "ok");
    });
    const title = rule ? t("rules.edit_title", { name: rule.name }) : t("rules.new");
    fill(formSlot, card(title, form));
    if (rule) {
      formSlot.scrollIntoView({ block: "start" });
      name.focus();
    }
  }

  drawList();
  drawForm(null);
  fill(root, card(t("rules.title"), listError, list), formSlot, datalists);
  // The list's heading takes the focus after a deletion, so the keyboard is not left nowhere.
  root.querySelector("h2").tabIndex = -1;
}
