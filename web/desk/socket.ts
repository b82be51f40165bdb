/**
 * The realtime WebSocket (`/ingress/ws`), kept open: reconnects with backoff, and with a fresh token
 * when the server closes it for expiry. Every (re)connection calls `onConnected`, where the desk
 * resyncs its whole state through REST, so events missed while away cost nothing.
 */

export interface SocketHandlers {
  /** The server's `connected` message: identity and the conversations this identity is in. */
  onConnected: (hello: Record<string, unknown>) => void;
  onMessage: (message: Record<string, unknown>) => void;
  onStatus: (status: "connecting" | "online" | "offline") => void;
}

const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_EXPIRED = 4002;
const MAX_BACKOFF_MS = 10_000;
const PING_EVERY_MS = 25_000;

export class DeskSocket {
  private ws: WebSocket | null = null;
  private attempts = 0;
  private stopped = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private ping: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly token: () => Promise<string | null>,
    private readonly handlers: SocketHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    void this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.ping);
    this.ws?.close(1000);
    this.ws = null;
  }

  send(message: Record<string, unknown>): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.ws.send(JSON.stringify(message));
    return true;
  }

  private async open(): Promise<void> {
    const token = await this.token();
    if (this.stopped || !token) {
      return;
    }
    this.handlers.onStatus("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ingress/ws`);
    this.ws = ws;
    // The token goes in the first message rather than the URL, so it stays out of access logs.
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
    ws.onmessage = (event) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.type === "connected") {
        this.attempts = 0;
        this.handlers.onStatus("online");
        clearInterval(this.ping);
        this.ping = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
        this.handlers.onConnected(message);
        return;
      }
      this.handlers.onMessage(message);
    };
    ws.onclose = (event) => {
      clearInterval(this.ping);
      if (this.ws !== ws || this.stopped) {
        return;
      }
      this.ws = null;
      this.handlers.onStatus("offline");
      // Expired or refused: the token source refreshes (or signs out); otherwise back off and retry.
      const quick = event.code === CLOSE_EXPIRED || (event.code === CLOSE_UNAUTHORIZED && this.attempts === 0);
      const delay = quick ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts);
      this.attempts += 1;
      this.retry = setTimeout(() => void this.open(), delay);
    };
  }
}
