/** The `supervisor.statistics` snapshots the realtime socket pushes, and how the page shows their figures. */

export interface QueueRow {
  sid: string;
  friendly_name: string | null;
  waiting: number;
  longest_wait_seconds: number;
  available_agents: number;
  busy_agents: number;
}

export interface HeldTask {
  sid: string;
  assignment_status: string;
  task_queue_sid: string | null;
  conversation_sid: string | null;
  channel_type: string | null;
  customer: string | null;
}

export interface WorkerRow {
  sid: string;
  friendly_name: string | null;
  activity_name: string | null;
  available: boolean;
  tasks: HeldTask[];
}

/** A task nobody holds yet, with the router's view of why: being offered, or nobody who may take it is free. */
export interface WaitingTask {
  sid: string;
  assignment_status: string;
  task_queue_sid: string | null;
  queue_name: string;
  customer: string | null;
  channel_type: string | null;
  age_seconds: number;
  declined: number;
  reason: string;
}

export interface Snapshot {
  type: "supervisor.statistics";
  workspace_sid: string;
  queues?: QueueRow[];
  workers?: WorkerRow[];
  waiting_tasks?: WaitingTask[];
  error?: string;
}

export function isSnapshot(message: { type: string }): message is Snapshot {
  return message.type === "supervisor.statistics";
}

/** 75 → "1 min 15 s"; 3600 → "1 h 0 min"; 0 → "—" (nobody waits). */
export function formatWait(seconds: number): string {
  if (!seconds || seconds < 0) {
    return "—";
  }
  if (seconds < 60) {
    return `${seconds} s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  }
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** "Ana Lima (web, wrapping)": who, on which channel, and where the task stands. */
export function describeTask(task: HeldTask): string {
  const who = task.customer || "Customer";
  const details = [task.channel_type, task.assignment_status === "wrapping" ? "wrapping up" : null].filter(Boolean);
  return details.length ? `${who} (${details.join(", ")})` : who;
}
