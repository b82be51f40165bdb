/** Talking to Parley's HTTP API from the browser: form-encoded requests, Twilio-style error bodies. */

/** The error body every Parley API answers with (Twilio's shape). */
export interface TwilioErrorBody {
  code?: number;
  message?: string;
  more_info?: string;
  status?: number;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; message: string };

export const NETWORK_ERROR_MESSAGE = "Parley could not be reached. Check your connection and try again.";

/** Twilio's APIs take form bodies: empty and missing fields are left out. */
export function formBody(fields: Record<string, string | null | undefined>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== "") {
      body.append(name, value);
    }
  }
  return body;
}

/** What to tell a person about a failed request: the server's own message when it sent one. */
export function errorMessage(status: number, body: unknown): string {
  if (typeof body === "object" && body !== null) {
    const { message } = body as TwilioErrorBody;
    if (typeof message === "string" && message.trim() !== "") {
      return message.trim();
    }
  }
  if (status === 0) {
    return NETWORK_ERROR_MESSAGE;
  }
  return `The request failed (HTTP ${status}).`;
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** Sends a request and reads the JSON answer; never throws for HTTP or network failures. */
export async function requestJson<T>(url: string, init: RequestInit, fetchImpl: typeof fetch = fetch): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetchImpl(url, init);
  } catch {
    return { ok: false, status: 0, message: NETWORK_ERROR_MESSAGE };
  }
  const body = await readJson(response);
  if (!response.ok) {
    return { ok: false, status: response.status, message: errorMessage(response.status, body) };
  }
  return { ok: true, status: response.status, data: body as T };
}

/** POST a form and read the JSON answer; never throws for HTTP or network failures. */
export function postForm<T>(
  url: string,
  fields: Record<string, string | null | undefined>,
  options: { token?: string; fetchImpl?: typeof fetch } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.token) {
    headers["X-Twilio-Token"] = options.token;
  }
  return requestJson<T>(url, { method: "POST", headers, body: formBody(fields) }, options.fetchImpl);
}

/** `POST /parley/v1/AccessTokens`'s answer (see shared/API.md, "Agents and access tokens"). */
export interface AccessToken {
  token: string;
  identity: string;
  account_sid: string;
  agent_sid: string | null;
  ttl: number;
  date_expires: string;
}

export const ACCESS_TOKENS_URL = "/parley/v1/AccessTokens";

/** Signing in: emails are unique per account only, so the agent names its account too. */
export function requestAccessToken(
  accountSid: string,
  email: string,
  password: string,
  fetchImpl?: typeof fetch,
): Promise<ApiResult<AccessToken>> {
  const fields = { AccountSid: accountSid, Email: email, Password: password };
  return postForm<AccessToken>(ACCESS_TOKENS_URL, fields, { fetchImpl });
}

/** A fresh token for the same agent, asked with its still valid one (no password; docs/auth.md). */
export async function refreshAccessToken(current: AccessToken, fetchImpl?: typeof fetch): Promise<ApiResult<AccessToken>> {
  const ttl = current.ttl ? String(current.ttl) : undefined;
  const fresh = await postForm<AccessToken>(ACCESS_TOKENS_URL, { Ttl: ttl }, { token: current.token, fetchImpl });
  return fresh.ok ? { ...fresh, data: { ...fresh.data, agent_sid: current.agent_sid } } : fresh;
}

/** When to refresh a token: at four fifths of what is left, at least a minute ahead, never sooner than 5 s. */
export function refreshDelayMs(token: AccessToken, now: number): number {
  const left = Date.parse(token.date_expires) - now;
  return Math.max(5_000, Math.min(left * 0.8, left - 60_000));
}
