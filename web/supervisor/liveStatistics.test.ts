import { describe, expect, it } from "vitest";

import { describeTask, formatWait, isSnapshot } from "./liveStatistics";

describe("the supervisor's figures", () => {
  it("shows waits in the units a person reads", () => {
    expect(formatWait(0)).toBe("—");
    expect(formatWait(42)).toBe("42 s");
    expect(formatWait(75)).toBe("1 min 15 s");
    expect(formatWait(3 * 3600 + 120 + 5)).toBe("3 h 2 min");
  });

  it("names a task by its customer and channel", () => {
    const task = {
      sid: "WT1",
      assignment_status: "assigned",
      task_queue_sid: "WQ1",
      conversation_sid: "CH1",
      channel_type: "web",
      customer: "Ana Lima",
    };
    expect(describeTask(task)).toBe("Ana Lima (web)");
    expect(describeTask({ ...task, assignment_status: "wrapping", customer: null })).toBe("Customer (web, wrapping up)");
    expect(describeTask({ ...task, channel_type: null })).toBe("Ana Lima");
  });

  it("recognises a statistics push", () => {
    expect(isSnapshot({ type: "supervisor.statistics" })).toBe(true);
    expect(isSnapshot({ type: "message.added" })).toBe(false);
  });
});
