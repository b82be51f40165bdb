/**
 * The desk's engine: holds the state (model.ts), keeps the socket open, resyncs through REST on every
 * (re)connect, and performs the agent's actions. The view subscribes and renders; it holds no logic.
 */
import { type AccessToken, type ApiResult, refreshAccessToken, refreshDelayMs } from "../shared/api";
import { mediaContentUrl } from "../shared/chatMessage";
import { RealtimeSocket } from "../shared/realtimeSocket";
import { readTokenClaims, type TokenClaims } from "../shared/tokenRest";
import {
  type AgentEvent,
  applyAgentEvent,
  type ChatMessage,
  channelOf,
  conversationOf,
  customerOf,
  type DeskState,
  EMPTY,
  type HeldTask,
  offerDeadline,
  parseAttributes,
  stepAwayActivity,
  type TaskInfo,
  taskFromRest,
  withChatService,
  withConversationState,
  withMessages,
  withOffer,
  withoutMessage,
  withoutOffer,
  withReadHorizon,
  withReceipt,
  withTask,
  withTyping,
} from "./model";
import { Rest } from "./rest";

/** How the desk names an offer to the agent: "Grace Hopper (Web chat)". */
function offerTitle(task: TaskInfo): string {
  return `${customerOf(task)} (${channelOf(task)})`;
}

export interface Activity {
  sid: string;
  friendly_name: string;
  available: boolean;
}

export interface Queue {
  sid: string;
  friendly_name: string;
}

/** Another agent, as the roster shows it (names and availability only: services/router/domain/token_policy.py). */
export interface Colleague {
  sid: string;
  friendly_name: string;
  activity_name: string;
  available: boolean;
}

export type Connection = "connecting" | "online" | "offline";

const TYPING_EVERY_MS = 2000;
const HISTORY_PAGE = "100";

export class DeskController {
  state: DeskState = EMPTY;
  activities: Activity[] = [];
  queues: Queue[] = [];
  /** The other agents of the workspace, for transfers and invites (fetched when the agent opens those). */
  colleagues: Colleague[] = [];
  connection: Connection = "connecting";
  /** A resync is under way (the view marks the desk aria-busy meanwhile). */
  syncing = false;
  notice = "";
  /** Media SID → its content's signed, expiring URL. */
  media: Record<string, string> = {};
  readonly grants: TokenClaims;
  readonly rest: Rest;
  private listeners = new Set<() => void>();
  private socket: RealtimeSocket;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private resyncRetry: ReturnType<typeof setTimeout> | undefined;
  private readonly workflowTimeouts: Record<string, number> = {};
  private lastTypingSent: Record<string, number> = {};
  private lastReadSent: Record<string, number> = {};
  private loadingMedia = new Set<string>();
  /** The conversations this identity is a participant of: only those can be read (the socket says which). */
  private memberOf = new Set<string>();
  /** Conversations I asked a warm transfer of, with my task there: I leave when the next agent joins. */
  private warmTransfers = new Map<string, string>();
  /** Outbound conversations' first messages, waiting for the agent to be in the conversation. */
  private firstMessages: Record<string, string> = {};

  constructor(
    private token: AccessToken,
    private readonly onToken: (token: AccessToken | null) => void,
  ) {
    this.grants = readTokenClaims(token.token) ?? {
      identity: token.identity,
      accountSid: token.account_sid,
      expiresAt: 0,
      chatServiceSid: null,
      workspaceSid: null,
      workerSid: null,
      role: null,
    };
    this.rest = new Rest(() => this.token.token);
    // Every (re)connection resyncs the whole state through REST, so events missed while away cost nothing.
    this.socket = new RealtimeSocket({
      baseUrl: location.origin,
      token: () => this.token.token,
      refresh: () => this.refresh(),
      onMessage: (message) => (message.type === "connected" ? this.onConnected(message) : this.onSocket(message)),
      onStatus: (status) => {
        this.connection = status;
        this.changed();
      },
      // Refused: a fresh token may get in (a failed refresh signs the agent out).
      onUnauthorized: () => void this.refresh().then((ok) => ok && this.socket.start()),
    });
  }

