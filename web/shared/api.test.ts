import { describe, expect, it } from "vitest";

import { errorMessage, formBody, NETWORK_ERROR_MESSAGE, postForm, requestAccessToken } from "./api";

describe("formBody", () => {
  it("encodes fields as a form and leaves out empty ones", () => {
    const body = formBody({ Email: "ana@example.com", Password: "p+ss word", Ttl: "", WorkerSid: undefined });
    expect(body.toString()).toBe("Email=ana%40example.com&Password=p%2Bss+word");
  });
});

describe("errorMessage", () => {
  it("shows the server's Twilio-style message", () => {
    expect(errorMessage(401, { code: 20003, message: "Authenticate", status: 401 })).toBe("Authenticate");
  });

  it("falls back to the status when the body has no message", () => {
    expect(errorMessage(502, "<html>Bad gateway</html>")).toBe("The request failed (HTTP 502).");
    expect(errorMessage(500, { message: "   " })).toBe("The request failed (HTTP 500).");
  });

  it("speaks of the connection when nothing answered", () => {
    expect(errorMessage(0, null)).toBe(NETWORK_ERROR_MESSAGE);
  });
});

describe("postForm", () => {
  it("returns the server's error message without throwing", async () => {
    const fetchImpl = async () =>
      new Response(JSON.stringify({ code: 20003, message: "Wrong email or password", status: 401 }), {
        status: 401,
        headers: { "Content-Type": "application/json" },
      });
    const result = await requestAccessToken("AC00000000000000000000000000000001", "ana@example.com", "wrong", fetchImpl);
    expect(result).toEqual({ ok: false, status: 401, message: "Wrong email or password" });
  });

  it("sends the form and the token header", async () => {
    let seen: RequestInit | undefined;
    const fetchImpl = async (_url: RequestInfo | URL, init?: RequestInit) => {
      seen = init;
      return new Response(JSON.stringify({ sid: "XX1" }), { status: 201 });
    };
    const result = await postForm("/x", { A: "1" }, { token: "tok", fetchImpl });
    expect(result).toEqual({ ok: true, status: 201, data: { sid: "XX1" } });
    expect(seen?.method).toBe("POST");
    expect(String(seen?.body)).toBe("A=1");
    expect((seen?.headers as Record<string, string>)["X-Twilio-Token"]).toBe("tok");
  });

  it("reports an unreachable server", async () => {
    const fetchImpl = async () => {
      throw new TypeError("Failed to fetch");
    };
    expect(await postForm("/x", {}, { fetchImpl })).toEqual({ ok: false, status: 0, message: NETWORK_ERROR_MESSAGE });
  });
});
