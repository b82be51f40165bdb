/**
 * The embeddable web-chat widget, built as one classic script (`/webchat/widget.js`):
 *   <script src="https://parley.example.com/webchat/widget.js" data-address-sid="IG…" defer></script>
 * It draws inside a shadow root, so the host page's styles and the widget's never mix.
 */
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

import { Conversation } from "./Conversation";
import { readWidgetConfig, type WidgetConfig, WidgetConfigError } from "./config";
import { lastIndex } from "./chatState";
import { GuestChat, type GuestView } from "./guestChat";
import styles from "./widget.css?inline";

// Only defined while a classic script runs for the first time: read it before anything waits.
const ownScript = document.currentScript as HTMLScriptElement | null;

function PreEngagementForm({
  config,
  busy,
  onSubmit,
}: {
  config: WidgetConfig;
  busy: boolean;
  onSubmit: (data: Record<string, string>) => void;
}) {
  const firstField = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  useEffect(() => firstField.current?.focus(), []);

  function submit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) {
      return;
    }
    const form = event.currentTarget as HTMLFormElement;
    const data: Record<string, string> = {};
    new FormData(form).forEach((value, name) => {
      data[name] = String(value).trim();
    });
    onSubmit(data);
  }

  return (
    <form class="form" onSubmit={submit}>
      {config.fields.map((field, index) => {
        const id = `parley-field-${field.name}`;
        const common = {
          id,
          name: field.name,
          required: field.required,
          ref: index === 0 ? firstField : undefined,
        };
        return (
          <div class="field" key={field.name}>
            <label for={id}>{field.label}</label>
            {field.type === "textarea" ? (
              <textarea {...common} rows={3} />
            ) : (
              <input {...common} type={field.type} autocomplete={field.autocomplete} />
            )}
          </div>
        );
      })}
      {/* aria-disabled, not disabled: the button keeps focus (and Escape keeps working) while it waits. */}
      <button type="submit" class="primary" aria-disabled={busy}>
        {busy ? "Starting…" : "Start chat"}
      </button>
    </form>
  );
}

function useGuestView(chat: GuestChat): GuestView {
  const [view, setView] = useState(chat.snapshot);
  useEffect(() => chat.subscribe(setView), [chat]);
  return view;
}

function Widget({ config, chat }: { config: WidgetConfig; chat: GuestChat }) {
  const view = useGuestView(chat);
  const [open, setOpen] = useState(view.phase !== "form");
  const launcher = useRef<HTMLButtonElement>(null);
  // What the customer has seen: messages after it, from others, while the panel is closed are "new".
  const [seenUpTo, setSeenUpTo] = useState(-1);
  const newest = lastIndex(view.chat) ?? -1;
  useEffect(() => {
    if (open) {
      setSeenUpTo(newest);
    }
  }, [open, newest]);
  const unread = open
    ? 0
    : view.chat.messages.filter((message) => message.index > seenUpTo && message.author !== view.identity).length;

  function close() {
    setOpen(false);
    launcher.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  }

  return (
    <div class="widget">
      {open && (
        <section
          id="parley-panel"
          class="panel"
          role="dialog"
          aria-modal="false"
          aria-labelledby="parley-title"
          onKeyDown={onKeyDown}
        >
          <header class="panel-header">
            <h2 id="parley-title">{config.title}</h2>
            <button type="button" class="close" aria-label="Close chat" onClick={close}>
              ×
            </button>
          </header>
          {view.phase === "form" || view.phase === "starting" ? (
            <div class="panel-body">
              <p class="intro">Tell us who you are and what you need; an agent will answer here.</p>
              <div class="alert" role="alert">
                {view.error}
              </div>
              <PreEngagementForm config={config} busy={view.phase === "starting"} onSubmit={(data) => void chat.start(data)} />
            </div>
          ) : (
            <Conversation chat={chat} view={view} />
          )}
        </section>
      )}
      <div class="launcher-row">
        {/* Outside the button, so its name stays the label; it describes the button instead. */}
        {unread > 0 && (
          <span id="parley-unread" class="badge">
            {unread === 1 ? "1 new message" : `${unread} new messages`}
          </span>
        )}
        <button
          ref={launcher}
          type="button"
          class="launcher"
          aria-expanded={open}
          aria-controls="parley-panel"
          aria-describedby={unread ? "parley-unread" : undefined}
          onClick={() => (open ? close() : setOpen(true))}
        >
          {config.launcherLabel}
        </button>
      </div>
    </div>
  );
}

/**
 * The widget's styles as a constructed stylesheet: a page whose Content-Security-Policy forbids inline
 * styles (Parley's own demo page, and many a business's) still applies it. Older browsers get a <style>.
 */
function adoptStyles(root: ShadowRoot): void {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet.prototype.replaceSync === "function") {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(styles);
    root.adoptedStyleSheets = [sheet];
    return;
  }
  const style = document.createElement("style");
  style.textContent = styles;
  root.prepend(style);
}

function mount(config: WidgetConfig): void {
  const host = document.createElement("div");
  host.setAttribute("data-parley-webchat", "");
  const root = host.attachShadow({ mode: "open" });
  const container = document.createElement("div");
  root.append(container);
  adoptStyles(root);
  document.body.append(host);
  const chat = new GuestChat(config);
  render(<Widget config={config} chat={chat} />, container);
  void chat.resume();
}

function boot(): void {
  let config: WidgetConfig;
  try {
    config = readWidgetConfig(ownScript?.dataset ?? {}, ownScript?.src ?? "", location.href);
  } catch (error) {
    if (error instanceof WidgetConfigError) {
      console.error(error.message);
      return;
    }
    throw error;
  }
  if (document.body) {
    mount(config);
  } else {
    document.addEventListener("DOMContentLoaded", () => mount(config), { once: true });
  }
}

boot();
