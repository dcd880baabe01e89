// The console's side of the chat WebSocket (docs/protocol.md): one connection per page that
// signs in with the person's session, follows the conversations the page shows, and hands every
// frame to whoever listens. After any disconnect it connects again, signs in again and resumes
// each followed conversation after the last seq delivered, so nothing is missed or repeated.

import { api, page } from "./core.js";

const MAX_RETRY_MS = 15000;

class LiveSocket {
  constructor() {
    this.listeners = new Map();
    this.followed = new Map(); // conversation id -> last seq delivered
    this.replies = new Map(); // frame id -> resolve
    this.ready = false;
    this.retryMs = 500;
    this.counter = 0;
    this.socket = null;
    this.connect();
  }

  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.listeners.get(type).delete(listener);
  }

  emit(type, frame) {
    for (const listener of this.listeners.get(type) || []) listener(frame);
  }

  async connect() {
    let token;
    try {
      // The session cookie is HttpOnly: /me hands this page a fresh token for the socket.
      token = (await api("GET", "/me")).token;
    } catch {
      this.retryLater();
      return;
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/chat/socket`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      socket.send(
        JSON.stringify({ type: "auth", id: "auth", token, workspace: page.workspace.id }),
      );
    });
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.ready = false;
      this.emit("status", { online: false });
      this.retryLater();
    });
  }

  retryLater() {
    setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  receive(frame) {
    if (frame.type === "welcome") {
      this.ready = true;
      this.retryMs = 500;
      for (const [conversationId, afterSeq] of this.followed) {
        this.send({ type: "resume", conversation_id: conversationId, after_seq: afterSeq });
      }
      this.emit("status", { online: true });
    } else if (frame.type === "error" && frame.code === "session_expired") {
      this.socket.close(); // connect again with a fresh token
      return;
    } else if (frame.type === "message") {
      const last = this.followed.get(frame.conversation_id);
      if (last === undefined) return;
      if (frame.seq <= last) return; // already delivered before a reconnect
      this.followed.set(frame.conversation_id, frame.seq);
    }
    if (frame.id && this.replies.has(frame.id) && frame.type !== "message") {
      this.replies.get(frame.id)(frame);
      this.replies.delete(frame.id);
    }
    this.emit(frame.type, frame);
  }

  send(frame) {
    if (this.ready && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Send a frame and wait for the server's reply to it (or null when not connected). */
  call(frame) {
    const id = `c${++this.counter}`;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      if (!this.send({ ...frame, id })) {
        this.replies.delete(id);
        resolve(null);
      }
    });
  }

  /** Receive the conversation's messages after `afterSeq`, then live ones. */
  follow(conversationId, afterSeq) {
    this.followed.set(conversationId, afterSeq);
    this.send({ type: "resume", conversation_id: conversationId, after_seq: afterSeq });
  }

  leave(conversationId) {
    if (this.followed.delete(conversationId)) {
      this.send({ type: "leave", conversation_id: conversationId });
    }
  }
}

let instance = null;

/** The page's one connection, opened on first use. */
export function live() {
  instance ??= new LiveSocket();
  return instance;
}
