/** The agent desktop (/desk/): sign-in for now; offers, tasks and conversations come next. */
import "../shared/base.css";

import { render } from "preact";
import { useState } from "preact/hooks";

import type { AccessToken } from "../shared/api";
import { clearToken, loadToken, saveToken } from "../shared/session";
import { SignIn } from "../shared/SignIn";

function Desk() {
  const [token, setToken] = useState<AccessToken | null>(() => loadToken());

  function signedIn(issued: AccessToken) {
    saveToken(issued);
    setToken(issued);
  }

  function signOut() {
    clearToken();
    setToken(null);
  }

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
          <section class="card" aria-labelledby="work-title">
            <h1 id="work-title">Your work</h1>
            <p>No offers or tasks right now.</p>
          </section>
        ) : (
          <SignIn title="Sign in to the agent desktop" onSignedIn={signedIn} />
        )}
      </main>
    </>
  );
}

render(<Desk />, document.getElementById("app")!);
