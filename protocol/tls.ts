/**
 * TLS material as every MQTT and HTTP client of a run is given it (issue 8 item 1): the CA that
 * signs the broker's (and an HTTPS pipeline's) certificate, and a client certificate and key for
 * brokers that require one. PEM text, already read and checked (config/tls-files.ts); text, so it crosses to fleet worker
 * processes as it is.
 */
export interface TlsMaterial {
  /** Trusted CA certificates (PEM); without it, the system's trust store. */
  readonly ca?: string | undefined;
  /** The client certificate (PEM), sent when the server asks for one. */
  readonly cert?: string | undefined;
  /** The client certificate's private key (PEM). */
  readonly key?: string | undefined;
}

/** URL schemes that mean MQTT over TLS, as mqtt.js reads them. */
export const MQTT_TLS_SCHEMES: readonly string[] = ['mqtts:', 'ssl:', 'tls:'];
/** MQTT over WebSocket [MQTT-6.0], plain and over TLS: what brokers behind an HTTPS load balancer serve. */
export const MQTT_WS_SCHEMES: readonly string[] = ['ws:', 'wss:'];

/** Whether the URL speaks TLS: mqtts:// (ssl://, tls://) or wss://. */
export function isMqttTls(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return MQTT_TLS_SCHEMES.includes(protocol) || protocol === 'wss:';
  } catch {
    return false;
  }
}

/** Whether the URL is MQTT over WebSocket (ws://, wss://). */
export function isMqttOverWebSocket(url: string): boolean {
  try {
    return MQTT_WS_SCHEMES.includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** The default port of an MQTT URL: 8883 over TLS, 1883 otherwise [MQTT-4.2: IANA]. */
export function mqttDefaultPort(protocol: string): number {
  return MQTT_TLS_SCHEMES.includes(protocol) ? 8883 : 1883;
}
