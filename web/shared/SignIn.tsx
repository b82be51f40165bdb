/** Signing in to the agent desktop and supervisor view: the form (email and password for an access token),
 * and the hook that keeps the token for the tab. */
import { useRef, useState } from "preact/hooks";

import { type AccessToken, requestAccessToken } from "./api";
import { clearToken, loadToken, saveToken } from "./session";

export interface Session {
  token: AccessToken | null;
  /** A token was issued (signing in) or renewed: keep it. */
  signedIn: (token: AccessToken) => void;
  signOut: () => void;
}

export function useSession(): Session {
  const [token, setToken] = useState<AccessToken | null>(() => loadToken());
  return {
    token,
    signedIn: (issued) => {
      saveToken(issued);
      setToken(issued);
    },
    signOut: () => {
      clearToken();
      setToken(null);
    },
  };
}

export interface SignInProps {
  title: string;
  onSignedIn: (token: AccessToken) => void;
}

export function SignIn({ title, onSignedIn }: SignInProps) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const emailInput = useRef<HTMLInputElement>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError("");
    const result = await requestAccessToken(email.trim(), password);
    setBusy(false);
    if (result.ok) {
      onSignedIn(result.data);
      return;
    }
    setPassword("");
    setError(result.message);
    emailInput.current?.focus();
  }

  return (
    <section class="card sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{title}</h1>
      {/* Always in the page, so screen readers announce the text when it changes. */}
      <div id="sign-in-error" class="alert" role="alert">
        {error}
      </div>
      <form onSubmit={submit} aria-describedby={error ? "sign-in-error" : undefined}>
        <div class="field">
          <label for="sign-in-email">Email</label>
          <input
            id="sign-in-email"
            ref={emailInput}
            name="email"
            type="email"
            autocomplete="username"
            required
            value={email}
            aria-invalid={error ? true : undefined}
            onInput={(event) => setEmail(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="sign-in-password">Password</label>
          <input
            id="sign-in-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            aria-invalid={error ? true : undefined}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </section>
  );
}
