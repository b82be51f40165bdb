import { describe, expect, it } from "vitest";

import { DEFAULT_FIELDS, readWidgetConfig, WidgetConfigError } from "./config";

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
