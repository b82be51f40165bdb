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
const FIELD_TYPES = ["text", "email", "textarea"] as const;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * `data-fields`: the pre-engagement form as a JSON array of `{name, label, type?, required?, autocomplete?}`
 * (type text, email or textarea; required by default). A `question` field's answer becomes the first message.
 */
export function readFields(raw: string | undefined): PreEngagementField[] {
  if (!raw?.trim()) {
    return DEFAULT_FIELDS;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new WidgetConfigError("Parley web chat: data-fields must be a JSON array of fields");
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new WidgetConfigError("Parley web chat: data-fields must be a non-empty JSON array of fields");
  }
  return parsed.map((entry) => {
    const field = (entry ?? {}) as Record<string, unknown>;
    const type = (field.type ?? "text") as PreEngagementField["type"];
    if (typeof field.name !== "string" || !FIELD_NAME.test(field.name) || typeof field.label !== "string" ||
        !field.label.trim() || !FIELD_TYPES.includes(type)) {
      throw new WidgetConfigError(
        `Parley web chat: each of data-fields needs a name (letters, digits, _), a label and a type of ${FIELD_TYPES.join(", ")}`,
      );
    }
    return {
      name: field.name,
      label: field.label.trim(),
      type,
      required: field.required !== false,
      ...(typeof field.autocomplete === "string" ? { autocomplete: field.autocomplete } : {}),
    };
  });
}

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
    fields: readFields(dataset.fields),
  };
}
