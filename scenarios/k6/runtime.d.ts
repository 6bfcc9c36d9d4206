/**
 * Globals of k6's JavaScript runtime that @types/k6 does not declare but the bundled code uses:
 * console (always there), and TextEncoder/TextDecoder (globals in recent k6, grafana/k6 pull 6182;
 * encoding-polyfill.ts supplies them where k6 lacks them).
 */
declare global {
  var console: { log(...args: unknown[]): void; warn(...args: unknown[]): void; error(...args: unknown[]): void };
  class TextEncoder {
    encode(input?: string): Uint8Array;
  }
  class TextDecoder {
    decode(input?: Uint8Array): string;
  }
}

export {};
