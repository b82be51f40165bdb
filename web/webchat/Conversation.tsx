/** The chat itself: messages (with files and read state), who is typing, the composer, and the chat's end. */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import { type ChatMessage, isReadByOthers, type MediaItem, typingNow } from "./chatState";
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

function Attachment({ chat, item }: { chat: GuestChat; item: MediaItem }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    void chat.mediaUrl(item.sid).then((found) => current && setUrl(found));
    return () => {
      current = false;
    };
  }, [chat, item.sid]);
  const name = item.filename || (item.content_type.startsWith("image/") ? "Image" : "File");
  if (url && item.content_type.startsWith("image/")) {
    return <img class="attachment-image" src={url} alt={name} />;
  }
  return url ? (
    <a class="attachment" href={url} target="_blank" rel="noopener noreferrer">
      {name}
    </a>
  ) : (
    <span class="attachment">{name}</span>
  );
}

function Message({ chat, message, view }: { chat: GuestChat; message: ChatMessage; view: GuestView }) {
  const mine = message.author === view.identity;
  const read = mine && view.identity !== null && isReadByOthers(view.chat, message.index, view.identity);
  return (
    <li class={`message ${mine ? "mine" : "theirs"}`} data-index={message.index}>
      <span class="author">{authorLabel(message, view.identity)}</span>
      {message.body && <p class="body">{message.body}</p>}
      {(message.media ?? []).map((item) => (
        <Attachment key={item.sid} chat={chat} item={item} />
      ))}
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

  function onComposerKey(event: KeyboardEvent) {
    if (event.key === "Enter" && !event.shiftKey) {
      void submit(event);
    }
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
          <Message key={message.sid} chat={chat} message={message} view={view} />
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
          <label for="parley-composer" class="visually-hidden">
            Message
          </label>
          <textarea
            id="parley-composer"
            ref={composer}
            rows={2}
            value={draft}
            placeholder="Write a message"
            onInput={(event) => {
              setDraft(event.currentTarget.value);
              chat.typing();
            }}
            onKeyDown={onComposerKey}
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
