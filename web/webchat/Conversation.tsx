/** The chat itself: messages (with files and read state), who is typing, the composer, and the chat's end. */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import { MessageBox } from "../shared/MessageBox";
import { MessageParts } from "../shared/MessageParts";
import { type ChatMessage, isReadByOthers, typingNow } from "./chatState";
import { ACCEPTED_ATTACHMENTS, type GuestChat, type GuestView } from "./guestChat";

function authorLabel(message: ChatMessage, me: string | null): string {
  if (message.author === me) {
    return "You";
  }
  if (!message.author || message.author === "system") {
    return "Automated message";
  }
  return "Agent";
}

/** The content URLs of the messages' attachments, each asked once. */
function useMediaUrls(chat: GuestChat, messages: ChatMessage[]): Record<string, string> {
  const [urls, setUrls] = useState<Record<string, string>>({});
  const asked = useRef(new Set<string>());
  useEffect(() => {
    for (const item of messages.flatMap((message) => message.media ?? [])) {
      if (!asked.current.has(item.sid)) {
        asked.current.add(item.sid);
        void chat.mediaUrl(item.sid).then((url) => url && setUrls((known) => ({ ...known, [item.sid]: url })));
      }
    }
  }, [chat, messages]);
  return urls;
}

function Message({ message, view, urls }: { message: ChatMessage; view: GuestView; urls: Record<string, string> }) {
  const mine = message.author === view.identity;
  const read = mine && view.identity !== null && isReadByOthers(view.chat, message.index, view.identity);
  return (
    <li class={`message ${mine ? "mine" : "theirs"}`} data-index={message.index}>
      <span class="author">{authorLabel(message, view.identity)}</span>
      <MessageParts message={message} urlOf={(item) => urls[item.sid] ?? null} />
      {mine && <span class="receipt">{read ? "Read" : "Sent"}</span>}
    </li>
  );
}

const STATUS_TEXT: Record<string, string> = {
  connecting: "Connecting…",
  offline: "You are offline. Reconnecting…",
};

export function Conversation({ chat, view }: { chat: GuestChat; view: GuestView }) {
  const [draft, setDraft] = useState("");
  const [sending, setSending] = useState(false);
  const [now, setNow] = useState(Date.now());
  const list = useRef<HTMLOListElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const ended = view.phase === "ended";
  const typing = typingNow(view.chat, now).filter((identity) => identity !== view.identity);
  const urls = useMediaUrls(chat, view.chat.messages);

  // Typing indicators lapse on their own: look again while one shows.
  useEffect(() => {
    if (!Object.keys(view.chat.typingUntil).length) {
      return;
    }
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [view.chat.typingUntil]);

  useLayoutEffect(() => {
    const element = list.current;
    if (element) {
      element.scrollTop = element.scrollHeight;
    }
  }, [view.chat.messages.length]);

  // Whatever shows while the chat is open and the page visible has been read.
  useEffect(() => {
    const mark = () => document.visibilityState === "visible" && chat.markRead();
    mark();
    document.addEventListener("visibilitychange", mark);
    return () => document.removeEventListener("visibilitychange", mark);
  }, [chat, view.chat.messages, view.status]);

  useEffect(() => {
    if (!ended) {
      composer.current?.focus();
    }
  }, [ended]);

  async function submit(event: Event) {
    event.preventDefault();
    if (!draft.trim() || sending) {
      return;
    }
    setSending(true);
    const sent = await chat.send(draft);
    setSending(false);
    if (sent) {
      setDraft("");
    }
    composer.current?.focus();
  }

  async function onFile(event: Event) {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (file) {
      setSending(true);
      await chat.attach(file);
      setSending(false);
    }
  }

  return (
    <div class="chat">
      {!ended && STATUS_TEXT[view.status] && (
        <p class="banner" role="status">
          {STATUS_TEXT[view.status]}
        </p>
      )}
      <ol class="messages" ref={list} role="log" aria-label="Messages" aria-live="polite" tabIndex={0}>
        {view.chat.messages.map((message) => (
          <Message key={message.sid} message={message} view={view} urls={urls} />
        ))}
      </ol>
      <p class="typing" aria-live="polite">
        {typing.length ? "Agent is typing…" : ""}
      </p>
      <div class="alert" role="alert">
        {view.error}
      </div>
      {ended ? (
        <div class="ended">
          <p role="status">This chat has ended. Thank you for contacting us.</p>
          <button type="button" class="primary" onClick={() => chat.startOver()}>
            Start a new chat
          </button>
        </div>
      ) : (
        <form class="composer" onSubmit={submit}>
          <MessageBox
            id="parley-composer"
            inputRef={composer}
            placeholder="Write a message"
            value={draft}
            onDraft={(value) => {
              setDraft(value);
              chat.typing();
            }}
            onSend={(event) => void submit(event)}
          />
          <div class="composer-actions">
            <button type="button" class="attach" onClick={() => fileInput.current?.click()} disabled={sending}>
              Attach a file
            </button>
            <input
              id="parley-attach"
              ref={fileInput}
              hidden
              type="file"
              aria-label="Attach a file"
              accept={ACCEPTED_ATTACHMENTS}
              onChange={onFile}
            />
            <button type="submit" class="primary" disabled={sending || !draft.trim()}>
              Send
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
