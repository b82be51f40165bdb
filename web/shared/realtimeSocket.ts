/**
 * The realtime WebSocket (`/ingress/ws`) of a browser app: authenticates with the first message (the token
 * stays out of URLs and logs), reconnects with backoff, and resumes from what the app last saw.
 */

export type SocketStatus = "connecting" | "online" | "offline";

export interface RealtimeMessage {
  type: string;
  conversation_sid?: string;
  [field: string]: unknown;
}

export interface RealtimeSocketOptions {
  /** Parley's origin, e.g. "http://127.0.0.1:8080". */
  baseUrl: string;
  /** The current token; may be a fresh one after `refresh`. */
  token: () => string;
  /** `resume_from` for the next connection: an index, or `CH…:n,CH…:m`; undefined for none. */
  resumeFrom?: () => string | undefined;
  /** Called when the server closed because the token expired; should renew it. */
  refresh?: () => Promise<boolean>;
  onMessage: (message: RealtimeMessage) => void;
  onStatus?: (status: SocketStatus) => void;
  /** The server refused the token: no point retrying. */
  onUnauthorized?: () => void;
  WebSocketImpl?: typeof WebSocket;
}

const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_EXPIRED = 4002;
const PING_EVERY_MS = 25_000;
const MAX_BACKOFF_MS = 5_000;

export function socketUrl(baseUrl: string, resumeFrom?: string): string {
  const url = new URL("/ingress/ws", baseUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (resumeFrom) {
    url.searchParams.set("resume_from", resumeFrom);
  }
  return url.toString();
}

export class RealtimeSocket {
  private socket: WebSocket | null = null;
  private stopped = false;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly options: RealtimeSocketOptions;

  constructor(options: RealtimeSocketOptions) {
    this.options = options;
  }

  start(): void {
    this.stopped = false;
    window.addEventListener("offline", this.wentOffline);
    window.addEventListener("online", this.cameOnline);
    if (navigator.onLine) {
      this.open();
    } else {
      this.options.onStatus?.("offline");
    }
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("offline", this.wentOffline);
    window.removeEventListener("online", this.cameOnline);
    this.drop();
  }

  /** Sends when connected; returns false when offline (typing and read receipts are then dropped). */
  send(message: RealtimeMessage): boolean {
    if (this.socket?.readyState !== 1) {
      return false;
    }
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** The browser knows it lost the network before the socket does: say so now, and wait for it to return. */
  private readonly wentOffline = () => {
    this.drop();
    this.options.onStatus?.("offline");
  };

  /** Gives the connection up: no retry, no ping, and a last frame it may still deliver is ignored. */
  private drop(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) {
      socket.close(1000);
    }
  }

  private readonly cameOnline = () => {
    if (!this.stopped && !this.socket) {
      clearTimeout(this.retryTimer);
      this.attempts = 0;
      this.open();
    }
  };

  private open(): void {
    this.options.onStatus?.("connecting");
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    const socket = new Impl(socketUrl(this.options.baseUrl, this.options.resumeFrom?.()));
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "auth", token: this.options.token() }));
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) {
        return; // a connection given up (offline, stopped) may still deliver a last frame: it is not ours
      }
      let message: RealtimeMessage;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.type === "connected") {
        this.attempts = 0;
        this.options.onStatus?.("online");
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
      }
      if (message.type !== "pong") {
        this.options.onMessage(message);
      }
    };
    socket.onclose = (event) => {
      clearInterval(this.pingTimer);
      if (this.socket !== socket || this.stopped) {
        return;
      }
      this.socket = null;
      this.options.onStatus?.("offline");
      if (event.code === CLOSE_UNAUTHORIZED) {
        this.options.onUnauthorized?.();
        return;
      }
      void this.retry(event.code === CLOSE_EXPIRED);
    };
  }

  private async retry(expired: boolean): Promise<void> {
    if (expired && this.options.refresh && !(await this.options.refresh())) {
      this.options.onUnauthorized?.();
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempts);
    this.attempts += 1;
    this.retryTimer = setTimeout(() => {
      if (!this.stopped && navigator.onLine) {
        this.open();
      }
    }, delay);
  }
}
