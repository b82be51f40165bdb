import { describe, expect, it } from "vitest";

import { accountFromLink } from "./SignIn";

describe("accountFromLink", () => {
  it("reads the account a sign-in link names", () => {
    expect(accountFromLink("?account=AC0123456789abcdef0123456789abcdef")).toBe("AC0123456789abcdef0123456789abcdef");
    expect(accountFromLink("?x=1&account=%20AC1%20")).toBe("AC1");
  });

  it("is empty when the link names none", () => {
    expect(accountFromLink("")).toBe("");
    expect(accountFromLink("?desk=1")).toBe("");
  });
});
