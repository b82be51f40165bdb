/** The composer's text box: labelled "Message" for screen readers; Enter sends, Shift+Enter starts a new line. */
import type { Ref } from "preact";

export interface MessageBoxProps {
  id: string;
  value: string;
  placeholder: string;
  inputRef: Ref<HTMLTextAreaElement>;
  /** Each keystroke: the draft as it now reads (apps also send their typing indicator here). */
  onDraft: (value: string) => void;
  onSend: (event: Event) => void;
}

export function MessageBox({ id, value, placeholder, inputRef, onDraft, onSend }: MessageBoxProps) {
  return (
    <>
      <label for={id} class="visually-hidden">
        Message
      </label>
      <textarea
        id={id}
        ref={inputRef}
        rows={2}
        placeholder={placeholder}
        value={value}
        onInput={(event) => onDraft(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey) {
            onSend(event);
          }
        }}
      />
    </>
  );
}