  get identity(): string {
    return this.grants.identity;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.scheduleRefresh();
    this.socket.start();
  }

  stop(): void {
    clearTimeout(this.refreshTimer);
    clearTimeout(this.resyncRetry);
    this.socket.stop();
  }

  private changed(): void {
    for (const listener of this.listeners) {
      listener();
    }
  }

  private set(state: DeskState): void {
    this.state = state;
    this.changed();
  }

  private say(notice: string): void {
    this.notice = notice;
    this.changed();
  }

  private get ws(): string {
    return `/taskrouter/v1/Workspaces/${this.grants.workspaceSid}`;
  }

  private get worker(): string {
    return `${this.ws}/Workers/${this.grants.workerSid}`;
  }

  // --- Token ---

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), refreshDelayMs(this.token, Date.now()));
  }

  async refresh(): Promise<boolean> {
    const result = await refreshAccessToken(this.token);
    if (!result.ok) {
      if (result.status === 401) {
        this.stop();
        this.onToken(null); // expired for good: sign in again
      } else {
        this.scheduleRefresh(); // the network or Parley is away for now: try again while the token lasts
      }
      return false;
    }
    this.token = result.data;
    this.onToken(this.token);
    this.scheduleRefresh();
    return true;
  }

  /** The server's `connected` message names the conversations this identity is in. */
  private onConnected(hello: Record<string, unknown>): void {
    this.memberOf = new Set((hello.conversations as string[] | undefined) ?? []);
    void this.resync();
  }

  // --- Resync: the whole state from REST ---

  async resync(): Promise<void> {
    if (!this.grants.workspaceSid || !this.grants.workerSid) {
      this.say("This sign-in has no TaskRouter worker: offers cannot reach you.");
      return;
    }
    this.syncing = true;
    this.changed();
    try {
      await this.resyncAll();
    } finally {
      this.syncing = false;
      this.changed();
    }
  }

  private async resyncAll(): Promise<void> {
    const [worker, activities, pending, accepted, wrapping] = await Promise.all([
      this.rest.get<Record<string, unknown>>(this.worker),
      this.rest.get<{ activities: Activity[] }>(`${this.ws}/Activities`, { PageSize: "50" }),
      this.reservations("pending"),
      this.reservations("accepted"),
      this.reservations("wrapping"),
    ]);
    if (activities.ok) {
      this.activities = activities.data.activities;
    }
    if (!worker.ok || !activities.ok) {
      // Parley busy or unreachable: try the whole resync again shortly rather than show a half-empty desk.
      clearTimeout(this.resyncRetry);
      this.resyncRetry = setTimeout(() => void this.resync(), 2000);
    }
    let state: DeskState = { ...this.state, offers: {}, tasks: {} };
    if (worker.ok) {
      state = { ...state, activitySid: String(worker.data.activity_sid), activityName: String(worker.data.activity_name) };
    }
    const tasks = await this.tasksOf([...pending, ...accepted, ...wrapping].map((r) => String(r.task_sid)));
    const timeouts = await this.reservationTimeouts(pending.map((r) => tasks[String(r.task_sid)].workflowSid));
    for (const reservation of pending) {
      const task = tasks[String(reservation.task_sid)];
      const expiresAt = offerDeadline(reservation, timeouts[task.workflowSid ?? ""]);
      state = withOffer(state, { reservationSid: String(reservation.sid), task, expiresAt });
    }
    for (const reservation of [...accepted, ...wrapping]) {
      const status = reservation.reservation_status === "wrapping" ? "wrapping" : "accepted";
      state = withTask(state, { reservationSid: String(reservation.sid), status, task: tasks[String(reservation.task_sid)] });
    }
    this.set(state);
    if (this.queues.length === 0) {
      const queues = await this.rest.get<{ task_queues: Queue[] }>(`${this.ws}/TaskQueues`, { PageSize: "100" });
      if (queues.ok) {
        this.queues = queues.data.task_queues;
      }
    }
    await Promise.all(Object.values(this.state.tasks).map((held) => this.loadConversationOf(held)));
  }

  private async reservations(status: string): Promise<Record<string, unknown>[]> {
    const result = await this.rest.get<{ reservations: Record<string, unknown>[] }>(`${this.worker}/Reservations`, {
      ReservationStatus: status,
      PageSize: "50",
    });
    return result.ok ? result.data.reservations : [];
  }

  /** Each workflow's `task_reservation_timeout` (seconds), read once per desk: what times an offer after a reload. */
  private async reservationTimeouts(workflowSids: (string | undefined)[]): Promise<Record<string, number>> {
    const unknown = [...new Set(workflowSids)].filter((sid): sid is string => !!sid && !(sid in this.workflowTimeouts));
    await Promise.all(
      unknown.map(async (sid) => {
        const result = await this.rest.get<Record<string, unknown>>(`${this.ws}/Workflows/${sid}`);
        if (result.ok && typeof result.data.task_reservation_timeout === "number") {
          this.workflowTimeouts[sid] = result.data.task_reservation_timeout;
        }
      }),
    );
    return this.workflowTimeouts;
  }

  private async tasksOf(sids: string[]): Promise<Record<string, TaskInfo>> {
    const found: Record<string, TaskInfo> = {};
    await Promise.all(
      [...new Set(sids)].map(async (sid) => {
        const result = await this.rest.get<Record<string, unknown>>(`${this.ws}/Tasks/${sid}`);
        found[sid] = result.ok ? taskFromRest(result.data) : { sid, attributes: {} };
      }),
    );
    return found;
  }

  /** History, read horizons and chat service of a task's conversation, once the agent is in it (accepting
   * adds the agent asynchronously: the socket's `participant.added` for the agent says when). */
  async loadConversationOf(held: HeldTask): Promise<void> {
    const sid = conversationOf(held.task);
    if (!sid || !this.memberOf.has(sid)) {
      return;
    }
    const base = `/conversations/v1/Conversations/${sid}`;
    const [conversation, messages, participants] = await Promise.all([
      this.rest.get<Record<string, unknown>>(base),
      this.rest.get<{ messages: ChatMessage[] }>(`${base}/Messages`, { Order: "desc", PageSize: HISTORY_PAGE }),
      this.rest.get<{ participants: Record<string, unknown>[] }>(`${base}/Participants`, { PageSize: "50" }),
    ]);
    let state = this.state;
    if (conversation.ok && typeof conversation.data.chat_service_sid === "string") {
      state = withChatService(state, sid, conversation.data.chat_service_sid);
    }
    if (conversation.ok && typeof conversation.data.state === "string") {
      state = withConversationState(state, sid, conversation.data.state);
    }
    if (messages.ok) {
      state = withMessages(state, sid, messages.data.messages);
    }
    if (participants.ok) {
      for (const participant of participants.data.participants) {
        const identity = participant.identity ?? participant.sid;
        if (typeof participant.last_read_message_index === "number") {
          state = withReadHorizon(state, sid, String(identity), participant.last_read_message_index);
        }
      }
    }
    this.set(state);
  }

  /** Screen readers hear of offers arriving and lapsing (the notice is a polite live region). */
  private announceOffer(type: string, before: DeskState, reservationSid: string): void {
    const offer = this.state.offers[reservationSid] ?? before.offers[reservationSid];
    if (!offer) {
      return;
    }
    const who = offerTitle(offer.task);
    if (type === "reservation.created") {
      this.say(`New offer: ${who}.`);
    } else if (type === "reservation.timeout") {
      this.say(`The offer from ${who} timed out.`);
    } else if (type === "reservation.rescinded" || type === "reservation.canceled") {
      this.say(`The offer from ${who} was withdrawn.`);
    }
  }

  private sendFirstMessage(conversationSid: string): void {
    const body = this.firstMessages[conversationSid];
    if (body !== undefined && this.memberOf.has(conversationSid)) {
      delete this.firstMessages[conversationSid];
      void this.send(conversationSid, body, null);
    }
  }

  private loadConversationsIn(conversationSid: string): void {
    for (const held of Object.values(this.state.tasks)) {
      if (conversationOf(held.task) === conversationSid) {
        void this.loadConversationOf(held);
      }
    }
  }

  // --- Live events ---

  private onSocket(message: Record<string, unknown>): void {
    const type = String(message.type);
    const conversationSid = message.conversation_sid as string | undefined;
    const resource = (message.resource ?? {}) as Record<string, unknown>;
    if (type.startsWith("reservation.") || type.startsWith("worker.")) {
      const before = this.state;
      this.set(applyAgentEvent(this.state, message as unknown as AgentEvent, Date.now()));
      this.announceOffer(type, before, String(resource.sid ?? ""));
      if (type === "reservation.accepted") {
        const task = this.state.tasks[String((message.task as Record<string, unknown>)?.sid)];
        if (task && !before.tasks[task.task.sid]) {
          void this.loadConversationOf(task);
        }
      }
      return;
    }
    if (type === "participant.added" && resource.identity === this.identity && conversationSid) {
      this.memberOf.add(conversationSid);
      this.loadConversationsIn(conversationSid);
      this.sendFirstMessage(conversationSid);
    } else if (type === "participant.removed" && resource.identity === this.identity && conversationSid) {
      this.memberOf.delete(conversationSid);
    } else if (type === "participant.added" && conversationSid && this.warmTransfers.has(conversationSid)
      && parseAttributes(resource.attributes).member_type === "agent") {
      const taskSid = this.warmTransfers.get(conversationSid)!;
      this.warmTransfers.delete(conversationSid);
      void this.complete(taskSid, `${String(resource.identity)} joined: you left the chat (warm transfer).`);
    }
    if (!conversationSid) {
      return;
    }
    switch (type) {
      case "message.added":
      case "message.updated":
        this.set(withMessages(this.state, conversationSid, [resource as unknown as ChatMessage]));
        return;
      case "conversation.updated":
        if (typeof resource.state === "string") {
          this.set(withConversationState(this.state, conversationSid, resource.state));
        }
        return;
      case "message.removed":
        this.set(withoutMessage(this.state, conversationSid, String(resource.sid)));
        return;
      case "delivery.updated":
        this.set(
          withReceipt(this.state, conversationSid, String(resource.message_sid), String(resource.participant_sid), String(resource.status)),
        );
        return;
      case "typing":
        this.set(withTyping(this.state, conversationSid, String(message.identity), Date.now()));
        setTimeout(() => this.changed(), 5100); // let the indicator go
        return;
      case "read_horizon":
        this.set(withReadHorizon(this.state, conversationSid, String(message.identity), Number(message.last_read_message_index)));
        return;
      default:
        return;
    }
  }

  // --- The agent's actions ---

  async setActivity(activitySid: string): Promise<void> {
    const result = await this.rest.post<Record<string, unknown>>(this.worker, { ActivitySid: activitySid });
    if (!result.ok) {
      this.say(result.message);
      return;
    }
    this.set({ ...this.state, activitySid: String(result.data.activity_sid), activityName: String(result.data.activity_name) });
    this.say(`You are now ${result.data.activity_name}.`);
  }

  private async updateReservation(
    reservationSid: string,
    status: string,
    extra: Record<string, string> = {},
  ): Promise<ApiResult<Record<string, unknown>>> {
    return this.rest.post<Record<string, unknown>>(`${this.worker}/Reservations/${reservationSid}`, { ReservationStatus: status, ...extra });
  }

  async accept(reservationSid: string): Promise<boolean> {
    const offer = this.state.offers[reservationSid];
    const result = await this.updateReservation(reservationSid, "accepted");
    if (!result.ok) {
      // The offer ended before the click reached Parley (another agent took it, the task was canceled, it
      // lapsed) and the news is still on its way: say so in the agent's words, not the API's.
      const ended = offer && (result.status === 400 || result.status === 404);
      this.say(ended ? `The offer from ${offerTitle(offer.task)} is no longer available.` : result.message);
      this.set(withoutOffer(this.state, reservationSid));
      return false;
    }
    if (offer) {
      const held: HeldTask = { reservationSid, status: "accepted", task: offer.task };
      this.set(withTask(this.state, held));
      void this.loadConversationOf(held);
    }
    return true;
  }

  /** Reject an offer. TaskRouter may offer the same task again at once while the agent stays available, so
   * `stepAway` also moves them to an unavailable activity in the same request (the reject's WorkerActivitySid). */
  async reject(reservationSid: string, { stepAway = false }: { stepAway?: boolean } = {}): Promise<void> {
    const away = stepAway ? stepAwayActivity(this.activities) : null;
    const result = await this.updateReservation(reservationSid, "rejected", away ? { WorkerActivitySid: away.sid } : {});
    if (!result.ok) {
      this.say(result.message);
    } else if (away) {
      this.set({ ...this.state, activitySid: away.sid, activityName: away.friendly_name });
      this.say(`You are now ${away.friendly_name}.`);
    }
    this.set(withoutOffer(this.state, reservationSid));
  }

  /** Typing: at most one indicator every two seconds per conversation. */
  typing(conversationSid: string): void {
    const now = Date.now();
    if (now - (this.lastTypingSent[conversationSid] ?? 0) < TYPING_EVERY_MS) {
      return;
    }
    if (this.socket.send({ type: "typing", conversation_sid: conversationSid })) {
      this.lastTypingSent[conversationSid] = now;
    }
  }

  /** The agent has seen the conversation up to its last message. */
  markRead(conversationSid: string): void {
    const messages = this.state.conversations[conversationSid]?.messages ?? [];
    const last = messages.at(-1)?.index;
    if (last === undefined || (this.lastReadSent[conversationSid] ?? -1) >= last) {
      return;
    }
    if (this.socket.send({ type: "read", conversation_sid: conversationSid, index: last })) {
      this.lastReadSent[conversationSid] = last;
    }
  }

  async send(conversationSid: string, body: string, file: File | null): Promise<boolean> {
    let mediaSid: string | undefined;
    if (file) {
      const service = this.state.conversations[conversationSid]?.chatServiceSid ?? this.grants.chatServiceSid;
      if (!service) {
        this.say("Attachments need the conversation's chat service; reload and try again.");
        return false;
      }
      const filename = encodeURIComponent(file.name);
      const uploaded = await this.rest.upload<{ sid: string }>(`/mcs/v1/Services/${service}/Media?Filename=${filename}`, file);
      if (!uploaded.ok) {
        this.say(uploaded.message);
        return false;
      }
      mediaSid = uploaded.data.sid;
    }
    const posted = await this.rest.post<ChatMessage>(`/conversations/v1/Conversations/${conversationSid}/Messages`, {
      Author: this.identity,
      Body: body,
      MediaSid: mediaSid,
    });
    if (!posted.ok) {
      this.say(posted.message);
      return false;
    }
    this.set(withMessages(this.state, conversationSid, [posted.data]));
    return true;
  }

  /** A link to a message's media (a signed, expiring URL from MCS), fetched once. */
  async mediaLink(serviceSid: string, mediaSid: string): Promise<void> {
    if (this.media[mediaSid] || this.loadingMedia.has(mediaSid)) {
      return;
    }
    this.loadingMedia.add(mediaSid);
    const url = await mediaContentUrl(serviceSid, mediaSid, { token: this.token.token });
    this.loadingMedia.delete(mediaSid);
    if (url) {
      this.media = { ...this.media, [mediaSid]: url };
      this.changed();
    }
  }

  // --- Flex: wrap-up, complete, transfer, invite, outbound ---

  private channelUrl(task: TaskInfo): string | null {
    const interaction = task.attributes.flexInteractionSid;
    const channel = task.attributes.flexInteractionChannelSid;
    if (typeof interaction !== "string" || typeof channel !== "string") {
      return null;
    }
    return `/flex-api/v1/Interactions/${interaction}/Channels/${channel}`;
  }

  /** My participant in the task's interaction channel (the agent participant with my reservation), and
   * whether another agent is still active in it (then ending the chat is not mine alone to do). A channel
   * participant carries no status in Twilio's shape: another agent is still in while their task of the
   * channel (its routing properties name it) is assigned, not yet wrapping or completed. */
  private async channelParticipants(held: HeldTask): Promise<{ mine: string | null; othersActive: boolean }> {
    const url = this.channelUrl(held.task);
    if (!url) {
      return { mine: null, othersActive: false };
    }
    const found = await this.rest.get<{ participants: Record<string, unknown>[] }>(`${url}/Participants`, { PageSize: "50" });
    if (!found.ok) {
      this.say(found.message);
      return { mine: null, othersActive: false };
    }
    const agents = found.data.participants.filter((participant) => participant.type === "agent");
    const isMine = (participant: Record<string, unknown>) => {
      const routing = (participant.routing_properties ?? {}) as Record<string, unknown>;
      return routing.reservation_sid === held.reservationSid || routing.worker_sid === this.grants.workerSid;
    };
    const mine = agents.find(isMine);
    const othersTasks = agents
      .filter((participant) => !isMine(participant))
      .map((participant) => ((participant.routing_properties ?? {}) as Record<string, unknown>).task_sid)
      .filter((sid): sid is string => typeof sid === "string");
    const statuses = await Promise.all(
      othersTasks.map(async (sid) => {
        const task = await this.rest.get<Record<string, unknown>>(`${this.ws}/Tasks/${sid}`);
        return task.ok ? String(task.data.assignment_status) : null;
      }),
    );
    return { mine: mine ? String(mine.sid) : null, othersActive: statuses.includes("assigned") };
  }

  private async myChannelParticipant(held: HeldTask): Promise<string | null> {
    return (await this.channelParticipants(held)).mine;
  }

  /** "ended": the chat is over for everyone; "left": the others go on without me; null: it failed (said). */
  private async leaveChannel(held: HeldTask, status: "wrapup" | "closed"): Promise<"ended" | "left" | null> {
    const url = this.channelUrl(held.task);
    const { mine, othersActive } = url ? await this.channelParticipants(held) : { mine: null, othersActive: false };
    if (url && mine) {
      // The last agent still in ends the chat (Flex's "End chat") by wrapping up or by completing straight
      // away: the channel closes, so do the conversation and the customer's side of it. With another agent
      // still in, I only leave: my participant wraps up, or closes, and the chat goes on with them.
      const ending = !othersActive && (status === "wrapup" || held.status === "accepted");
      if (ending) {
        const closed = await this.rest.post<Record<string, unknown>>(url, { Status: "closed" });
        if (!closed.ok) {
          this.say(closed.message);
          return null;
        }
        if (status === "wrapup") {
          return "ended";
        }
      }
      const result = await this.rest.post<Record<string, unknown>>(`${url}/Participants/${mine}`, { Status: status });
      if (!result.ok) {
        this.say(result.message);
        return null;
      }
      return ending ? "ended" : "left";
    }
    // Not a Flex interaction: the reservation itself moves.
    const result = await this.updateReservation(held.reservationSid, status === "wrapup" ? "wrapping" : "completed");
    if (!result.ok) {
      this.say(result.message);
      return null;
    }
    return "ended";
  }

  async wrapUp(taskSid: string): Promise<void> {
    const held = this.state.tasks[taskSid];
    const outcome = held && (await this.leaveChannel(held, "wrapup"));
    if (held && outcome) {
      this.set(withTask(this.state, { ...held, status: "wrapping" }));
      this.say(outcome === "ended" ? "Chat ended: wrap up, then complete the task." : "You left the chat: wrap up, then complete the task.");
    }
  }

  async complete(taskSid: string, notice = "Task completed."): Promise<void> {
    const held = this.state.tasks[taskSid];
    if (held && (await this.leaveChannel(held, "closed"))) {
      this.set({ ...this.state, tasks: Object.fromEntries(Object.entries(this.state.tasks).filter(([sid]) => sid !== taskSid)) });
      this.say(notice);
    }
  }

  /** The workspace's other agents with their availability, freshly read (they change activity all day). */
  async loadColleagues(): Promise<void> {
    const result = await this.rest.get<{ workers: Colleague[] }>(`${this.ws}/Workers`, { PageSize: "200" });
    if (!result.ok) {
      this.say(result.message);
      return;
    }
    this.colleagues = result.data.workers
      .filter((worker) => worker.sid !== this.grants.workerSid)
      .sort((a, b) => Number(b.available) - Number(a.available) || a.friendly_name.localeCompare(b.friendly_name));
    this.changed();
  }

  /** To an agent (WK…) or a queue (WQ…). */
  async transfer(taskSid: string, to: string, kind: "cold" | "warm"): Promise<boolean> {
    const held = this.state.tasks[taskSid];
    const url = held && this.channelUrl(held.task);
    const participant = held && (await this.myChannelParticipant(held));
    if (!url || !participant) {
      this.say("Only conversations routed as Flex interactions can be transferred.");
      return false;
    }
    const result = await this.rest.postJson<Record<string, unknown>>(`${url}/Transfers`, { from: participant, to, type: kind });
    this.say(result.ok ? `Transfer requested (${kind}).` : result.message);
    const conversationSid = conversationOf(held.task);
    if (result.ok && kind === "warm" && conversationSid) {
      // Twilio's warm transfer keeps both agents in; the desk's promise is "stay until the next agent joins".
      this.warmTransfers.set(conversationSid, taskSid);
    }
    return result.ok;
  }

  /** A second agent: a named one (WK…), the next one of a queue (WQ…), or through the task's workflow (""). */
  async invite(taskSid: string, target: string): Promise<boolean> {
    const held = this.state.tasks[taskSid];
    const url = held && this.channelUrl(held.task);
    if (!url) {
      this.say("Only conversations routed as Flex interactions can take a second agent.");
      return false;
    }
    const properties: Record<string, unknown> = {
      workspace_sid: this.grants.workspaceSid,
      task_channel_unique_name: held.task.channelUniqueName ?? "chat",
      attributes: { invitedBy: this.identity },
    };
    if (target.startsWith("WK")) {
      // Straight to that agent, through the task's queue (Flex routes a worker_sid without the workflow).
      properties.worker_sid = target;
      properties.queue_sid = held.task.queueSid;
    } else {
      if (held.task.workflowSid) {
        properties.workflow_sid = held.task.workflowSid;
      }
      if (target) {
        properties.queue_sid = target;
      }
    }
    const result = await this.rest.post<Record<string, unknown>>(`${url}/Invites`, { Routing: JSON.stringify({ properties }) });
    const named = target.startsWith("WK") ? this.colleagues.find((colleague) => colleague.sid === target) : undefined;
    const sent = named ? `Invitation sent to ${named.friendly_name}.` : "Invitation sent: the next available agent joins.";
    this.say(result.ok ? sent : result.message);
    return result.ok;
  }

  /** An agent-initiated SMS/WhatsApp conversation (Flex Interactions); answers the new task's SID. */
  async startOutbound(channel: "sms" | "whatsapp", to: string, from: string, queueSid: string, body: string): Promise<string | null> {
    const prefix = channel === "whatsapp" ? "whatsapp:" : "";
    const address = (value: string) => (value.startsWith(prefix) ? value : prefix + value);
    const created = await this.rest.post<Record<string, unknown>>("/flex-api/v1/Interactions", {
      Channel: JSON.stringify({
        type: channel,
        initiated_by: "agent",
        participants: [{ address: address(to), proxy_address: address(from) }],
      }),
      Routing: JSON.stringify({
        properties: {
          workspace_sid: this.grants.workspaceSid,
          worker_sid: this.grants.workerSid,
          queue_sid: queueSid,
          task_channel_unique_name: "chat",
          attributes: { customerAddress: address(to), from: address(to) },
        },
      }),
    });
    if (!created.ok) {
      this.say(created.message);
      return null;
    }
    const routing = (created.data.routing ?? {}) as { properties?: Record<string, unknown> };
    const task = routing.properties ? taskFromRest(routing.properties) : null;
    const conversationSid = task && conversationOf(task);
    if (task) {
      const reservations = await this.reservations("accepted");
      const mine = reservations.find((reservation) => reservation.task_sid === task.sid);
      const held: HeldTask = { reservationSid: String(mine?.sid ?? ""), status: "accepted", task };
      this.set(withTask(this.state, held));
      await this.loadConversationOf(held);
    }
    if (conversationSid && body.trim()) {
      // Parley adds the agent to the new conversation asynchronously: the first message waits for that.
      this.firstMessages[conversationSid] = body.trim();
      this.sendFirstMessage(conversationSid);
    }
    this.say("Conversation started.");
    return task?.sid ?? null;
  }
}
