/** The Facebook Messenger connector: public API. */
export { createMessengerConnector, MESSENGER_CAPABILITIES } from './connector.ts';
export type { MessengerConnector, MessengerConnectorOptions } from './connector.ts';
export {
  messengerConfigFromEnv,
  DEFAULT_MESSENGER_API_ROOT,
  DEFAULT_MESSENGER_MAX_RPS,
  DEFAULT_GET_STARTED_PAYLOAD,
} from './config.ts';
export type { MessengerOptions } from './config.ts';
export { normalizeWebhook, normalizeEvent } from './inbound.ts';
export { messagingFor, partCalls, toDeliveryError } from './outbound.ts';
export { MessengerApi, GraphApiError, GraphNetworkError } from './api.ts';
export { MESSENGER_WEBHOOK_PATH, signBody, verifySignature } from './webhook.ts';
