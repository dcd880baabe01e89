// "Try it": what the answer path would reply to a customer's question, and why: the decision,
// the answer, its sources with their scores, and the thresholds the decision was taken against.

import "./shell.js";
import { $, act, api, badge, fill, h, showError, t, tOr } from "./core.js";

const form = $("#ask-form");
const asked = []; // earlier questions, sent as history when following up

function number(value) {
  return typeof value === "number" ? value.toFixed(3) : String(value);
}

function sourceItem(source) {
  const where = [
    source.heading_path.length ? source.heading_path.join(" › ") : null,
    source.page ? t("try.page", { n: source.page }) : null,
  ].filter(Boolean);
  return h(
    "li",
    { class: "source" },
    h(
      "div",
      { class: "row" },
      h("a", { href: `/console/kb/entries/${source.entry_id}`, text: source.title }),
      h("span", { class: "badge", text: tOr(`source.${source.kind}`, source.kind) }),
      h("span", { class: "score muted", text: t("try.score", { score: number(source.score) }) }),
    ),
    where.length ? h("div", { class: "small muted", text: where.join(" · ") }) : null,
    h("p", { class: "snippet", text: source.text }),
  );
}

function render(question, result) {
  const scores = result.scores || {};
  const box = $("#result");
  const suggestionButtons = result.suggestions.map((s) =>
    h("button", {
      type: "button",
      class: "button small",
      text: s.question,
      on: {
        click: () => {
          form.elements.question.value = s.question;
          ask();
        },
      },
    }),
  );
  fill(
    box,
    h("h2", { id: "result-title" }, t("try.decision"), " ", badge("decision", result.decision)),
    h("p", { class: "muted", text: t(`try.why.${result.decision}`) }),
    result.resolved_question && result.resolved_question !== question
      ? h("p", {}, h("strong", { text: `${t("try.resolved")}: ` }), result.resolved_question)
      : null,
    h("h3", { text: t("try.reply") }),
    result.answer
      ? h("div", { class: "answer-text", id: "answer-text", text: result.answer })
      : h("p", { class: "notice warn", text: t("try.no_answer") }),
    suggestionButtons.length ? h("div", { class: "row mt" }, suggestionButtons) : null,
    h("h3", { class: "mt", text: t("try.sources") }),
    result.sources.length
      ? h("ol", { class: "plain-list", id: "sources" }, result.sources.map(sourceItem))
      : h("p", { class: "muted", text: t("try.no_sources") }),
    h("h3", { class: "mt", text: t("try.scores") }),
    h(
      "dl",
      { class: "facts", id: "scores" },
      h("dt", { text: t("try.confidence") }),
      h("dd", { class: "score", text: number(result.confidence) }),
      Object.entries(scores).map(([name, value]) => [
        h("dt", { text: tOr(`score.${name}`, name) }),
        h("dd", { class: "score", text: number(value) }),
      ]),
      h("dt", { text: t("try.language") }),
      h("dd", { text: tOr(`language.${result.language}`, result.language) }),
    ),
  );
  box.hidden = false;
  box.focus();
}

async function ask() {
  const question = form.elements.question.value.trim();
  if (!question) {
    form.elements.question.focus();
    return;
  }
  const collection = form.elements.collection.value;
  const body = {
    question,
    history: $("#follow-up").checked ? asked.slice(-20) : [],
    collection_ids: collection ? [collection] : null,
  };
  const result = await act($("#ask"), () => api("POST", "/ask", body));
  if (!result) return;
  asked.push(question);
  const line = $("#history-line");
  line.hidden = false;
  line.textContent = t("try.asked_before", { questions: asked.join(" / ") });
  $("#reset").hidden = false;
  render(question, result);
}

async function start() {
  // The form is ours before anything loads: a question asked at once must not reload the page.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  form.elements.question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      ask();
    }
  });
  $("#reset").addEventListener("click", () => {
    asked.length = 0;
    $("#history-line").hidden = true;
    $("#reset").hidden = true;
    $("#follow-up").checked = false;
  });
  const collections = await api("GET", "/kb/collections");
  $("#collection").append(...collections.map((c) => h("option", { value: c.id, text: c.name })));
  // A question in the address (a link, or the form sent before this script ran) is asked.
  const params = new URLSearchParams(location.search);
  if (params.get("question")) {
    form.elements.question.value = params.get("question");
    form.elements.collection.value = params.get("collection") || "";
    await ask();
  }
}

start().catch(showError);
