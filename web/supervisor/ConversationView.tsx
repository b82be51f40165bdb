/**
 * One conversation as a supervisor sees it: read-only (the history, refreshed while open) until the
 * supervisor joins it as a participant; then live over the socket, with a composer to write in it.
 */
import { useEffect, useRef, useState } from "preact/hooks";

import { type ChatMessage, mediaContentUrl } from "../shared/chatMessage";
import { MessageParts } from "../shared/MessageParts";
import type { RealtimeMessage } from "../shared/realtimeSocket";
import { getWithToken, postWithToken, type TokenRequest } from "../shared/tokenRest";

interface Participant {
  identity: string | null;
  messaging_binding: { address?: string } | null;
}

const REFRESH_EVERY_MS = 2_000;

export interface ConversationViewProps {
  conversationSid: string;
  title: string;
  /** The customer's name, shown for a web-chat guest's made-up identity. */
  customer: string | null;
  identity: string;
  rest: TokenRequest;
  /** Socket messages about this conversation (live once joined). */
  live: RealtimeMessage | null;
  onClose: () => void;
}

function authorName(author: string | null, customer: string | null): string {
  if (!author) {
    return "unknown";
  }
  return author.startsWith("guest-") && customer ? customer : author;
}

export function ConversationView({ conversationSid, title, customer, identity, rest, live, onClose }: ConversationViewProps) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [participants, setParticipants] = useState<Participant[]>([]);
  const [error, setError] = useState("");
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  // Attachments' signed links (MCS), by media SID, fetched once each as messages show them.
  const [mediaUrls, setMediaUrls] = useState<Record<string, string>>({});
  const asked = useRef(new Set<string>());
  const heading = useRef<HTMLHeadingElement>(null);
  const path = `/conversations/v1/Conversations/${conversationSid}`;
  const joined = participants.some((participant) => participant.identity === identity);

  async function load() {
    const [history, members] = await Promise.all([
      getWithToken<{ messages: ChatMessage[] }>(`${path}/Messages`, rest, { PageSize: "100" }),
      getWithToken<{ participants: Participant[] }>(`${path}/Participants`, rest),
    ]);
    if (!history.ok || !members.ok) {
      setError(history.ok ? (members as { message: string }).message : (history as { message: string }).message);
      return;
    }
    setError("");
    setMessages(history.data.messages);
    setParticipants(members.data.participants);
    void linkAttachments(history.data.messages);
  }

  async function linkAttachments(shown: ChatMessage[]) {
    const wanted = shown.flatMap((message) => message.media ?? []).filter((item) => !asked.current.has(item.sid));
    if (wanted.length === 0) {
      return;
    }
    const conversation = await getWithToken<{ chat_service_sid: string }>(path, rest);
    if (!conversation.ok) {
      return;
    }
    for (const item of wanted) {
      asked.current.add(item.sid);
      const url = await mediaContentUrl(conversation.data.chat_service_sid, item.sid, rest);
      if (url) {
        setMediaUrls((known) => ({ ...known, [item.sid]: url }));
      }
    }
  }

  useEffect(() => {
    heading.current?.focus();
  }, [conversationSid]);

  // Until joined, the socket carries nothing of this conversation: look again now and then.
  useEffect(() => {
    void load();
    if (joined) {
      return;
    }
    const timer = setInterval(() => void load(), REFRESH_EVERY_MS);
    return () => clearInterval(timer);
  }, [conversationSid, joined]);

  useEffect(() => {
    if (live?.type === "connected") {
      void load(); // (re)connected: whatever happened meanwhile is in the history
      return;
    }
    if (live?.conversation_sid !== conversationSid) {
      return;
    }
    if (live.type.startsWith("message.") || live.type.startsWith("participant.")) {
      void load();
    }
  }, [live]);

  async function join() {
    setBusy(true);
    const answer = await postWithToken(`${path}/Participants`, rest, { Identity: identity });
    setBusy(false);
    if (!answer.ok) {
      setError(answer.message);
      return;
    }
    await load();
  }

  async function send(event: Event) {
    event.preventDefault();
    if (!draft.trim()) {
      return;
    }
    setBusy(true);
    const answer = await postWithToken(`${path}/Messages`, rest, { Body: draft.trim() });
    setBusy(false);
    if (!answer.ok) {
      setError(answer.message);
      return;
    }
    setDraft("");
    await load();
  }

  return (
    <section class="card conversation" aria-labelledby="conversation-title">
      <div class="conversation-head">
        <h2 id="conversation-title" tabIndex={-1} ref={heading}>
          {title}
        </h2>
        <button type="button" class="secondary" onClick={onClose}>
          Hide conversation
        </button>
      </div>
      <p class="muted">
        {joined ? "You are a participant of this conversation." : "Read-only: join to write in it."}{" "}
        Participants:{" "}
        {participants.map((p) => (p.identity ? authorName(p.identity, customer) : p.messaging_binding?.address || "?")).join(", ")}
      </p>
      <div class="alert" role="alert">
        {error}
      </div>
      <ol class="transcript" role="log" aria-label="Conversation messages" tabIndex={0}>
        {messages.map((message) => (
          <li key={message.sid}>
            <span class="author">{authorName(message.author, customer)}</span>{" "}
            <MessageParts message={message} urlOf={(item) => mediaUrls[item.sid] ?? null} />
          </li>
        ))}
      </ol>
      {joined ? (
        <form class="composer" onSubmit={send}>
          <label for="supervisor-message">Message as {identity}</label>
          <textarea id="supervisor-message" rows={2} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
          <button type="submit" disabled={busy || !draft.trim()}>
            Send
          </button>
        </form>
      ) : (
        <button type="button" onClick={join} disabled={busy}>
          Join conversation
        </button>
      )}
    </section>
  );
}
