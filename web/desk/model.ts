/**
 * The agent desktop's state and how events change it: pure functions, no I/O (desk.test.ts covers them).
 *
 * Everything arrives twice by design: once from the REST resync on (re)connect, once from the socket's
 * live events. Each update is keyed by SID and idempotent, so the order and the duplicates do not matter.
 */
import type { ChatMessage as Message } from "../shared/chatMessage";

/** A task as the desk needs it, from the socket's reservation events or from REST. */
export interface TaskInfo {
  sid: string;
  attributes: Record<string, unknown>;
  channelUniqueName?: string;
  queueName?: string;
  workflowSid?: string;
  queueSid?: string;
}

export interface Offer {
  reservationSid: string;
  task: TaskInfo;
  /** Epoch ms when the offer times out, when known. */
  expiresAt: number | null;
}

export interface HeldTask {
  reservationSid: string;
  status: "accepted" | "wrapping";
  task: TaskInfo;
}

/** A message at the desk: the API always dates it. */
export interface ChatMessage extends Message {
  date_created: string;
}

export interface ConversationState {
  sid: string;
  chatServiceSid?: string;
  messages: ChatMessage[];
  /** identity → last read message index (read horizons of the other participants and our own). */
  readBy: Record<string, number>;
  /** identity → epoch ms until which the typing indicator shows. */
  typingUntil: Record<string, number>;
  /** message sid → participant sid → receipt status (sent, delivered, read, failed, undelivered). */
  receipts: Record<string, Record<string, string>>;
  /** The conversation's state (active, inactive, closed), once known. */
  state?: string;
}

export interface DeskState {
  activitySid: string | null;
  activityName: string | null;
  offers: Record<string, Offer>;
  tasks: Record<string, HeldTask>;
  conversations: Record<string, ConversationState>;
}

export const EMPTY: DeskState = { activitySid: null, activityName: null, offers: {}, tasks: {}, conversations: {} };

export const TYPING_SHOWS_MS = 5000;

/** The task attributes Flex sets on a conversation's task (Interactions). */
export function conversationOf(task: TaskInfo): string | null {
  const sid = task.attributes.conversationSid;
  return typeof sid === "string" ? sid : null;
}

export function customerOf(task: TaskInfo): string {
  const { customerName, customerAddress, from, name } = task.attributes as Record<string, unknown>;
  for (const value of [customerName, from, name, customerAddress]) {
    if (typeof value === "string" && value.trim() !== "") {
      return value;
    }
  }
  return "Customer";
}

/** How a message's author shows: "You", the customer's name for the customer's address or guest identity,
 * else the author as it is (another agent). */
export function authorLabel(author: string | null, me: string, task: TaskInfo): string {
  if (author === me) {
    return "You";
  }
  const address = task.attributes.customerAddress;
  if (author === null || author === address || (typeof address !== "string" && author.startsWith("guest-"))) {
    return customerOf(task);
  }
  return author;
}

export function channelOf(task: TaskInfo): string {
  const type = task.attributes.channelType;
  if (typeof type === "string" && type) {
    return CHANNEL_NAMES[type] ?? type;
  }
  return task.channelUniqueName ?? "chat";
}

const CHANNEL_NAMES: Record<string, string> = { sms: "SMS", whatsapp: "WhatsApp", web: "Web chat", chat: "Chat" };

export function parseAttributes(raw: unknown): Record<string, unknown> {
  if (typeof raw === "object" && raw !== null) {
    return raw as Record<string, unknown>;
  }
  if (typeof raw === "string") {
    try {
      const parsed = JSON.parse(raw);
      return typeof parsed === "object" && parsed !== null ? parsed : {};
    } catch {
      return {};
    }
  }
  return {};
}

/** A task from the socket's `task` object (event data) or from the REST task resource. */
export function taskFromEvent(task: Record<string, unknown>): TaskInfo {
  return {
    sid: String(task.sid),
    attributes: parseAttributes(task.attributes),
    channelUniqueName: task.channel_unique_name as string | undefined,
    queueName: task.queue_name as string | undefined,
    queueSid: task.queue_sid as string | undefined,
  };
}

export function taskFromRest(task: Record<string, unknown>): TaskInfo {
  return {
    sid: String(task.sid),
    attributes: parseAttributes(task.attributes),
    channelUniqueName: task.task_channel_unique_name as string | undefined,
    queueName: task.task_queue_friendly_name as string | undefined,
    queueSid: task.task_queue_sid as string | undefined,
    workflowSid: task.workflow_sid as string | undefined,
  };
}

