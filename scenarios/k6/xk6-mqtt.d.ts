/**
 * The part of `k6/x/mqtt` Vigil uses. The module is grafana/xk6-mqtt — Grafana's official MQTT
 * extension, the maintained one (k6 ≥ 1.2 resolves it automatically on import; otherwise
 * `xk6 build --with github.com/grafana/xk6-mqtt`). @types/k6 2.3.0 has no types for it, and the
 * extension's own index.d.ts lists neither connectAsync nor reconnectAsync although its client
 * registers both (mqtt/client_base.go), so this minimal declaration is written from the source.
 * Option names are snake_case: k6 maps Go's ClientId to client_id.
 */
declare module 'k6/x/mqtt' {
  export interface ClientOptions {
    /** Client identifier: Vigil uses the device id (docs/PROTOCOL.md). */
    client_id?: string;
    username?: string;
    password?: string;
    tags?: Record<string, string>;
  }

  export interface ConnectOptions {
    /** Seconds (default 60). */
    keepalive?: number;
    /** Milliseconds (default 30,000). */
    connect_timeout?: number;
    /** Only `true` has an effect: the paho client underneath starts clean sessions by default. */
    clean_session?: boolean;
    servers?: string[];
    tags?: Record<string, string>;
  }

  export interface PublishOptions {
    /** 0 by default. */
    qos?: 0 | 1 | 2;
    retain?: boolean;
    tags?: Record<string, string>;
  }

  export interface SubscribeOptions {
    qos?: 0 | 1 | 2;
    tags?: Record<string, string>;
  }

  export interface MQTTError {
    name: 'MQTTError';
    message: string;
    /** The call that failed: connect, publish, subscribe… */
    method: string;
  }

  export class Client {
    constructor(options?: ClientOptions);
    readonly connected: boolean;
    connect(url: string, options?: ConnectOptions): void;
    connectAsync(url: string, options?: ConnectOptions): Promise<void>;
    reconnect(): void;
    reconnectAsync(): Promise<void>;
    end(): void;
    endAsync(): Promise<void>;
    subscribe(topic: string | string[], options?: SubscribeOptions): void;
    subscribeAsync(topic: string | string[], options?: SubscribeOptions): Promise<void>;
    publish(topic: string, payload: string | ArrayBuffer, options?: PublishOptions): void;
    /** Resolves once written (QoS 0) or acknowledged by the broker (QoS 1); throws at once when not connected. */
    publishAsync(topic: string, payload: string | ArrayBuffer, options?: PublishOptions): Promise<void>;
    on(event: 'connect' | 'reconnect' | 'end', listener: () => void): void;
    on(event: 'message', listener: (topic: string, payload: ArrayBuffer) => void): void;
    on(event: 'error', listener: (error: MQTTError) => void): void;
  }
}
