/**
 * Parley's REST APIs called with an access token (`X-Twilio-Token`) instead of account credentials:
 * what a web-chat guest or a signed-in agent may do from the browser. Never throws for HTTP or network
 * failures: the caller gets the server's Twilio-style message.
 */
import { type ApiResult, formBody, requestJson } from "./api";

export interface TokenRequest {
  /** Parley's origin ("" for the page's own). */
  baseUrl?: string;
  token: string;
  fetchImpl?: typeof fetch;
}

type Body = Record<string, string | null | undefined> | Blob;

function call<T>(method: string, path: string, request: TokenRequest, body?: Body, query?: URLSearchParams): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: "application/json", "X-Twilio-Token": request.token };
  let payload: BodyInit | undefined;
  if (body instanceof Blob) {
    headers["Content-Type"] = body.type || "application/octet-stream";
    payload = body;
  } else if (body !== undefined) {
    payload = formBody(body);
  }
  const url = `${request.baseUrl ?? ""}${path}${query && [...query].length ? `?${query}` : ""}`;
  return requestJson<T>(url, { method, headers, body: payload }, request.fetchImpl);
}

export function getWithToken<T>(path: string, request: TokenRequest, query?: Record<string, string | string[]>): Promise<ApiResult<T>> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      params.append(name, one);
    }
  }
  return call<T>("GET", path, request, undefined, params);
}

export function postWithToken<T>(path: string, request: TokenRequest, body: Body, query?: Record<string, string>): Promise<ApiResult<T>> {
  return call<T>("POST", path, request, body, new URLSearchParams(query ?? {}));
}

/** A JSON body (Flex's Transfers take one). */
export function postJsonWithToken<T>(path: string, request: TokenRequest, body: unknown): Promise<ApiResult<T>> {
  const headers = { Accept: "application/json", "X-Twilio-Token": request.token, "Content-Type": "application/json" };
  return requestJson<T>(`${request.baseUrl ?? ""}${path}`, { method: "POST", headers, body: JSON.stringify(body) }, request.fetchImpl);
}

/** The claims of an access token that a browser app needs (Twilio's JWT format; not verified here). */
export interface TokenClaims {
  identity: string;
  accountSid: string;
  expiresAt: number;
  chatServiceSid: string | null;
  workspaceSid: string | null;
  workerSid: string | null;
  role: string | null;
}

export function readTokenClaims(token: string): TokenClaims | null {
  const part = token.split(".")[1];
  if (!part) {
    return null;
  }
  try {
    const json = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=")));
    const grants = json.grants ?? {};
    return {
      identity: String(grants.identity ?? ""),
      accountSid: String(json.sub ?? ""),
      expiresAt: Number(json.exp ?? 0),
      chatServiceSid: grants.chat?.service_sid ?? null,
      workspaceSid: grants.task_router?.workspace_sid ?? null,
      workerSid: grants.task_router?.worker_sid ?? null,
      role: grants.task_router?.role ?? null,
    };
  } catch {
    return null;
  }
}
