/**
 * The desk's REST calls, authenticated by the agent's current access token (`X-Twilio-Token`), never by
 * account credentials (shared/tokenRest.ts). Each answers an ApiResult and never throws.
 */
import type { ApiResult } from "../shared/api";
import { getWithToken, postJsonWithToken, postWithToken, type TokenRequest } from "../shared/tokenRest";

export class Rest {
  constructor(
    private readonly token: () => string,
    private readonly fetchImpl?: typeof fetch,
  ) {}

  private get request(): TokenRequest {
    return { token: this.token(), fetchImpl: this.fetchImpl };
  }

  get<T>(path: string, query: Record<string, string> = {}): Promise<ApiResult<T>> {
    return getWithToken<T>(path, this.request, query);
  }

  post<T>(path: string, fields: Record<string, string | null | undefined>): Promise<ApiResult<T>> {
    return postWithToken<T>(path, this.request, fields);
  }

  postJson<T>(path: string, body: unknown): Promise<ApiResult<T>> {
    return postJsonWithToken<T>(path, this.request, body);
  }

  /** A file as the raw body (MCS media upload), typed by the file itself. */
  upload<T>(path: string, file: Blob): Promise<ApiResult<T>> {
    return postWithToken<T>(path, this.request, file);
  }
}
