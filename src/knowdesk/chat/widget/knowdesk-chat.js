/*
 * knowdesk chat window. Put on any page:
 *
 *   <script src="https://desk.example.com/widget/knowdesk-chat.js"
 *           data-widget-token="wt_…" async></script>
 *
 * A logged-in customer: before that tag, set
 *   window.KnowdeskChatConfig = {identity: {external_id, signature, name, email}};
 * with the signature computed by your server (docs/protocol.md).
 *
 * It speaks the protocol of docs/protocol.md: it comes back as the same contact (contact token
 * in localStorage), resumes after the last seq it has shown after any disconnect, and resends
 * unacknowledged messages with their client id, so nothing is lost or shown twice.
 * Every text is shown with textContent: messages are never interpreted as HTML.
 */
(function () {
  "use strict";
  if (window.KnowdeskChat) return;

  var script = document.currentScript;
  var config = Object.assign({}, window.KnowdeskChatConfig || {});
  var token = config.widgetToken || (script && script.dataset.widgetToken);
  var server = config.server || (script && script.dataset.server) ||
    (script ? new URL(script.src, location.href).origin : location.origin);
  if (!token) {
    console.error("knowdesk chat: no widget token (data-widget-token)");
    return;
  }

  var zh = /^zh/i.test(config.language || navigator.language || "");
  var T = zh ? {
    title: "在线客服", placeholder: "输入消息…", send: "发送", open: "咨询客服",
    bot: "智能助手", sending: "发送中…", typing: "正在输入…", sources: "参考：",
    helpful: "有帮助", notHelpful: "没帮助", thanks: "感谢反馈", offline: "连接中断，正在重连…",
    queued: "正在为您转接人工客服", assigned: "人工客服", closed: "非工作时间", you: "我",
    close: "关闭", message: "消息"
  } : {
    title: "Chat with us", placeholder: "Type a message…", send: "Send", open: "Chat",
    bot: "Assistant", sending: "Sending…", typing: "typing…", sources: "Sources: ",
    helpful: "Helpful", notHelpful: "Not helpful", thanks: "Thanks for the feedback",
    offline: "Connection lost, reconnecting…", queued: "Waiting for a person",
    assigned: "With a person", closed: "Closed now", you: "You",
    close: "Close", message: "Message"
  };

  var storageKey = "knowdesk-chat:" + token;
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(storageKey) || "{}"); } catch (e) { saved = {}; }

  var state = {
    ws: null,
    ready: false,
    conversationId: null,
    lastSeq: 0,
    pending: {},          // client_msg_id -> {text, element}
    shown: {},            // seq -> element
    retryDelay: 500,
    lastTyping: 0,
    lastRead: 0
  };

  function save() {
    try { localStorage.setItem(storageKey, JSON.stringify(saved)); } catch (e) { /* private mode */ }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // -- the window ---------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  var style = el("style");
  style.textContent = [
    ".kd-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;",
    "padding:12px 18px;background:#2563eb;color:#fff;font:15px system-ui,sans-serif;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.2)}",
    ".kd-panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:360px;max-width:calc(100vw - 40px);",
    "height:520px;max-height:calc(100vh - 100px);display:none;flex-direction:column;background:#fff;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);font:14px system-ui,sans-serif;color:#111;overflow:hidden}",
    ".kd-panel.kd-open{display:flex}",
    ".kd-head{padding:12px 14px;background:#2563eb;color:#fff;display:flex;justify-content:space-between;align-items:center}",
    ".kd-status{font-size:12px;opacity:.85}",
    ".kd-log{flex:1;overflow-y:auto;padding:12px;background:#f6f7f9}",
    ".kd-msg{margin:6px 0;max-width:85%;clear:both}",
    ".kd-msg .kd-bubble{padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}",
    ".kd-contact{float:right;text-align:right}.kd-contact .kd-bubble{background:#2563eb;color:#fff}",
    ".kd-bot,.kd-agent{float:left}.kd-bot .kd-bubble,.kd-agent .kd-bubble{background:#fff;border:1px solid #e3e5e8}",
    ".kd-system{clear:both;text-align:center;color:#666;font-size:12px;margin:10px 0}",
    ".kd-name{font-size:11px;color:#666;margin:0 2px 2px}",
    ".kd-pending .kd-bubble{opacity:.6}",
    ".kd-sources{font-size:11px;color:#666;margin-top:4px}",
    ".kd-buttons button,.kd-rate button{margin:4px 4px 0 0;border:1px solid #2563eb;background:#fff;color:#2563eb;",
    "border-radius:14px;padding:3px 10px;font-size:12px;cursor:pointer}",
    ".kd-typing{height:18px;padding:0 12px;font-size:12px;color:#666;background:#f6f7f9}",
    ".kd-form{display:flex;border-top:1px solid #e3e5e8}",
    ".kd-input{flex:1;border:0;padding:12px;font:14px system-ui,sans-serif;resize:none;outline:none}",
    ".kd-form:focus-within{box-shadow:inset 0 0 0 2px #2563eb}",
    ".kd-send{border:0;background:#fff;color:#2563eb;padding:0 16px;font-weight:600;cursor:pointer}"
  ].join("");
  document.head.appendChild(style);

  var launcher = el("button", "kd-launcher", T.open);
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "kd-chat-panel");
  var panel = el("div", "kd-panel");
  panel.id = "kd-chat-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", T.title);
  var head = el("div", "kd-head");
  var titleBox = el("div");
  titleBox.appendChild(el("div", null, T.title));
  var status = el("div", "kd-status", "");
  status.setAttribute("role", "status");  // "connection lost", "with a person" are announced
  titleBox.appendChild(status);
  var close = el("button", "kd-send", "×");
  close.type = "button";
  close.style.color = "#fff";
  close.style.background = "transparent";
  close.setAttribute("aria-label", T.close);
  head.appendChild(titleBox);
  head.appendChild(close);
  var log = el("div", "kd-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  // Messages not yet stored stay below every stored one, which are shown in seq order.
  var unsent = el("div");
  log.appendChild(unsent);
  var typing = el("div", "kd-typing", "");
  var form = el("form", "kd-form");
  var input = el("textarea", "kd-input");
  input.rows = 1;
  input.maxLength = 4000;
  input.placeholder = T.placeholder;
  input.setAttribute("aria-label", T.message);
  var sendButton = el("button", "kd-send", T.send);
  sendButton.type = "submit";
  form.appendChild(input);
  form.appendChild(sendButton);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);

  function mount() {
    document.body.appendChild(launcher);
    document.body.appendChild(panel);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  function isOpen() { return panel.classList.contains("kd-open"); }
  function setOpen(open) {
    panel.classList.toggle("kd-open", open);
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { input.focus(); markRead(); }
  }
  launcher.addEventListener("click", function () { setOpen(!isOpen()); });
  // Closing by button or Escape gives the focus back to the launcher, where the customer was.
  function closeToLauncher() { setOpen(false); launcher.focus(); }
  close.addEventListener("click", closeToLauncher);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); closeToLauncher(); }
  });

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function stateText(conversation) {
    if (!conversation) return "";
    return {bot: T.bot, queued: T.queued, assigned: T.assigned, resolved: ""}[conversation.state] || "";
  }

  function renderMessage(message) {
    var kind = message.sender_kind;
    if (kind === "system") return el("div", "kd-system", message.text);
    var box = el("div", "kd-msg kd-" + kind);
    if (kind === "agent") box.appendChild(el("div", "kd-name", message.sender_name || T.assigned));
    if (kind === "bot") box.appendChild(el("div", "kd-name", T.bot));
    box.appendChild(el("div", "kd-bubble", message.text));
    (message.attachments || []).forEach(function (file) {
      box.appendChild(el("div", "kd-sources", "📎 " + file.filename));
    });
    var meta = message.meta || {};
    if (kind === "bot" && meta.sources && meta.sources.length) {
      var titles = meta.sources.map(function (s) { return s.title; });
      box.appendChild(el("div", "kd-sources", T.sources + titles.join(" · ")));
    }
    if (message.buttons && message.buttons.length) {
      var buttons = el("div", "kd-buttons");
      message.buttons.forEach(function (b) {
        var button = el("button", null, b.label);
        button.type = "button";
        button.addEventListener("click", function () { sendText(b.value || b.label); });
        buttons.appendChild(button);
      });
      box.appendChild(buttons);
    }
    if (kind === "bot" && meta.decision) {
      var rate = el("div", "kd-rate");
      [["helpful", "👍 " + T.helpful], ["not_helpful", "👎 " + T.notHelpful]].forEach(function (r) {
        var button = el("button", null, r[1]);
        button.type = "button";
        button.addEventListener("click", function () {
          frame({type: "rate", conversation_id: message.conversation_id, seq: message.seq, rating: r[0]});
          rate.textContent = T.thanks;
        });
        rate.appendChild(button);
      });
      box.appendChild(rate);
    }
    return box;
  }

  function show(message) {
    if (message.conversation_id !== state.conversationId) return;
    if (message.seq <= state.lastSeq || state.shown[message.seq]) return;  // shown once
    var pending = message.client_msg_id && state.pending[message.client_msg_id];
    if (pending) {
      pending.element.remove();
      delete state.pending[message.client_msg_id];
    }
    var node = renderMessage(message);
    log.insertBefore(node, unsent);
    state.shown[message.seq] = node;
    state.lastSeq = message.seq;
    typing.textContent = "";
    scrollDown();
    markRead();
  }

  // -- the connection -----------------------------------------------------------------------

  function frame(data) {
    if (state.ws && state.ws.readyState === 1) state.ws.send(JSON.stringify(data));
  }

  function connect() {
    var url = server.replace(/^http/, "ws") + "/api/v1/chat/socket";
    var ws = new WebSocket(url);
    state.ws = ws;
    ws.onopen = function () {
      var auth = {type: "auth", id: "auth", widget_token: token};
      // With both, a visitor who chatted before signing in keeps that history (docs/protocol.md).
      if (config.identity) auth.identity = config.identity;
      if (saved.contactToken) auth.contact_token = saved.contactToken;
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      onFrame(data);
    };
    ws.onclose = function () {
      if (state.ws !== ws) return;
      state.ready = false;
      status.textContent = T.offline;
      setTimeout(connect, state.retryDelay);
      state.retryDelay = Math.min(state.retryDelay * 2, 15000);
    };
  }

  function follow(welcome) {
    var current = (welcome.conversations || []).filter(function (c) {
      return c.id === saved.conversationId && c.state !== "resolved";
    })[0];
    if (current) {
      state.conversationId = current.id;
      status.textContent = stateText(current);
      frame({type: "resume", id: "follow", conversation_id: current.id, after_seq: state.lastSeq});
    } else {
      frame({type: "open", id: "follow", after_seq: 0});
    }
  }

  function onFrame(data) {
    switch (data.type) {
      case "welcome":
        state.retryDelay = 500;
        if (data.contact_token) { saved.contactToken = data.contact_token; save(); }
        follow(data);
        break;
      case "opened":
        if (data.conversation.id !== state.conversationId) {
          state.conversationId = data.conversation.id;
          state.lastSeq = 0;
          state.shown = {};
          saved.conversationId = data.conversation.id;
          save();
        }
        status.textContent = stateText(data.conversation);
        break;
      case "resumed":
        state.ready = true;
        Object.keys(state.pending).forEach(function (id) { transmit(id); });
        break;
      case "message":
        show(data.message);
        break;
      case "ack":
        var acked = state.pending[data.client_msg_id];
        if (acked) acked.element.classList.remove("kd-pending");
        break;
      case "conversation":
        if (data.conversation.id === state.conversationId) status.textContent = stateText(data.conversation);
        break;
      case "typing":
        if (data.conversation_id === state.conversationId && data.sender.kind !== "contact") {
          typing.textContent = data.typing ? (data.sender.kind === "bot" ? T.bot : (data.sender.name || "")) + " " + T.typing : "";
        }
        break;
      case "error":
        onError(data);
        break;
    }
  }

  function onError(error) {
    if (error.id === "auth" && saved.contactToken && !config.identity) {
      delete saved.contactToken;  // expired or from another channel: start afresh
      save();
      state.ws.close();
      return;
    }
    if (error.code === "conflict" && error.id && state.pending[error.id]) {
      frame({type: "open", id: "follow", after_seq: 0});  // resolved: a new conversation
      return;
    }
    if (error.code === "rate_limited" && error.id && state.pending[error.id]) {
      setTimeout(function () { transmit(error.id); }, 2000);
    }
  }

  // -- sending ------------------------------------------------------------------------------

  function transmit(clientMsgId) {
    var item = state.pending[clientMsgId];
    if (!item || !state.ready || !state.conversationId) return;
    frame({type: "send", id: clientMsgId, conversation_id: state.conversationId,
           client_msg_id: clientMsgId, text: item.text});
  }

  function sendText(text) {
    if (!text || !text.trim()) return;
    var clientMsgId = newId();
    var element = renderMessage({sender_kind: "contact", text: text});
    element.classList.add("kd-pending");
    unsent.appendChild(element);
    scrollDown();
    state.pending[clientMsgId] = {text: text, element: element};
    transmit(clientMsgId);
    if (state.conversationId) frame({type: "typing", conversation_id: state.conversationId, typing: false});
  }

  function markRead() {
    if (!isOpen() || !state.ready || state.lastSeq <= state.lastRead) return;
    state.lastRead = state.lastSeq;
    frame({type: "read", conversation_id: state.conversationId, seq: state.lastSeq});
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    sendText(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (state.ready && state.conversationId && now - state.lastTyping > 3000) {
      state.lastTyping = now;
      frame({type: "typing", conversation_id: state.conversationId, typing: true});
    }
  });

  window.KnowdeskChat = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    send: sendText
  };
  connect();
})();
