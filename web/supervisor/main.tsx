/**
 * The supervisor's live view (/supervisor/): sign in as an agent with role supervisor; queues (waiting,
 * longest wait, available and busy agents), the tasks waiting longest with the reason each waits, and agents (activity, current tasks) as the realtime socket
 * pushes them; open any agent's conversation read-only, and join it.
 */
import "../shared/base.css";
import "./supervisor.css";

import { type ComponentChildren, render } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { type AccessToken, refreshAccessToken, refreshDelayMs } from "../shared/api";
import { RealtimeSocket, type RealtimeMessage, type SocketStatus } from "../shared/realtimeSocket";
import { SignIn, useSession } from "../shared/SignIn";
import { readTokenClaims } from "../shared/tokenRest";
import { ConversationView } from "./ConversationView";
import { describeTask, formatWait, type HeldTask, isSnapshot, type QueueRow, type Snapshot, type WaitingTask, type WorkerRow } from "./liveStatistics";

/** Seconds since the snapshot arrived, ticking while someone waits: the longest wait grows between pushes. */
function useSecondsSince(since: number, ticking: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    setNow(Date.now());
    if (!ticking) {
      return;
    }
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [since, ticking]);
  return Math.max(0, Math.floor((now - since) / 1000));
}

/** A live table: a caption, column headers, and a row saying so while there is nothing to show. Scrolls sideways
 * on a narrow screen: focusable, so keyboard users can scroll it too. */
function LiveTable({ id, caption, columns, empty, children }: {
  id: string;
  caption: string;
  columns: string[];
  empty: string;
  children: ComponentChildren[];
}) {
  return (
    <div class="table-scroll" role="region" aria-labelledby={`${id}-caption`} tabIndex={0}>
      <table>
        <caption id={`${id}-caption`}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {children.length === 0 ? (
            <tr>
              <td class="empty" colSpan={columns.length}>
                {empty}
              </td>
            </tr>
          ) : (
            children
          )}
        </tbody>
      </table>
    </div>
  );
}

function QueueTable({ queues, receivedAt }: { queues: QueueRow[]; receivedAt: number }) {
  const elapsed = useSecondsSince(receivedAt, queues.some((queue) => queue.waiting > 0));
  return (
    <LiveTable
      id="queues"
      caption="Queues: waiting tasks and agents, live"
      columns={["Queue", "Waiting", "Longest wait", "Available agents", "Busy agents"]}
      empty="No queues to show yet."
    >
      {queues.map((queue) => (
        <tr key={queue.sid}>
          <th scope="row">{queue.friendly_name ?? queue.sid}</th>
          <td>{queue.waiting}</td>
          <td>{formatWait(queue.waiting > 0 ? queue.longest_wait_seconds + elapsed : 0)}</td>
          <td>{queue.available_agents}</td>
          <td>{queue.busy_agents}</td>
        </tr>
      ))}
    </LiveTable>
  );
}

function WaitingTable({ tasks, receivedAt }: { tasks: WaitingTask[]; receivedAt: number }) {
  const elapsed = useSecondsSince(receivedAt, tasks.length > 0);
  return (
    <LiveTable
      id="waiting"
      caption="Tasks waiting longest, and why they wait"
      columns={["Customer", "Queue", "Waiting", "Why it waits", "Declined"]}
      empty="No task is waiting."
    >
      {tasks.map((task) => (
        <tr key={task.sid}>
          <th scope="row">{describeTask({ ...task, conversation_sid: null })}</th>
          <td>{task.queue_name}</td>
          <td>{formatWait(task.age_seconds + elapsed)}</td>
          <td>{task.reason}</td>
          <td>{task.declined}</td>
        </tr>
      ))}
    </LiveTable>
  );
}

function AgentTable({ workers, onOpen }: { workers: WorkerRow[]; onOpen: (task: HeldTask, agent: WorkerRow) => void }) {
  return (
    <LiveTable id="agents" caption="Agents: activity and current tasks, live" columns={["Agent", "Activity", "Current tasks"]} empty="No agents to show yet.">
      {workers.map((worker) => (
        <tr key={worker.sid}>
          <th scope="row">{worker.friendly_name ?? worker.sid}</th>
          <td>
            <span class={`activity ${worker.available ? "available" : ""}`}>{worker.activity_name ?? "—"}</span>
          </td>
          <td class="tasks">
            {worker.tasks.length === 0
              ? "—"
              : worker.tasks.map((task) => (
                  <div key={task.sid} class="task">
                    <span>{describeTask(task)}</span>
                    {task.conversation_sid && (
                      <button
                        type="button"
                        class="secondary small"
                        onClick={() => onOpen(task, worker)}
                        aria-label={`Open the conversation of ${worker.friendly_name ?? worker.sid} with ${task.customer ?? "the customer"}`}
                      >
                        Open
                      </button>
                    )}
                  </div>
                ))}
          </td>
        </tr>
      ))}
    </LiveTable>
  );
}

