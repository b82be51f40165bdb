/** A message's text and attachments, as the desk, the widget and the supervisor view show them. */
import { attachmentName, type ChatMedia, type ChatMessage, isPicture } from "./chatMessage";

export interface MessagePartsProps {
  message: ChatMessage;
  /** The attachment's content URL once known; until then its name stands in. */
  urlOf: (item: ChatMedia) => string | null;
  /** A picture's text alternative (default: its file name). */
  describePicture?: (name: string) => string;
}

export function MessageParts({ message, urlOf, describePicture = (name) => name }: MessagePartsProps) {
  return (
    <>
      {message.body && <p class="body">{message.body}</p>}
      {(message.media ?? []).map((item) => (
        <Attachment key={item.sid} item={item} url={urlOf(item)} alt={describePicture(attachmentName(item))} />
      ))}
    </>
  );
}

/** A picture shows inline and opens full size; any other file is a link. */
function Attachment({ item, url, alt }: { item: ChatMedia; url: string | null; alt: string }) {
  const name = attachmentName(item);
  if (!url) {
    return <span class="attachment pending">{name}</span>;
  }
  return isPicture(item) ? (
    <a class="attachment" href={url} target="_blank" rel="noopener noreferrer">
      <img class="attachment-image" src={url} alt={alt} />
    </a>
  ) : (
    <a class="attachment file" href={url} target="_blank" rel="noopener noreferrer">
      {name}
    </a>
  );
}
