import { describe, expect, it } from "vitest";

import { DEFAULT_FIELDS, readFields, readWidgetConfig, WidgetConfigError } from "./config";

const SID = "IG0123456789abcdef0123456789abcdef";

describe("readWidgetConfig", () => {
  it("takes the address SID and Parley's origin from the script tag", () => {
    const config = readWidgetConfig({ addressSid: SID }, "https://parley.example.com/webchat/widget.js", "https://shop.example/");
    expect(config).toEqual({
      addressSid: SID,
      baseUrl: "https://parley.example.com",
      title: "Chat with us",
      launcherLabel: "Chat with us",
      fields: DEFAULT_FIELDS,
    });
  });

  it("lets data-base-url and the labels be set", () => {
    const config = readWidgetConfig(
      { addressSid: SID, baseUrl: "https://chat.example.com/", title: "Support", launcherLabel: "Help" },
      "/webchat/widget.js",
      "http://127.0.0.1:8080/webchat/",
    );
    expect(config.baseUrl).toBe("https://chat.example.com");
    expect(config.title).toBe("Support");
    expect(config.launcherLabel).toBe("Help");
  });

  it("resolves a relative script address against the page", () => {
    expect(readWidgetConfig({ addressSid: SID }, "/webchat/widget.js", "http://127.0.0.1:8080/webchat/").baseUrl).toBe(
      "http://127.0.0.1:8080",
    );
  });

  it("refuses a missing or malformed address SID", () => {
    expect(() => readWidgetConfig({}, "/webchat/widget.js", "http://localhost/")).toThrow(WidgetConfigError);
    expect(() => readWidgetConfig({ addressSid: "IG123" }, "/webchat/widget.js", "http://localhost/")).toThrow(
      /data-address-sid/,
    );
  });
});

describe("readFields", () => {
  it("takes the pre-engagement form from data-fields", () => {
    const fields = readFields(
      JSON.stringify([
        { name: "friendlyName", label: "Name" },
        { name: "order", label: "Order number", required: false },
        { name: "question", label: "Question", type: "textarea" },
      ]),
    );
    expect(fields).toEqual([
      { name: "friendlyName", label: "Name", type: "text", required: true },
      { name: "order", label: "Order number", type: "text", required: false },
      { name: "question", label: "Question", type: "textarea", required: true },
    ]);
    expect(readFields(undefined)).toBe(DEFAULT_FIELDS);
  });

  it("refuses fields it could not draw", () => {
    expect(() => readFields("{")).toThrow(WidgetConfigError);
    expect(() => readFields("[]")).toThrow(WidgetConfigError);
    expect(() => readFields(JSON.stringify([{ name: "a b", label: "x" }]))).toThrow(/data-fields/);
    expect(() => readFields(JSON.stringify([{ name: "a", label: "A", type: "select" }]))).toThrow(/data-fields/);
  });
});
