/**
 * The desk's REST calls, authenticated by the agent's access token (`X-Twilio-Token`), never by account
 * credentials. Each answers an ApiResult and never throws.
 */
import { type ApiResult, errorMessage, formBody, NETWORK_ERROR_MESSAGE } from "../shared/api";

export type TokenSource = () => string;

export class Rest {
  constructor(
    private readonly token: TokenSource,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  get<T>(path: string, query: Record<string, string> = {}): Promise<ApiResult<T>> {
    const search = new URLSearchParams(query).toString();
    return this.send<T>(search ? `${path}?${search}` : path, { method: "GET" });
  }

  post<T>(path: string, fields: Record<string, string | null | undefined>): Promise<ApiResult<T>> {
    return this.send<T>(path, { method: "POST", body: formBody(fields) });
  }

  postJson<T>(path: string, body: unknown): Promise<ApiResult<T>> {
    return this.send<T>(path, { method: "POST", body: JSON.stringify(body) }, { "Content-Type": "application/json" });
  }

  /** A file as the raw body (MCS media upload). */
  upload<T>(path: string, file: Blob, contentType: string): Promise<ApiResult<T>> {
    return this.send<T>(path, { method: "POST", body: file }, { "Content-Type": contentType });
  }

  private async send<T>(url: string, init: RequestInit, extra: Record<string, string> = {}): Promise<ApiResult<T>> {
    const headers = { Accept: "application/json", "X-Twilio-Token": this.token(), ...extra };
    let response: Response;
    try {
      response = await this.fetchImpl(url, { ...init, headers });
    } catch {
      return { ok: false, status: 0, message: NETWORK_ERROR_MESSAGE };
    }
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      return { ok: false, status: response.status, message: errorMessage(response.status, body) };
    }
    return { ok: true, status: response.status, data: body as T };
  }
}

/** The grants of an access token (its payload; the server checks the signature, the desk only reads). */
export interface Grants {
  identity: string;
  workspaceSid: string | null;
  workerSid: string | null;
  chatServiceSid: string | null;
  expiresAt: number;
}

export function readGrants(token: string): Grants | null {
  const part = token.split(".")[1];
  if (!part) {
    return null;
  }
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const payload = JSON.parse(json) as { exp?: number; grants?: Record<string, unknown> };
    const grants = payload.grants ?? {};
    const taskRouter = (grants.task_router ?? {}) as Record<string, unknown>;
    const chat = (grants.chat ?? {}) as Record<string, unknown>;
    return {
      identity: String(grants.identity ?? ""),
      workspaceSid: typeof taskRouter.workspace_sid === "string" ? taskRouter.workspace_sid : null,
      workerSid: typeof taskRouter.worker_sid === "string" ? taskRouter.worker_sid : null,
      chatServiceSid: typeof chat.service_sid === "string" ? chat.service_sid : null,
      expiresAt: Number(payload.exp ?? 0) * 1000,
    };
  } catch {
    return null;
  }
}
