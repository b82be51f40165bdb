/** The widget's settings, read from its own <script> tag: `data-address-sid` and friends. */

export interface PreEngagementField {
  name: string;
  label: string;
  type: "text" | "email" | "textarea";
  autocomplete?: string;
  required: boolean;
}

export interface WidgetConfig {
  /** The IG… address configuration (type chat) that chats start on. */
  addressSid: string;
  /** Where Parley answers: the origin the widget script was loaded from. */
  baseUrl: string;
  title: string;
  launcherLabel: string;
  fields: PreEngagementField[];
}

export const DEFAULT_FIELDS: PreEngagementField[] = [
  { name: "friendlyName", label: "Your name", type: "text", autocomplete: "name", required: true },
  { name: "email", label: "Email", type: "email", autocomplete: "email", required: true },
  { name: "question", label: "How can we help?", type: "textarea", required: true },
];

const ADDRESS_SID = /^IG[0-9a-f]{32}$/;

export class WidgetConfigError extends Error {}

/**
 * Reads the script tag's data attributes. `scriptSrc` locates Parley (a business's page loads the
 * widget from Parley's own origin); `data-base-url` overrides it.
 */
export function readWidgetConfig(dataset: DOMStringMap, scriptSrc: string, pageUrl: string): WidgetConfig {
  const addressSid = (dataset.addressSid ?? "").trim();
  if (!ADDRESS_SID.test(addressSid)) {
    throw new WidgetConfigError(
      `Parley web chat: data-address-sid must be an IG… address SID (IG and 32 hex digits), not "${addressSid}"`,
    );
  }
  const base = dataset.baseUrl?.trim() || new URL(scriptSrc || pageUrl, pageUrl).origin;
  return {
    addressSid,
    baseUrl: base.replace(/\/+$/, ""),
    title: dataset.title?.trim() || "Chat with us",
    launcherLabel: dataset.launcherLabel?.trim() || "Chat with us",
    fields: DEFAULT_FIELDS,
  };
}
