/**
 * A web-chat guest's session: started through `POST /flex-api/v2/WebChats` (which answers with the guest's
 * access token), then messages over the Conversations REST API with that token, and everything live over
 * the realtime WebSocket (messages, typing, read horizons, the conversation closing). Kept in localStorage,
 * so a reload resumes from the last message index this browser showed.
 */
import { postForm } from "../shared/api";
import { mediaContentUrl } from "../shared/chatMessage";
import { RealtimeSocket, type RealtimeMessage, type SocketStatus } from "../shared/realtimeSocket";
import { getWithToken, postWithToken, readTokenClaims } from "../shared/tokenRest";
import {
  type ChatMessage,
  type ChatState,
  EMPTY_STATE,
  lastIndex,
  withMessage,
  withoutMessage,
  withReadHorizon,
  withTyping,
} from "./chatState";
import type { WidgetConfig } from "./config";
import { forgetSession, loadSession, saveSession, type StoredSession } from "./storedSession";

export type Phase = "form" | "starting" | "chat" | "ended";

export interface GuestView {
  phase: Phase;
  chat: ChatState;
  status: SocketStatus;
  identity: string | null;
  error: string;
}

interface WebChatAnswer {
  conversation_sid: string;
  identity: string;
  token: string;
}

interface MessagesPage {
  messages: ChatMessage[];
}

interface ParticipantsPage {
  participants: { identity: string | null; last_read_message_index: number | null }[];
}

interface ConversationResource {
  sid: string;
  state: string;
}

const TYPING_SEND_EVERY_MS = 3_000;
const REFRESH_BEFORE_EXPIRY_S = 120;
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;
export const ACCEPTED_ATTACHMENTS = "image/*,application/pdf";

export class GuestChat {
  private readonly config: WidgetConfig;
  private session: StoredSession | null;
  private socket: RealtimeSocket | null = null;
  private view: GuestView;
  private listeners = new Set<(view: GuestView) => void>();
  private lastTypingSent = 0;
  private readSent = -1;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private connections = 0;

  constructor(config: WidgetConfig) {
    this.config = config;
    this.session = loadSession(config.addressSid);
    this.view = {
      phase: this.session ? "chat" : "form",
      chat: EMPTY_STATE,
      status: "connecting",
      identity: this.session?.identity ?? null,
      error: "",
    };
  }

  get snapshot(): GuestView {
    return this.view;
  }

