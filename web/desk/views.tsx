/** The desk's panels. They render the controller's state and call its actions; no logic of their own. */
import { useEffect, useRef, useState } from "preact/hooks";

import { MessageBox } from "../shared/MessageBox";
import { MessageParts } from "../shared/MessageParts";
import type { Colleague, DeskController } from "./controller";
import {
  authorLabel,
  channelOf,
  type ChatMessage,
  conversationOf,
  customerOf,
  deliveryStatus,
  type HeldTask,
  type Offer,
  secondsLeft,
  typingNow,
} from "./model";

type Desk = { desk: DeskController };

/** Re-renders every `ms` while mounted (countdowns, typing indicators). */
function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function ActivitySwitch({ desk }: Desk) {
  const { activitySid } = desk.state;
  return (
    <label class="activity">
      <span>Activity</span>
      <select
        value={activitySid ?? ""}
        disabled={desk.activities.length === 0}
        onChange={(event) => void desk.setActivity(event.currentTarget.value)}
      >
        {activitySid === null && <option value="">…</option>}
        {desk.activities.map((activity) => (
          <option key={activity.sid} value={activity.sid}>
            {activity.friendly_name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function OfferList({ desk, onAccept }: Desk & { onAccept: (reservationSid: string, taskSid: string) => void }) {
  const offers = Object.values(desk.state.offers);
  const now = useTick(250);
  return (
    <section class="card" aria-labelledby="offers-title">
      <h2 id="offers-title">Offers</h2>
      {offers.length === 0 ? (
        <p class="muted">No offers right now.</p>
      ) : (
        <ul class="offers">
          {offers.map((offer) => (
            <OfferCard key={offer.reservationSid} offer={offer} now={now} desk={desk} onAccept={onAccept} />
          ))}
        </ul>
      )}
    </section>
  );
}

function OfferCard({ offer, now, desk, onAccept }: { offer: Offer; now: number } & Desk & {
  onAccept: (reservationSid: string, taskSid: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const left = secondsLeft(offer, now);
  const customer = customerOf(offer.task);
  const titleId = `offer-${offer.reservationSid}`;
  async function act(action: () => Promise<unknown>) {
    setBusy(true);
    await action();
    setBusy(false);
  }
  return (
    <li class="offer" aria-labelledby={titleId}>
      <p id={titleId} class="offer-title">
        <span class={`channel channel-${String(offer.task.attributes.channelType ?? "chat")}`}>{channelOf(offer.task)}</span>{" "}
        <strong>{customer}</strong>
      </p>
      {offer.task.queueName && <p class="muted">Queue: {offer.task.queueName}</p>}
      {left !== null && (
        <p class="countdown" aria-live="off">
          Expires in <span data-testid="countdown">{left}</span> s
        </p>
      )}
      <div class="buttons">
        <button type="button" disabled={busy} onClick={() => void act(async () => onAccept(offer.reservationSid, offer.task.sid))}>
          Accept<span class="visually-hidden"> {customer}</span>
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={() => void act(() => desk.reject(offer.reservationSid))}>
          Reject<span class="visually-hidden"> {customer}</span>
        </button>
        <button
          type="button"
          class="secondary"
          disabled={busy}
          onClick={() => void act(() => desk.reject(offer.reservationSid, { stepAway: true }))}
        >
          Reject and go Unavailable<span class="visually-hidden"> {customer}</span>
        </button>
      </div>
    </li>
  );
}

export function TaskList({ tasks, current, onSelect }: { tasks: HeldTask[]; current: string | null; onSelect: (sid: string) => void }) {
  return (
    <section class="card" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Your tasks</h2>
      {tasks.length === 0 ? (
        <p class="muted">No active tasks.</p>
      ) : (
        <ul class="tasks">
          {tasks.map((held) => (
            <li key={held.task.sid}>
              <button
                type="button"
                class={held.task.sid === current ? "task current" : "task secondary"}
                aria-current={held.task.sid === current ? "true" : undefined}
                onClick={() => onSelect(held.task.sid)}
              >
                {customerOf(held.task)} · {channelOf(held.task)}
                {held.status === "wrapping" && " · wrapping up"}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ConversationPanel({ desk, held }: Desk & { held: HeldTask | null }) {
  if (!held) {
    return (
      <section class="card conversation" aria-labelledby="conversation-title">
        <h2 id="conversation-title">Conversation</h2>
        <p class="muted">Accept an offer to start talking.</p>
      </section>
    );
  }
  const conversationSid = conversationOf(held.task);
  return (
    <section class="card conversation" aria-labelledby="conversation-title">
      <h2 id="conversation-title">
        {customerOf(held.task)} <span class="muted">· {channelOf(held.task)}</span>
      </h2>
      {conversationSid ? (
        <Chat desk={desk} conversationSid={conversationSid} held={held} key={conversationSid} />
      ) : (
        <p class="muted">This task has no conversation.</p>
      )}
      <TaskActions desk={desk} held={held} />
    </section>
  );
}

function Chat({ desk, conversationSid, held }: Desk & { conversationSid: string; held: HeldTask }) {
  const conversation = desk.state.conversations[conversationSid];
  const messages = conversation?.messages ?? [];
  const now = useTick(1000);
  const typing = typingNow(conversation, desk.identity, now).map((identity) => authorLabel(identity, desk.identity, held.task));
  const log = useRef<HTMLOListElement>(null);
  const lastIndex = messages.at(-1)?.index;

  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
    if (document.visibilityState === "visible") {
      desk.markRead(conversationSid);
    }
  }, [lastIndex, conversationSid, desk]);

  return (
    <>
      <ol class="messages" role="log" aria-label="Messages" ref={log}>
        {messages.map((message) => (
          <MessageItem key={message.sid} desk={desk} conversationSid={conversationSid} message={message} held={held} />
        ))}
      </ol>
      <p class="typing" aria-live="polite">
        {typing.length > 0 ? `${typing.join(", ")} ${typing.length > 1 ? "are" : "is"} typing…` : ""}
      </p>
      {conversation?.state === "closed" ? (
        <p class="muted" role="status">
          This conversation is closed.
        </p>
      ) : (
        <Composer desk={desk} conversationSid={conversationSid} />
      )}
    </>
  );
}

function MessageItem({ desk, conversationSid, message, held }: Desk & { conversationSid: string; message: ChatMessage; held: HeldTask }) {
  const conversation = desk.state.conversations[conversationSid];
  const mine = message.author === desk.identity;
  const service = conversation?.chatServiceSid;
  useEffect(() => {
    if (service) {
      for (const media of message.media ?? []) {
        void desk.mediaLink(service, media.sid);
      }
    }
  }, [service, message.sid, desk, message.media]);
  const time = new Date(message.date_created).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return (
    <li class={mine ? "message mine" : "message theirs"} data-index={message.index}>
      <p class="meta">
        <span class="author">{authorLabel(message.author, desk.identity, held.task)}</span> <time dateTime={message.date_created}>{time}</time>
      </p>
      <MessageParts
        message={message}
        urlOf={(item) => desk.media[item.sid] ?? null}
        describePicture={(name) => `Image from ${authorLabel(message.author, desk.identity, held.task)}: ${name}`}
      />
      {mine && conversation && <p class="status">{deliveryStatus(conversation, message, desk.identity)}</p>}
    </li>
  );
}

function Composer({ desk, conversationSid }: Desk & { conversationSid: string }) {
  const [body, setBody] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const textInput = useRef<HTMLTextAreaElement>(null);

  async function submit(event: Event) {
    event.preventDefault();
    if (!body.trim() && !file) {
      return;
    }
    setBusy(true);
    const sent = await desk.send(conversationSid, body.trim(), file);
    setBusy(false);
    if (sent) {
      setBody("");
      setFile(null);
      if (fileInput.current) {
        fileInput.current.value = "";
      }
      textInput.current?.focus();
    }
  }

  return (
    <form class="composer" onSubmit={submit}>
      <MessageBox
        id="composer-text"
        inputRef={textInput}
        placeholder="Write a reply"
        value={body}
        onDraft={(value) => {
          setBody(value);
          desk.typing(conversationSid);
        }}
        onSend={(event) => void submit(event)}
      />
      <div class="composer-tools">
        <label class="attach">
          <span>Attach a file</span>
          <input
            ref={fileInput}
            type="file"
            accept="image/*,application/pdf"
            onChange={(event) => setFile(event.currentTarget.files?.[0] ?? null)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? "Sending…" : "Send"}
        </button>
      </div>
    </form>
  );
}

/** An agent's name as the roster shows it: the availability goes with the name, for sighted and screen-reader users alike. */
function colleagueLabel(colleague: Colleague): string {
  return `${colleague.friendly_name} (${colleague.available ? "available" : colleague.activity_name})`;
}

/** The choices of a transfer or invite: the other agents by name, then the queues. */
function TargetOptions({ desk }: Desk) {
  return (
    <>
      <optgroup label="Agents">
        {desk.colleagues.map((colleague) => (
          <option key={colleague.sid} value={colleague.sid}>
            {colleagueLabel(colleague)}
          </option>
        ))}
      </optgroup>
      <optgroup label="Queues">
        {desk.queues.map((queue) => (
          <option key={queue.sid} value={queue.sid}>
            {queue.friendly_name}
          </option>
        ))}
      </optgroup>
    </>
  );
}

function TaskActions({ desk, held }: Desk & { held: HeldTask }) {
  const [transferTo, setTransferTo] = useState("");
  const [transferKind, setTransferKind] = useState<"cold" | "warm">("cold");
  const [inviteTarget, setInviteTarget] = useState("");
  const sid = held.task.sid;
  return (
    <div class="task-actions">
      <div class="buttons">
        {held.status === "accepted" && (
          <button type="button" class="secondary" onClick={() => void desk.wrapUp(sid)}>
            Wrap up
          </button>
        )}
        <button type="button" onClick={() => void desk.complete(sid)}>
          Complete
        </button>
      </div>
      {held.status === "accepted" && (
        <details onToggle={(event) => event.currentTarget.open && void desk.loadColleagues()}>
          <summary>Transfer or invite</summary>
          <form
            class="inline-form"
            onSubmit={(event) => {
              event.preventDefault();
              if (transferTo) {
                void desk.transfer(sid, transferTo, transferKind);
              }
            }}
          >
            <div class="field">
              <label for="transfer-to">Transfer to</label>
              <select id="transfer-to" required value={transferTo} onChange={(e) => setTransferTo(e.currentTarget.value)}>
                <option value="">Choose an agent or a queue</option>
                <TargetOptions desk={desk} />
              </select>
            </div>
            <div class="field">
              <label for="transfer-kind">Transfer type</label>
              <select id="transfer-kind" value={transferKind} onChange={(e) => setTransferKind(e.currentTarget.value as "cold" | "warm")}>
                <option value="cold">Cold: hand over now</option>
                <option value="warm">Warm: stay until the next agent joins</option>
              </select>
            </div>
            <button type="submit">Transfer</button>
          </form>
          <form
            class="inline-form"
            onSubmit={(event) => {
              event.preventDefault();
              void desk.invite(sid, inviteTarget);
            }}
          >
            <div class="field">
              <label for="invite-target">Invite a second agent</label>
              <select id="invite-target" value={inviteTarget} onChange={(e) => setInviteTarget(e.currentTarget.value)}>
                <option value="">Anyone, through the task's workflow</option>
                <TargetOptions desk={desk} />
              </select>
            </div>
            <button type="submit">Invite</button>
          </form>
        </details>
      )}
    </div>
  );
}

export function OutboundForm({ desk, onStarted }: Desk & { onStarted: (taskSid: string) => void }) {
  const [channel, setChannel] = useState<"sms" | "whatsapp">("sms");
  const [to, setTo] = useState("");
  const [from, setFrom] = useState("");
  const [queue, setQueue] = useState("");
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const chosenQueue = queue || desk.queues[0]?.sid || "";

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    const taskSid = await desk.startOutbound(channel, to.trim(), from.trim(), chosenQueue, body);
    setBusy(false);
    if (taskSid) {
      setTo("");
      setBody("");
      onStarted(taskSid);
    }
  }

  return (
    <section class="card" aria-labelledby="outbound-title">
      <details>
        <summary>
          <h2 id="outbound-title" class="inline-heading">
            Start a conversation
          </h2>
        </summary>
        <form onSubmit={submit}>
          <div class="field">
            <label for="outbound-channel">Channel</label>
            <select id="outbound-channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value as "sms" | "whatsapp")}>
              <option value="sms">SMS</option>
              <option value="whatsapp">WhatsApp</option>
            </select>
          </div>
          <div class="field">
            <label for="outbound-to">Customer's number</label>
            <input id="outbound-to" type="tel" required value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="outbound-from">From (the business number)</label>
            <input id="outbound-from" type="tel" required value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="outbound-queue">Queue</label>
            <select id="outbound-queue" value={chosenQueue} onChange={(e) => setQueue(e.currentTarget.value)}>
              {desk.queues.map((q) => (
                <option key={q.sid} value={q.sid}>
                  {q.friendly_name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="outbound-body">First message</label>
            <textarea id="outbound-body" rows={2} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
          </div>
          <button type="submit" disabled={busy || !chosenQueue}>
            {busy ? "Starting…" : "Start"}
          </button>
        </form>
      </details>
    </section>
  );
}
