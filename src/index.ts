/**
 * blogtalk: comments for any blog from one script tag. Importing this module defines every
 * element (each definition is guarded, so loading the bundle twice is harmless), with every
 * part at once: the script tag's loader (`loader.ts`, `widget.ts`) loads parts on first use.
 */
import './comment-thread/eager.js';
export { CommentThreadElement } from './comment-thread/comment-thread.js';
export { LoginPickerElement, type GuestDetails, type LoginProvider } from './login-picker/login-picker.js';
export { ReblogButtonElement } from './reblog-button/reblog-button.js';
export { ReblogEvent, type ReblogDetail } from './events.js';
// The events fired today. events.ts also declares the ones later issues will fire
// (login, logout, like-change, reblog); they join this list when they do.
export {
  CommentFailedEvent,
  CommentPostedEvent,
  CommentQueuedEvent,
  CommentSubmitEvent,
  LikeChangeEvent,
  type CommentFailedDetail,
  type CommentSubmitDetail,
  type LikeChangeDetail,
} from './events.js';
export type * from './data/api-types.js';
export { BackendError, type Backend, type ListOptions } from './data/backend.js';
export { HttpBackend, type HttpBackendOptions } from './data/http-backend.js';
