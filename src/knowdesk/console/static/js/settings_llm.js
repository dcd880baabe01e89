// The workspace's language model endpoint: its own (or none), else the server's default; the
// API key is write-only, so the page only says whether one is stored.

import { act, announce, api, fill, h, t } from "./core.js";
import { card, field, formError, onSubmit } from "./settings_forms.js";

const REASONS = {
  timeout: "llm.reason.timeout",
  refused: "llm.reason.refused",
  network: "llm.reason.network",
  http_status: "llm.reason.http_status",
  malformed: "llm.reason.malformed",
  none_configured: "llm.reason.none_configured",
};

function inUseText(current) {
  if (current.in_use === "workspace") return h("p", { class: "notice ok", text: t("llm.in_use.workspace") });
  if (current.in_use === "server") {
    return h(
      "p",
      { class: "notice" },
      t("llm.in_use.server"),
      " ",
      h("code", { text: `${current.server.base_url} · ${current.server.model}` }),
    );
  }
  return h("p", { class: "notice", text: current.own ? t("llm.in_use.off") : t("llm.in_use.none") });
}

function checkResult(result) {
  if (!result.ok) {
    return h(
      "div",
      { class: "notice error stack" },
      h("strong", { text: t("llm.test_failed") }),
      h("span", { text: t(REASONS[result.reason] || "llm.reason.network", { status: result.status }) }),
      result.detail && result.reason !== "none_configured" ? h("code", { class: "small", text: result.detail }) : null,
    );
  }
  return h(
    "div",
    { class: `notice ${result.grounded ? "ok" : "warn"} stack` },
    h("strong", { text: t("llm.test_ok", { s: result.seconds }) }),
    h("span", { text: result.grounded ? t("llm.test_grounded") : t("llm.test_ungrounded") }),
    result.reply ? h("code", { class: "small", text: result.reply }) : null,
  );
}

export async function llmSection(root) {
  const current = await api("GET", "/settings/llm");
  const defaults = current.server || { model: "", timeout_seconds: 20 };
  const enabled = h("input", { type: "checkbox", checked: current.own ? current.enabled : true });
  const baseUrl = h("input", {
    type: "url",
    required: true,
    maxLength: 2000,
    value: current.base_url || "",
    placeholder: "http://localhost:11434/v1",
    autocomplete: "off",
    spellcheck: false,
  });
  const model = h("input", { type: "text", required: true, maxLength: 200, value: current.model || defaults.model, autocomplete: "off", spellcheck: false });
  const timeout = h("input", { type: "number", required: true, min: 1, max: 120, step: 0.5, value: current.timeout_seconds || defaults.timeout_seconds });
  const key = h("input", {
    type: "password",
    maxLength: 1000,
    autocomplete: "new-password",
    placeholder: current.has_api_key ? t("llm.key_keep") : "",
  });
  const removeKey = current.has_api_key ? h("input", { type: "checkbox" }) : null;
  const error = formError();
  const form = h(
    "form",
    { id: "llm-form", class: "stack" },
    h("label", { class: "check" }, enabled, t("llm.enabled")),
    field(t("llm.base_url"), baseUrl, t("llm.base_url_hint")),
    h("div", { class: "row" }, field(t("llm.model"), model), field(t("llm.timeout"), timeout, t("llm.timeout_hint"))),
    field(t("llm.key"), key, current.has_api_key ? t("llm.key_set_hint") : t("llm.key_unset_hint")),
    h("p", { id: "llm-key-state" }, t("llm.key"), ": ", h("strong", { text: current.has_api_key ? t("llm.key_set") : t("llm.key_unset") })),
    removeKey ? h("label", { class: "check" }, removeKey, t("llm.key_remove")) : null,
    error,
    h("div", {}, h("button", { type: "submit", class: "button primary", text: t("action.save") })),
  );
  onSubmit(form, error, async () => {
    const body = {
      enabled: enabled.checked,
      base_url: baseUrl.value.trim(),
      model: model.value.trim(),
      timeout_seconds: Number(timeout.value),
    };
    if (key.value) body.api_key = key.value;
    else if (removeKey && removeKey.checked) body.api_key = "";
    await api("PUT", "/settings/llm", body);
    announce(t("llm.saved"), "ok");
    await llmSection(root);
  });

  const result = h("div", { id: "llm-test-result", attrs: { role: "status", "aria-live": "polite" } });
  const testButton = h("button", {
    type: "button",
    id: "llm-test",
    class: "button",
    text: t("llm.test"),
    on: {
      click: (event) =>
        act(event.currentTarget, async () => {
          fill(result, h("p", { class: "muted", text: t("llm.testing") }));
          fill(result, checkResult(await api("POST", "/settings/llm/test")));
        }),
    },
  });
  const reset = current.own
    ? h("button", {
        type: "button",
        class: "button",
        text: t("llm.use_server"),
        on: {
          click: (event) =>
            act(event.currentTarget, async () => {
              await api("DELETE", "/settings/llm");
              announce(t("llm.reset_done"), "ok");
              await llmSection(root);
            }),
        },
      })
    : null;
  fill(
    root,
    h("div", { id: "llm-state" }, inUseText(current)),
    card(t("llm.endpoint"), form),
    card(t("llm.test_title"), h("p", { class: "muted", text: t("llm.test_explain") }), h("div", { class: "row" }, testButton, reset), result),
  );
}
