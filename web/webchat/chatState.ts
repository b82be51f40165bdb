/** The widget's view of a conversation: messages in index order, who has read how far, who is typing. */
import type { ChatMessage } from "../shared/chatMessage";

export type { ChatMessage };

export interface ChatState {
  messages: ChatMessage[];
  /** Other participants' read horizons, by identity. */
  readBy: Record<string, number>;
  /** Identities typing, with when their indicator lapses (ms since epoch). */
  typingUntil: Record<string, number>;
}

export const TYPING_SHOWN_MS = 5_000;

export const EMPTY_STATE: ChatState = { messages: [], readBy: {}, typingUntil: {} };

/** Adds or replaces a message (by SID), keeping index order; a message from someone ends their typing. */
export function withMessage(state: ChatState, message: ChatMessage): ChatState {
  const others = state.messages.filter((existing) => existing.sid !== message.sid);
  let at = others.length;
  while (at > 0 && others[at - 1].index > message.index) {
    at -= 1;
  }
  const messages = [...others.slice(0, at), message, ...others.slice(at)];
  const typingUntil = { ...state.typingUntil };
  if (message.author) {
    delete typingUntil[message.author];
  }
  return { ...state, messages, typingUntil };
}

export function withoutMessage(state: ChatState, sid: string): ChatState {
  return { ...state, messages: state.messages.filter((message) => message.sid !== sid) };
}

/** Read horizons only move forward. */
export function withReadHorizon(state: ChatState, identity: string, index: number): ChatState {
  if ((state.readBy[identity] ?? -1) >= index) {
    return state;
  }
  return { ...state, readBy: { ...state.readBy, [identity]: index } };
}

export function withTyping(state: ChatState, identity: string, now: number): ChatState {
  return { ...state, typingUntil: { ...state.typingUntil, [identity]: now + TYPING_SHOWN_MS } };
}

export function typingNow(state: ChatState, now: number): string[] {
  return Object.entries(state.typingUntil)
    .filter(([, until]) => until > now)
    .map(([identity]) => identity);
}

/** Whether someone other than `me` has read the message at `index`. */
export function isReadByOthers(state: ChatState, index: number, me: string): boolean {
  return Object.entries(state.readBy).some(([identity, horizon]) => identity !== me && horizon >= index);
}

export function lastIndex(state: ChatState): number | null {
  return state.messages.length ? state.messages[state.messages.length - 1].index : null;
}
