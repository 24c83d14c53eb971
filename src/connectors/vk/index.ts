/** The VK connector: Callback API or Bots Long Poll in, messages.send out. */
export { createVkConnector, VK_CAPABILITIES, VK_BODY_LIMIT, type VkConnectorOptions } from './connector.ts';
export { vkConfigFromEnv, DEFAULT_VK_API_ROOT, DEFAULT_VK_MAX_RPS, VK_API_VERSION, type VkOptions, type VkMode } from './config.ts';
export { VkApi, SendWindow, VkApiError, VkNetworkError, toDeliveryError, VK_ERRORS, type LongPollResponse } from './api.ts';
export { normaliseVkEvent, decodePayload, type VkEvent } from './inbound.ts';
export { buildKeyboard, encodePayload, randomId, sendDelivery, VK_TEXT_LIMIT, VK_PAYLOAD_LIMIT } from './outbound.ts';
