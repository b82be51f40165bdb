/** The supervisor's live view (/supervisor/): queues now; agents and live statistics come next. */
import "../shared/base.css";

import { render } from "preact";

export interface QueueRow {
  sid: string;
  name: string;
  waiting: number;
  longestWaitSeconds: number;
  availableAgents: number;
  busyAgents: number;
}

function QueueTable({ queues }: { queues: QueueRow[] }) {
  return (
    // Scrolls sideways on a narrow screen: focusable, so keyboard users can scroll it too.
    <div class="table-scroll" role="region" aria-labelledby="queues-caption" tabIndex={0}>
      <table>
        <caption id="queues-caption">Queues: waiting tasks and agents, live</caption>
        <thead>
          <tr>
            <th scope="col">Queue</th>
            <th scope="col">Waiting</th>
            <th scope="col">Longest wait</th>
            <th scope="col">Available agents</th>
            <th scope="col">Busy agents</th>
          </tr>
        </thead>
        <tbody>
          {queues.length === 0 ? (
            <tr>
              <td class="empty" colSpan={5}>
                No queues to show yet.
              </td>
            </tr>
          ) : (
            queues.map((queue) => (
              <tr key={queue.sid}>
                <th scope="row">{queue.name}</th>
                <td>{queue.waiting}</td>
                <td>{queue.longestWaitSeconds} s</td>
                <td>{queue.availableAgents}</td>
                <td>{queue.busyAgents}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

function Supervisor() {
  return (
    <>
      <header class="app-header">
        <p class="brand">Parley</p>
      </header>
      <main class="app-main">
        <h1>Supervisor</h1>
        <section class="card" aria-labelledby="queues-title">
          <h2 id="queues-title">Queues</h2>
          <QueueTable queues={[]} />
        </section>
      </main>
    </>
  );
}

render(<Supervisor />, document.getElementById("app")!);
