// knowdesk analytics dashboard: the two actions that change something. Everything else on the
// page is plain HTML and SVG from the server. Requests carry the console's session cookie, so
// they say they come from the console (a header another site cannot add without CORS). The
// words it shows come from the page, in the viewer's language (#kd-strings).
"use strict";

function t(key, values = {}) {
  const node = document.getElementById("kd-strings");
  const text = (node ? JSON.parse(node.textContent)[key] : undefined) || key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Knowdesk-Console": "1" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((data.error && data.error.message) || response.statusText);
  }
  return data;
}

function draftTopic(button) {
  const collection = document.getElementById("kd-collection");
  button.disabled = true;
  button.textContent = t("analytics.gaps.drafting");
  post("/api/v1/analytics/gaps/draft", {
    message_ids: button.dataset.ids.split(","),
    collection_id: collection.value,
  }).then(
    (draft) => {
      const done = document.createElement("span");
      done.className = "kd-done";
      done.textContent = t("analytics.gaps.in_review");
      done.title = draft.question;
      button.replaceWith(done);
    },
    (error) => {
      button.disabled = false;
      button.textContent = t("analytics.gaps.draft");
      button.title = error.message;
      alert(error.message);
    },
  );
}

function proposeFeedback(button) {
  const status = document.querySelector("#feedback .kd-status");
  button.disabled = true;
  post("/api/v1/analytics/feedback/propose", {}).then(
    (result) => {
      const questions = result.proposed.reduce((n, p) => n + p.questions.length, 0);
      status.textContent = t("analytics.feedback.proposed", {
        questions,
        entries: result.proposed.length,
      });
    },
    (error) => {
      button.disabled = false;
      status.textContent = error.message;
    },
  );
}

document.addEventListener("click", (event) => {
  const target = event.target;
  if (target.matches("button.kd-draft")) draftTopic(target);
  if (target.id === "kd-propose") proposeFeedback(target);
});
