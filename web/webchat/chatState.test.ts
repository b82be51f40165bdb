import { describe, expect, it } from "vitest";

import {
  type ChatMessage,
  EMPTY_STATE,
  isReadByOthers,
  lastIndex,
  typingNow,
  TYPING_SHOWN_MS,
  withMessage,
  withoutMessage,
  withReadHorizon,
  withTyping,
} from "./chatState";

const message = (index: number, author = "guest-1", sid = `IM${index}`): ChatMessage => ({
  sid,
  index,
  author,
  body: `m${index}`,
  media: null,
});

describe("the widget's chat state", () => {
  it("keeps messages in index order without duplicates", () => {
    let state = withMessage(EMPTY_STATE, message(2));
    state = withMessage(state, message(0));
    state = withMessage(state, message(1));
    state = withMessage(state, { ...message(1), body: "edited" });
    expect(state.messages.map((m) => [m.index, m.body])).toEqual([
      [0, "m0"],
      [1, "edited"],
      [2, "m2"],
    ]);
    expect(lastIndex(state)).toBe(2);
    expect(lastIndex(withoutMessage(state, "IM2"))).toBe(1);
  });

  it("shows a message as read once another participant's horizon reaches it", () => {
    let state = withMessage(EMPTY_STATE, message(0));
    state = withMessage(state, message(1));
    state = withReadHorizon(state, "guest-1", 5);
    expect(isReadByOthers(state, 0, "guest-1")).toBe(false);
    state = withReadHorizon(state, "alice", 0);
    expect(isReadByOthers(state, 0, "guest-1")).toBe(true);
    expect(isReadByOthers(state, 1, "guest-1")).toBe(false);
    expect(withReadHorizon(state, "alice", 0)).toBe(state);
    expect(withReadHorizon(withReadHorizon(state, "alice", 1), "alice", 0).readBy.alice).toBe(1);
  });

  it("shows typing for a while, and stops it when that person's message arrives", () => {
    const state = withTyping(EMPTY_STATE, "alice", 1000);
    expect(typingNow(state, 1000 + TYPING_SHOWN_MS - 1)).toEqual(["alice"]);
    expect(typingNow(state, 1000 + TYPING_SHOWN_MS)).toEqual([]);
    expect(typingNow(withMessage(state, message(0, "alice")), 1001)).toEqual([]);
  });
});
