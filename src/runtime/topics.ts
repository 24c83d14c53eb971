/** Bus topic names. */
export const INBOUND_TOPIC = 'inbound';
export const outboundTopic = (platform: string) => `outbound.${platform}`;
