/** The agent desktop (/desk/): sign in, then offers, tasks and conversations, live. */
import "../shared/base.css";
import "./desk.css";

import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";

import type { AccessToken } from "../shared/api";
import { saveToken } from "../shared/session";
import { SignIn, useSession } from "../shared/SignIn";
import { DeskController } from "./controller";
import { ActivitySwitch, ConversationPanel, OfferList, OutboundForm, TaskList } from "./views";

function Desk() {
  const { token, signedIn, signOut } = useSession();
  return token ? (
    <Workspace token={token} onSignOut={signOut} />
  ) : (
    <>
      <header class="app-header">
        <p class="brand">Parley</p>
      </header>
      <main class="app-main">
        <SignIn title="Sign in to the agent desktop" onSignedIn={signedIn} />
      </main>
    </>
  );
}

function useController(token: AccessToken, onSignOut: () => void): DeskController {
  const controller = useMemo(
    () =>
      new DeskController(token, (fresh) => {
        if (fresh) {
          saveToken(fresh);
        } else {
          onSignOut();
        }
      }),
    // One controller per sign-in; refreshed tokens are the controller's own business.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [token.agent_sid, token.identity],
  );
  const [, setVersion] = useState(0);
  useEffect(() => {
    const unsubscribe = controller.subscribe(() => setVersion((version) => version + 1));
    controller.start();
    return () => {
      unsubscribe();
      controller.stop();
    };
  }, [controller]);
  return controller;
}

function Workspace({ token, onSignOut }: { token: AccessToken; onSignOut: () => void }) {
  const desk = useController(token, onSignOut);
  const [selected, setSelected] = useState<string | null>(null);
  const tasks = Object.values(desk.state.tasks);
  const current = (selected && desk.state.tasks[selected]) || tasks[0] || null;

  async function accept(reservationSid: string, taskSid: string) {
    if (await desk.accept(reservationSid)) {
      setSelected(taskSid);
      // The Accept button is gone: focus moves to where the agent now works, the reply box.
      requestAnimationFrame(() => document.getElementById("composer-text")?.focus());
    }
  }

  return (
    <>
      <header class="app-header">
        <p class="brand">Parley</p>
        <div class="header-tools">
          <span class={`connection ${desk.connection}`} role="status">
            {desk.connection === "online" ? "Connected" : desk.connection === "connecting" ? "Connecting…" : "Offline, reconnecting…"}
          </span>
          <ActivitySwitch desk={desk} />
          <span class="who">Signed in as {desk.identity}</span>
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <p class="notice" role="status" aria-live="polite">
        {desk.notice}
      </p>
      <main class="app-main desk" aria-busy={desk.syncing ? "true" : "false"}>
        <div class="desk-side">
          <OfferList desk={desk} onAccept={accept} />
          <TaskList tasks={tasks} current={current?.task.sid ?? null} onSelect={setSelected} />
          <OutboundForm desk={desk} onStarted={(taskSid) => setSelected(taskSid)} />
        </div>
        <ConversationPanel desk={desk} held={current} />
      </main>
    </>
  );
}

render(<Desk />, document.getElementById("app")!);
