/** A conversation's message as the Conversations API and the realtime socket give it, and its media. */
import type { ApiResult } from "./api";
import { getWithToken, type TokenRequest } from "./tokenRest";

export interface ChatMedia {
  sid: string;
  content_type: string;
  filename?: string | null;
  size?: number;
}

export interface ChatMessage {
  sid: string;
  index: number;
  author: string | null;
  body: string | null;
  media: ChatMedia[] | null;
  date_created?: string;
  participant_sid?: string | null;
  /** Per status, "all" / "some" / "none" of the recipients (SMS and WhatsApp receipts). */
  delivery?: Record<string, string | number> | null;
}

/** What an attachment is called where it shows: its file name, else what kind of file it is. */
export function attachmentName(item: ChatMedia): string {
  return item.filename || (isPicture(item) ? "Image" : "File");
}

/** Raster images, which a browser decodes and never runs: the only files shown inline (as Parley serves them). */
const PICTURE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

export function isPicture(item: ChatMedia): boolean {
  return PICTURE_TYPES.has(item.content_type.split(";")[0].trim().toLowerCase());
}

/** A signed, expiring URL of a media file's content (MCS), readable by a participant's token. */
export async function mediaContentUrl(serviceSid: string, mediaSid: string, request: TokenRequest): Promise<string | null> {
  const found: ApiResult<{ links?: { content_direct_temporary?: string } }> = await getWithToken(
    `/mcs/v1/Services/${serviceSid}/Media/${mediaSid}`,
    request,
  );
  return (found.ok && found.data.links?.content_direct_temporary) || null;
}