// --- Offers and tasks ---

export function withOffer(state: DeskState, offer: Offer): DeskState {
  if (state.tasks[offer.task.sid]) {
    return state; // already accepted (the resync saw it first)
  }
  const known = state.offers[offer.reservationSid];
  const merged = known && known.expiresAt !== null && offer.expiresAt === null ? { ...offer, expiresAt: known.expiresAt } : offer;
  return { ...state, offers: { ...state.offers, [offer.reservationSid]: merged } };
}

export function withoutOffer(state: DeskState, reservationSid: string): DeskState {
  if (!state.offers[reservationSid]) {
    return state;
  }
  const offers = { ...state.offers };
  delete offers[reservationSid];
  return { ...state, offers };
}

export function withTask(state: DeskState, held: HeldTask): DeskState {
  const without = withoutOffer(state, held.reservationSid);
  const known = without.tasks[held.task.sid];
  // Keep what REST knew (workflow) when a thinner event arrives.
  const task = known ? { ...known.task, ...stripUndefined(held.task) } : held.task;
  return { ...without, tasks: { ...without.tasks, [held.task.sid]: { ...held, task } } };
}

export function withoutTask(state: DeskState, taskSid: string): DeskState {
  if (!state.tasks[taskSid]) {
    return state;
  }
  const tasks = { ...state.tasks };
  delete tasks[taskSid];
  return { ...state, tasks };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The socket's TaskRouter event for this worker (see services/ingress/agent_feed.py). */
export interface AgentEvent {
  type: string;
  resource?: Record<string, unknown> | null;
  task?: Record<string, unknown>;
  timeout?: number;
  activity_sid?: string | null;
  activity_name?: string | null;
}

const OFFER_ENDS = new Set(["reservation.rejected", "reservation.timeout", "reservation.canceled", "reservation.rescinded"]);

export function applyAgentEvent(state: DeskState, event: AgentEvent, now: number): DeskState {
  const resource = event.resource ?? {};
  const reservationSid = String(resource.sid ?? "");
  if (event.type === "worker.activity.update") {
    return { ...state, activitySid: event.activity_sid ?? null, activityName: event.activity_name ?? null };
  }
  if (!event.type.startsWith("reservation.") || !event.task) {
    return state;
  }
  const task = taskFromEvent(event.task);
  switch (event.type) {
    case "reservation.created":
      return withOffer(state, {
        reservationSid,
        task,
        expiresAt: typeof event.timeout === "number" ? now + event.timeout * 1000 : null,
      });
    case "reservation.accepted":
      return withTask(state, { reservationSid, status: "accepted", task });
    case "reservation.wrapup":
      return withTask(state, { reservationSid, status: "wrapping", task });
    case "reservation.completed":
      return withoutTask(withoutOffer(state, reservationSid), task.sid);
    default:
      if (OFFER_ENDS.has(event.type)) {
        const ended = withoutOffer(state, reservationSid);
        // A canceled task the agent held (the customer left, the task was canceled) leaves the list too.
        const held = ended.tasks[task.sid];
        return held && held.reservationSid === reservationSid ? withoutTask(ended, task.sid) : ended;
      }
      return state;
  }
}

// --- Conversations ---

export function emptyConversation(sid: string): ConversationState {
  return { sid, messages: [], readBy: {}, typingUntil: {}, receipts: {} };
}

function conversation(state: DeskState, sid: string): ConversationState {
  return state.conversations[sid] ?? emptyConversation(sid);
}

function withConversation(state: DeskState, value: ConversationState): DeskState {
  return { ...state, conversations: { ...state.conversations, [value.sid]: value } };
}

/** Messages merged by SID and kept in index order (history pages and live events interleave). */
export function withMessages(state: DeskState, conversationSid: string, messages: ChatMessage[]): DeskState {
  const current = conversation(state, conversationSid);
  const bySid = new Map(current.messages.map((message) => [message.sid, message]));
  const typingUntil = { ...current.typingUntil };
  for (const message of messages) {
    bySid.set(message.sid, message);
    if (message.author) {
      delete typingUntil[message.author]; // their message arrived: they stopped typing
    }
  }
  const sorted = [...bySid.values()].sort((a, b) => a.index - b.index);
  return withConversation(state, { ...current, messages: sorted, typingUntil });
}

export function withoutMessage(state: DeskState, conversationSid: string, messageSid: string): DeskState {
  const current = conversation(state, conversationSid);
  return withConversation(state, { ...current, messages: current.messages.filter((m) => m.sid !== messageSid) });
}

export function withReadHorizon(state: DeskState, conversationSid: string, identity: string, index: number): DeskState {
  const current = conversation(state, conversationSid);
  if ((current.readBy[identity] ?? -1) >= index) {
    return state;
  }
  return withConversation(state, { ...current, readBy: { ...current.readBy, [identity]: index } });
}

export function withTyping(state: DeskState, conversationSid: string, identity: string, now: number): DeskState {
  const current = conversation(state, conversationSid);
  return withConversation(state, {
    ...current,
    typingUntil: { ...current.typingUntil, [identity]: now + TYPING_SHOWS_MS },
  });
}

export function withReceipt(
  state: DeskState,
  conversationSid: string,
  messageSid: string,
  participantSid: string,
  status: string,
): DeskState {
  const current = conversation(state, conversationSid);
  const receipts = { ...current.receipts, [messageSid]: { ...current.receipts[messageSid], [participantSid]: status } };
  return withConversation(state, { ...current, receipts });
}

export function withChatService(state: DeskState, conversationSid: string, chatServiceSid: string): DeskState {
  return withConversation(state, { ...conversation(state, conversationSid), chatServiceSid });
}

export function withConversationState(state: DeskState, conversationSid: string, value: string): DeskState {
  return withConversation(state, { ...conversation(state, conversationSid), state: value });
}

/** Who is typing now, other than me. */
export function typingNow(value: ConversationState | undefined, me: string, now: number): string[] {
  if (!value) {
    return [];
  }
  return Object.entries(value.typingUntil)
    .filter(([identity, until]) => identity !== me && until > now)
    .map(([identity]) => identity);
}

const STATUS_RANK = ["sent", "delivered", "read"];

/**
 * The status of one of my messages, as the agent reads it: "Read" once another participant's read
 * horizon passed it (web chat) or a receipt says so (SMS/WhatsApp); else the best receipt; else "Sent".
 */
export function deliveryStatus(value: ConversationState, message: ChatMessage, me: string): string {
  const readByOther = Object.entries(value.readBy).some(([identity, index]) => identity !== me && index >= message.index);
  const statuses = Object.values(value.receipts[message.sid] ?? {});
  const summary = message.delivery ?? {};
  // The message's `delivery` summary says "all" / "some" / "none" per status.
  for (const status of ["read", "delivered", "sent", "failed", "undelivered"]) {
    if (summary[status] === "all" || summary[status] === "some") {
      statuses.push(status);
    }
  }
  if (statuses.some((status) => status === "failed" || status === "undelivered")) {
    return "Not delivered";
  }
  if (readByOther) {
    return "Read";
  }
  const best = statuses.reduce((rank, status) => Math.max(rank, STATUS_RANK.indexOf(status)), -1);
  return best >= 0 ? capitalise(STATUS_RANK[best]) : "Sent";
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** When a pending reservation from REST times out, as epoch ms: its creation plus its workflow's
 * `task_reservation_timeout` (seconds); null when either is unknown. */
export function offerDeadline(reservation: Record<string, unknown>, timeoutSeconds: number | undefined): number | null {
  const value = reservation.date_created;
  const created = typeof value === "string" ? Date.parse(value) : NaN;
  return Number.isNaN(created) || timeoutSeconds === undefined ? null : created + timeoutSeconds * 1000;
}

/** Seconds left before an offer times out (never negative); null when its timeout is unknown. */
export function secondsLeft(offer: Offer, now: number): number | null {
  if (offer.expiresAt === null) {
    return null;
  }
  return Math.max(0, Math.floor((offer.expiresAt - now) / 1000));
}

/** Where "Reject and go Unavailable" takes the agent: the workspace's "Unavailable" activity, else another
 * unavailable one that is not "Offline" (going offline would end the shift), else any unavailable one. */
export function stepAwayActivity<A extends { friendly_name: string; available: boolean }>(activities: A[]): A | null {
  const unavailable = activities.filter((activity) => !activity.available);
  return (
    unavailable.find((activity) => activity.friendly_name === "Unavailable") ??
    unavailable.find((activity) => activity.friendly_name !== "Offline") ??
    unavailable[0] ??
    null
  );
}
