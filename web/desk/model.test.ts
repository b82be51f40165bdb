import { describe, expect, it } from "vitest";

import {
  applyAgentEvent,
  authorLabel,
  type ChatMessage,
  deliveryStatus,
  EMPTY,
  offerDeadline,
  secondsLeft,
  stepAwayActivity,
  typingNow,
  withMessages,
  withReadHorizon,
  withReceipt,
  withTyping,
} from "./model";

const task = { sid: "WT1", attributes: JSON.stringify({ conversationSid: "CH1", customerName: "Ada", channelType: "web" }) };
const reservation = (status: string) => ({ sid: "WR1", reservation_status: status, task_sid: "WT1", worker_sid: "WK1" });

function message(index: number, author: string): ChatMessage {
  return { sid: `IM${index}`, index, author, body: `m${index}`, media: null, date_created: "2026-01-01T00:00:00Z" };
}

describe("offers from REST", () => {
  it("time out their workflow's reservation timeout after they were made", () => {
    expect(offerDeadline({ date_created: "2026-01-01T00:00:00Z" }, 120)).toBe(Date.parse("2026-01-01T00:02:00Z"));
    expect(offerDeadline({ date_created: "2026-01-01T00:00:00Z" }, undefined)).toBeNull();
    expect(offerDeadline({}, 120)).toBeNull();
  });
});

describe("agent events", () => {
  it("turn an offer into a held task and end it", () => {
    let state = applyAgentEvent(EMPTY, { type: "reservation.created", resource: reservation("pending"), task, timeout: 30 }, 1000);
    expect(state.offers.WR1.expiresAt).toBe(31_000);
    expect(state.offers.WR1.task.attributes.customerName).toBe("Ada");
    expect(secondsLeft(state.offers.WR1, 1500)).toBe(29);
    expect(secondsLeft(state.offers.WR1, 99_000)).toBe(0);

    state = applyAgentEvent(state, { type: "reservation.accepted", resource: reservation("accepted"), task }, 2000);
    expect(state.offers).toEqual({});
    expect(state.tasks.WT1.status).toBe("accepted");
    state = applyAgentEvent(state, { type: "reservation.wrapup", resource: reservation("wrapping"), task }, 3000);
    expect(state.tasks.WT1.status).toBe("wrapping");
    state = applyAgentEvent(state, { type: "reservation.completed", resource: reservation("completed"), task }, 4000);
    expect(state.tasks).toEqual({});
  });

  it("drop an offer that times out, is rescinded or canceled; twice is harmless", () => {
    for (const ending of ["reservation.timeout", "reservation.rescinded", "reservation.canceled", "reservation.rejected"]) {
      let state = applyAgentEvent(EMPTY, { type: "reservation.created", resource: reservation("pending"), task }, 0);
      state = applyAgentEvent(state, { type: ending, resource: reservation("x"), task }, 0);
      expect(applyAgentEvent(state, { type: ending, resource: reservation("x"), task }, 0)).toEqual(state);
      expect(state.offers).toEqual({});
    }
  });

  it("follow the worker's activity", () => {
    const state = applyAgentEvent(EMPTY, { type: "worker.activity.update", activity_sid: "WA1", activity_name: "Break" }, 0);
    expect([state.activitySid, state.activityName]).toEqual(["WA1", "Break"]);
  });
});

describe("conversations", () => {
  it("merge history and live messages by SID, in index order", () => {
    let state = withMessages(EMPTY, "CH1", [message(2, "ada"), message(0, "ada")]);
    state = withMessages(state, "CH1", [message(1, "bob"), message(2, "ada")]);
    expect(state.conversations.CH1.messages.map((m) => m.index)).toEqual([0, 1, 2]);
  });

  it("show who types until their message arrives or the indicator lapses", () => {
    let state = withTyping(EMPTY, "CH1", "ada", 1000);
    state = withTyping(state, "CH1", "bob", 1000);
    expect(typingNow(state.conversations.CH1, "bob", 2000)).toEqual(["ada"]);
    expect(typingNow(state.conversations.CH1, "bob", 10_000)).toEqual([]);
    state = withMessages(state, "CH1", [message(0, "ada")]);
    expect(typingNow(state.conversations.CH1, "bob", 2000)).toEqual([]);
  });

  it("say Read once another participant's horizon passes my message, else the best receipt", () => {
    let state = withMessages(EMPTY, "CH1", [message(0, "bob"), message(1, "bob")]);
    const [first, second] = state.conversations.CH1.messages;
    expect(deliveryStatus(state.conversations.CH1, first, "bob")).toBe("Sent");
    state = withReadHorizon(state, "CH1", "bob", 1); // my own horizon says nothing
    expect(deliveryStatus(state.conversations.CH1, first, "bob")).toBe("Sent");
    state = withReadHorizon(state, "CH1", "ada", 0);
    expect(deliveryStatus(state.conversations.CH1, first, "bob")).toBe("Read");
    expect(deliveryStatus(state.conversations.CH1, second, "bob")).toBe("Sent");
    state = withReceipt(state, "CH1", second.sid, "MB1", "delivered");
    expect(deliveryStatus(state.conversations.CH1, second, "bob")).toBe("Delivered");
    const summarised = { ...second, delivery: { total: 1, sent: "all", delivered: "none", read: "none", failed: "all", undelivered: "none" } };
    expect(deliveryStatus(state.conversations.CH1, summarised, "bob")).toBe("Not delivered");
    // A horizon never moves back.
    expect(withReadHorizon(state, "CH1", "ada", -1)).toBe(state);
  });
});

describe("authors", () => {
  it("read as You, the customer's name, or the other agent", () => {
    const sms = { sid: "WT1", attributes: { customerAddress: "+15550001", customerName: "Ada" } };
    expect(authorLabel("bob", "bob", sms)).toBe("You");
    expect(authorLabel("+15550001", "bob", sms)).toBe("Ada");
    expect(authorLabel("carol", "bob", sms)).toBe("carol");
    const web = { sid: "WT2", attributes: { from: "Grace" } };
    expect(authorLabel("guest-1f2e", "bob", web)).toBe("Grace");
  });
});

describe("stepAwayActivity", () => {
  const activity = (friendly_name: string, available: boolean) => ({ sid: `WA-${friendly_name}`, friendly_name, available });

  it("prefers Unavailable, then any unavailable activity but Offline, then Offline", () => {
    const all = [activity("Offline", false), activity("Available", true), activity("Break", false), activity("Unavailable", false)];
    expect(stepAwayActivity(all)?.friendly_name).toBe("Unavailable");
    expect(stepAwayActivity(all.filter((a) => a.friendly_name !== "Unavailable"))?.friendly_name).toBe("Break");
    expect(stepAwayActivity([activity("Offline", false), activity("Available", true)])?.friendly_name).toBe("Offline");
    expect(stepAwayActivity([activity("Available", true)])).toBeNull();
  });
});
