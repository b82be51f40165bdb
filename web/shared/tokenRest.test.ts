import { describe, expect, it } from "vitest";

import { socketUrl } from "./realtimeSocket";
import { getWithToken, postWithToken, readTokenClaims } from "./tokenRest";

function jwt(payload: object): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(payload)}.signature`;
}

describe("readTokenClaims", () => {
  it("reads the grants a browser app needs from Twilio's token format", () => {
    const token = jwt({
      sub: "AC1",
      exp: 1_900_000_000,
      grants: {
        identity: "sam",
        chat: { service_sid: "IS1" },
        task_router: { workspace_sid: "WS1", worker_sid: "WK1", role: "supervisor" },
      },
    });
    expect(readTokenClaims(token)).toEqual({
      identity: "sam",
      accountSid: "AC1",
      expiresAt: 1_900_000_000,
      chatServiceSid: "IS1",
      workspaceSid: "WS1",
      workerSid: "WK1",
      role: "supervisor",
    });
    expect(readTokenClaims(jwt({ sub: "AC1", grants: { identity: "guest-1", chat: {} } }))?.role).toBeNull();
    expect(readTokenClaims("not a token")).toBeNull();
  });
});

describe("token REST calls", () => {
  it("send the token header, form or raw bodies, and query parameters", async () => {
    const seen: { url: string; init?: RequestInit }[] = [];
    const fetchImpl = async (url: RequestInfo | URL, init?: RequestInit) => {
      seen.push({ url: String(url), init });
      return new Response(JSON.stringify({ sid: "ME1" }), { status: 201 });
    };
    const request = { baseUrl: "http://parley", token: "tok", fetchImpl };
    await getWithToken("/x", request, { AssignmentStatus: ["assigned", "wrapping"], PageSize: "5" });
    await postWithToken("/y", request, { Body: "hi", MediaSid: undefined });
    await postWithToken("/z", request, new Blob(["png"], { type: "image/png" }), { Filename: "a.png" });
    expect(seen.map((call) => call.url)).toEqual([
      "http://parley/x?AssignmentStatus=assigned&AssignmentStatus=wrapping&PageSize=5",
      "http://parley/y",
      "http://parley/z?Filename=a.png",
    ]);
    expect((seen[0].init?.headers as Record<string, string>)["X-Twilio-Token"]).toBe("tok");
    expect(String(seen[1].init?.body)).toBe("Body=hi");
    expect((seen[2].init?.headers as Record<string, string>)["Content-Type"]).toBe("image/png");
  });

  it("give the server's message back on failure", async () => {
    const fetchImpl = async () =>
      new Response(JSON.stringify({ code: 20404, message: "Conversation CH1 was not found", status: 404 }), { status: 404 });
    expect(await getWithToken("/x", { token: "t", fetchImpl })).toEqual({
      ok: false,
      status: 404,
      message: "Conversation CH1 was not found",
    });
  });
});

describe("socketUrl", () => {
  it("speaks ws or wss as the page does and carries resume_from", () => {
    expect(socketUrl("http://127.0.0.1:8080")).toBe("ws://127.0.0.1:8080/ingress/ws");
    expect(socketUrl("https://chat.example.com", "CH1:4")).toBe("wss://chat.example.com/ingress/ws?resume_from=CH1%3A4");
  });
});
