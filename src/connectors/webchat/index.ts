/** The web chat connector: page, widget, WebSocket protocol and uploads. */
export {
  createWebchatConnector,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_TEXT_LENGTH,
  WEBCHAT_CAPABILITIES,
  type HistoryItem,
  type LiveBus,
  type OutboundItem,
  type WebchatConnector,
  type WebchatOptions,
} from './connector.ts';
export { ERROR_CODES, PROTOCOL_VERSION, type ClientFrame, type ErrorCode, type ServerFrame } from './protocol.ts';
export { directoryFiles, withOlderFiles, type StoredFile, type StoredFileInfo, type WebchatFileStore } from './file-store.ts';
export { DEFAULT_MAX_UPLOAD_BYTES } from './uploads.ts';
export { visitorId } from './visitor.ts';
