/** Signing in to the agent desktop and supervisor view: the form (account, email and password for an access
 * token), and the hook that keeps the token for the tab. Emails are unique per account only, so the agent names
 * its account; a link `…/desk/?account=AC…` fills it in. */
import type { JSX, Ref } from "preact";
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

/** The account a sign-in link names (`?account=AC…`), so agents given that link type only email and password. */
export function accountFromLink(search: string): string {
  return (new URLSearchParams(search).get("account") ?? "").trim();
}

type FieldProps = {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  invalid: boolean;
  inputRef?: Ref<HTMLInputElement>;
} & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "id" | "value" | "onInput" | "ref">;

/** A required, labelled input of the sign-in form. */
function Field({ id, label, value, onValue, invalid, inputRef, ...input }: FieldProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        {...input}
        id={id}
        ref={inputRef}
        required
        value={value}
        aria-invalid={invalid ? true : undefined}
        onInput={(event) => onValue(event.currentTarget.value)}
      />
    </div>
  );
}

export function SignIn({ title, onSignedIn }: SignInProps) {
  const [account, setAccount] = useState(() => accountFromLink(window.location.search));
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const emailInput = useRef<HTMLInputElement>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError("");
    const result = await requestAccessToken(account.trim(), email.trim(), password);
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
        <Field
          id="sign-in-account"
          label="Account SID"
          value={account}
          onValue={setAccount}
          invalid={!!error}
          name="account"
          type="text"
          autocomplete="organization"
          spellcheck={false}
          placeholder="AC…"
          pattern="AC[0-9a-f]{32}"
          title="Your account's SID: AC followed by 32 lowercase hexadecimal digits"
        />
        <Field
          id="sign-in-email"
          label="Email"
          value={email}
          onValue={setEmail}
          invalid={!!error}
          inputRef={emailInput}
          name="email"
          type="email"
          autocomplete="username"
        />
        <Field
          id="sign-in-password"
          label="Password"
          value={password}
          onValue={setPassword}
          invalid={!!error}
          name="password"
          type="password"
          autocomplete="current-password"
        />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </section>
  );
}