const STATUS_TEXT: Record<SocketStatus, string> = {
  connecting: "Connecting…",
  online: "Live",
  offline: "Offline: reconnecting…",
};

interface Opened {
  conversationSid: string;
  title: string;
  customer: string | null;
}

/** A fresh token for the signed-in agent, asked with the current one (no password needed). */
async function refreshToken(current: AccessToken): Promise<AccessToken | null> {
  const fresh = await refreshAccessToken(current);
  return fresh.ok ? fresh.data : null;
}

function Dashboard({
  token,
  onRefreshed,
  onSignOut,
}: {
  token: AccessToken;
  onRefreshed: (token: AccessToken) => void;
  onSignOut: () => void;
}) {
  const claims = useMemo(() => readTokenClaims(token.token), [token.token]);
  const current = useRef(token);
  current.current = token;
  const [snapshot, setSnapshot] = useState<{ data: Snapshot; receivedAt: number } | null>(null);
  const [status, setStatus] = useState<SocketStatus>("connecting");
  const [opened, setOpened] = useState<Opened | null>(null);
  const [live, setLive] = useState<RealtimeMessage | null>(null);
  const supervises = claims?.role === "supervisor" || claims?.role === "admin";

  useEffect(() => {
    if (!supervises) {
      return;
    }
    const renew = async () => {
      const fresh = await refreshToken(current.current);
      if (fresh) {
        current.current = fresh;
        onRefreshed(fresh);
      }
      return fresh !== null;
    };
    const socket = new RealtimeSocket({
      baseUrl: location.origin,
      token: () => current.current.token,
      refresh: renew,
      onMessage: (message) =>
        isSnapshot(message) ? setSnapshot({ data: message, receivedAt: Date.now() }) : setLive(message),
      onStatus: setStatus,
      onUnauthorized: onSignOut,
    });
    socket.start();
    return () => socket.stop();
  }, [supervises]);

  // Renew before the token runs out, so the socket and REST calls never see it expire; a renewal lost to the
  // network is tried again while the token lasts.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const renew = async () => {
      const fresh = await refreshToken(current.current);
      if (fresh) {
        onRefreshed(fresh);
      } else {
        timer = setTimeout(renew, refreshDelayMs(token, Date.now()));
      }
    };
    timer = setTimeout(renew, refreshDelayMs(token, Date.now()));
    return () => clearTimeout(timer);
  }, [token.token]);

  if (!supervises) {
    return (
      <section class="card" aria-labelledby="not-supervisor">
        <h1 id="not-supervisor">Supervisor</h1>
        <p role="alert">This view is for supervisors. {token.identity} is signed in as an agent.</p>
      </section>
    );
  }

  return (
    <>
      <div class="dashboard-head">
        <h1>Supervisor</h1>
        <p class={`live-status ${status}`} role="status">
          {STATUS_TEXT[status]}
        </p>
      </div>
      <div class="alert" role="alert">
        {snapshot?.data.error ? `Statistics are not available: ${snapshot.data.error}` : ""}
      </div>
      <div class="dashboard">
        <section class="card" aria-labelledby="queues-title">
          <h2 id="queues-title">Queues</h2>
          <QueueTable queues={snapshot?.data.queues ?? []} receivedAt={snapshot?.receivedAt ?? 0} />
        </section>
        <section class="card" aria-labelledby="waiting-title">
          <h2 id="waiting-title">Waiting tasks</h2>
          <WaitingTable tasks={snapshot?.data.waiting_tasks ?? []} receivedAt={snapshot?.receivedAt ?? 0} />
        </section>
        <section class="card" aria-labelledby="agents-title">
          <h2 id="agents-title">Agents</h2>
          <AgentTable
            workers={snapshot?.data.workers ?? []}
            onOpen={(task, agent) =>
              setOpened({
                conversationSid: task.conversation_sid!,
                title: `${agent.friendly_name ?? agent.sid} with ${task.customer ?? "customer"}`,
                customer: task.customer,
              })
            }
          />
        </section>
        {opened && (
          <ConversationView
            key={opened.conversationSid}
            conversationSid={opened.conversationSid}
            title={opened.title}
            customer={opened.customer}
            identity={token.identity}
            rest={{ token: token.token }}
            live={live}
            onClose={() => setOpened(null)}
          />
        )}
      </div>
    </>
  );
}

function Supervisor() {
  const { token, signedIn, signOut } = useSession();

  return (
    <>
      <header class="app-header">
        <p class="brand">Parley</p>
        {token && (
          <div>
            <span>Signed in as {token.identity}</span>{" "}
            <button type="button" class="secondary" onClick={signOut}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main class="app-main">
        {token ? (
          <Dashboard token={token} onRefreshed={signedIn} onSignOut={signOut} />
        ) : (
          <SignIn title="Sign in to the supervisor view" onSignedIn={signedIn} />
        )}
      </main>
    </>
  );
}

render(<Supervisor />, document.getElementById("app")!);