  subscribe(listener: (view: GuestView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Picks up a stored chat (after a reload); does nothing for a new visitor. */
  async resume(): Promise<void> {
    if (!this.session) {
      return;
    }
    if ((readTokenClaims(this.session.token)?.expiresAt ?? 0) * 1000 <= Date.now()) {
      this.forget();
      return;
    }
    await this.connect();
  }

  async start(fields: Record<string, string>): Promise<void> {
    this.update({ phase: "starting", error: "" });
    const question = fields.question;
    const name = fields.friendlyName || fields.name || "";
    const answer = await postForm<WebChatAnswer>(`${this.config.baseUrl}/flex-api/v2/WebChats`, {
      AddressSid: this.config.addressSid,
      CustomerFriendlyName: name,
      ChatFriendlyName: name ? `Chat with ${name}` : undefined,
      PreEngagementData: JSON.stringify(fields),
    });
    if (!answer.ok) {
      this.update({ phase: "form", error: answer.message });
      return;
    }
    this.session = {
      conversationSid: answer.data.conversation_sid,
      identity: answer.data.identity,
      token: answer.data.token,
      lastIndex: null,
    };
    saveSession(this.config.addressSid, this.session);
    this.update({ phase: "chat", identity: this.session.identity, chat: EMPTY_STATE });
    await this.connect();
    if (question) {
      await this.send(question);
    }
  }

  async send(body: string, mediaSid?: string): Promise<boolean> {
    const session = this.session;
    if (!session || (!body.trim() && !mediaSid)) {
      return false;
    }
    const posted = await postWithToken<ChatMessage>(
      `/conversations/v1/Conversations/${session.conversationSid}/Messages`,
      this.rest(),
      { Author: session.identity, Body: body.trim() || undefined, MediaSid: mediaSid },
    );
    if (!posted.ok) {
      this.update({ error: posted.message });
      return false;
    }
    this.update({ error: "", chat: withMessage(this.view.chat, posted.data) });
    return true;
  }

  /** Uploads an image or PDF to the media store, then sends it as a message. */
  async attach(file: File): Promise<boolean> {
    const session = this.session;
    const service = session ? readTokenClaims(session.token)?.chatServiceSid : null;
    if (!session || !service) {
      this.update({ error: "Files cannot be sent in this chat." });
      return false;
    }
    if (!(file.type.startsWith("image/") || file.type === "application/pdf")) {
      this.update({ error: "Only images and PDF files can be sent." });
      return false;
    }
    if (file.size > MAX_ATTACHMENT_BYTES) {
      this.update({ error: "That file is too large to send (20 MB at most)." });
      return false;
    }
    const uploaded = await postWithToken<{ sid: string }>(`/mcs/v1/Services/${service}/Media`, this.rest(), file, {
      Filename: file.name,
    });
    if (!uploaded.ok) {
      this.update({ error: uploaded.message });
      return false;
    }
    return this.send("", uploaded.data.sid);
  }

  /** A temporary link to a message's file, for showing it. */
  async mediaUrl(mediaSid: string): Promise<string | null> {
    const service = this.session ? readTokenClaims(this.session.token)?.chatServiceSid : null;
    if (!service) {
      return null;
    }
    return mediaContentUrl(service, mediaSid, this.rest());
  }

  typing(): void {
    const now = Date.now();
    if (this.session && now - this.lastTypingSent >= TYPING_SEND_EVERY_MS) {
      if (this.socket?.send({ type: "typing", conversation_sid: this.session.conversationSid })) {
        this.lastTypingSent = now;
      }
    }
  }

  /** Tells the others how far the guest has read (the newest message shown while the chat is open). */
  markRead(): void {
    const index = lastIndex(this.view.chat);
    if (!this.session || index === null || index <= this.readSent || this.view.phase !== "chat") {
      return;
    }
    if (this.socket?.send({ type: "read", conversation_sid: this.session.conversationSid, index })) {
      this.readSent = index;
    }
  }

  /** Leaves an ended chat behind: the next visit starts a new one. */
  startOver(): void {
    this.forget();
  }

  close(): void {
    this.socket?.stop();
    clearTimeout(this.refreshTimer);
  }

  // --- internals ---

  private rest() {
    return { baseUrl: this.config.baseUrl, token: this.session?.token ?? "" };
  }

  private forget(): void {
    this.close();
    this.socket = null;
    this.session = null;
    this.readSent = -1;
    forgetSession(this.config.addressSid);
    this.update({ phase: "form", chat: EMPTY_STATE, identity: null, error: "", status: "connecting" });
  }

  private update(change: Partial<GuestView>): void {
    this.view = { ...this.view, ...change };
    const seen = lastIndex(this.view.chat);
    if (this.session && seen !== null && seen !== this.session.lastIndex) {
      this.session = { ...this.session, lastIndex: seen };
      saveSession(this.config.addressSid, this.session);
    }
    for (const listener of this.listeners) {
      listener(this.view);
    }
  }

  /** History over REST, then the socket, resuming after the newest message the history had. */
  private async connect(): Promise<void> {
    const session = this.session;
    if (!session) {
      return;
    }
    this.scheduleRefresh();
    const path = `/conversations/v1/Conversations/${session.conversationSid}`;
    const [conversation, history, participants] = await Promise.all([
      getWithToken<ConversationResource>(path, this.rest()),
      getWithToken<MessagesPage>(`${path}/Messages`, this.rest(), { Order: "desc", PageSize: "50" }),
      getWithToken<ParticipantsPage>(`${path}/Participants`, this.rest()),
    ]);
    if (!conversation.ok && (conversation.status === 401 || conversation.status === 403 || conversation.status === 404)) {
      this.forget();
      return;
    }
    let chat = this.view.chat;
    if (history.ok) {
      for (const message of history.data.messages) {
        chat = withMessage(chat, message);
      }
    }
    if (participants.ok) {
      for (const participant of participants.data.participants) {
        if (participant.identity && participant.last_read_message_index !== null) {
          chat = withReadHorizon(chat, participant.identity, participant.last_read_message_index);
        }
      }
    }
    const ended = conversation.ok && conversation.data.state === "closed";
    this.update({ chat, phase: ended ? "ended" : "chat" });
    if (ended) {
      return;
    }
    this.socket?.stop();
    this.connections = 0;
    this.socket = new RealtimeSocket({
      baseUrl: this.config.baseUrl || location.origin,
      token: () => this.session?.token ?? "",
      resumeFrom: () => {
        const seen = this.session?.lastIndex;
        return seen === null || seen === undefined || !this.session ? undefined : `${this.session.conversationSid}:${seen}`;
      },
      refresh: () => this.refresh(),
      onMessage: (message) => this.onSocketMessage(message),
      onStatus: (status) => this.update({ status }),
      onUnauthorized: () => this.forget(),
    });
    this.socket.start();
  }

  private onSocketMessage(message: RealtimeMessage): void {
    const session = this.session;
    if (!session || (message.conversation_sid && message.conversation_sid !== session.conversationSid)) {
      return;
    }
    const resource = (message.resource ?? {}) as Record<string, unknown>;
    switch (message.type) {
      case "connected":
        // Messages missed meanwhile are replayed (resume_from); a close or read receipts are not: look again.
        if (this.connections++ > 0) {
          void this.resync();
        }
        break;
      case "message.added":
      case "message.updated":
        this.update({ chat: withMessage(this.view.chat, resource as unknown as ChatMessage) });
        break;
      case "message.removed":
        this.update({ chat: withoutMessage(this.view.chat, String(resource.sid)) });
        break;
      case "typing":
        if (message.identity !== session.identity) {
          this.update({ chat: withTyping(this.view.chat, String(message.identity), Date.now()) });
        }
        break;
      case "read_horizon":
        this.update({
          chat: withReadHorizon(this.view.chat, String(message.identity), Number(message.last_read_message_index)),
        });
        break;
      case "conversation.updated":
        if (resource.state === "closed") {
          this.end();
        }
        break;
      case "participant.removed":
        if (resource.identity === session.identity) {
          this.end();
        }
        break;
    }
  }

  private async resync(): Promise<void> {
    const session = this.session;
    if (!session) {
      return;
    }
    const path = `/conversations/v1/Conversations/${session.conversationSid}`;
    const [conversation, participants] = await Promise.all([
      getWithToken<ConversationResource>(path, this.rest()),
      getWithToken<ParticipantsPage>(`${path}/Participants`, this.rest()),
    ]);
    let chat = this.view.chat;
    for (const participant of participants.ok ? participants.data.participants : []) {
      if (participant.identity && participant.last_read_message_index !== null) {
        chat = withReadHorizon(chat, participant.identity, participant.last_read_message_index);
      }
    }
    this.update({ chat });
    if (conversation.ok && conversation.data.state === "closed") {
      this.end();
    }
  }

  private end(): void {
    this.socket?.stop();
    this.update({ phase: "ended", status: "offline" });
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const expiresAt = this.session ? (readTokenClaims(this.session.token)?.expiresAt ?? 0) : 0;
    const wait = Math.max(5, expiresAt - Date.now() / 1000 - REFRESH_BEFORE_EXPIRY_S) * 1000;
    this.refreshTimer = setTimeout(() => void this.refresh(), wait);
  }

  private async refresh(): Promise<boolean> {
    const session = this.session;
    if (!session) {
      return false;
    }
    const fresh = await postForm<{ token: string }>(`${this.config.baseUrl}/ingress/webchat/tokens/refresh`, {
      Token: session.token,
    });
    if (!fresh.ok || this.session !== session) {
      return false;
    }
    this.session = { ...session, token: fresh.data.token };
    saveSession(this.config.addressSid, this.session);
    this.scheduleRefresh();
    return true;
  }
}
