/**
 * UTF-8 TextEncoder and TextDecoder for k6 versions without them: k6 made them globals only in
 * 2026 (grafana/k6 pull 6182; issue 2291 "TextEncoder is not defined"), and protocol/uplink.ts
 * encodes every batch with one. Imported first by script.ts, so it runs before uplink.ts creates
 * its encoder; it touches nothing where the runtime has its own.
 */
const g = globalThis as unknown as { TextEncoder?: unknown; TextDecoder?: unknown };

class Utf8Encoder {
  readonly encoding = 'utf-8';

  encode(input = ''): Uint8Array {
    const out: number[] = [];
    for (const ch of input) {
      const c = ch.codePointAt(0) as number;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return new Uint8Array(out);
  }
}

class Utf8Decoder {
  readonly encoding = 'utf-8';

  decode(input?: Uint8Array | ArrayBuffer): string {
    if (input === undefined) return '';
    const b = input instanceof Uint8Array ? input : new Uint8Array(input);
    let s = '';
    for (let i = 0; i < b.length;) {
      const c = b[i++] as number;
      const next = (): number => (b[i++] as number) & 63;
      let cp: number;
      if (c < 0x80) cp = c;
      else if (c < 0xe0) cp = ((c & 31) << 6) | next();
      else if (c < 0xf0) cp = ((c & 15) << 12) | (next() << 6) | next();
      else cp = ((c & 7) << 18) | (next() << 12) | (next() << 6) | next();
      s += String.fromCodePoint(cp);
    }
    return s;
  }
}

if (typeof g.TextEncoder === 'undefined') g.TextEncoder = Utf8Encoder;
if (typeof g.TextDecoder === 'undefined') g.TextDecoder = Utf8Decoder;

export {};
