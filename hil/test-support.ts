/**
 * Tests' stand-in for the far end of a serial port: a SerialPortMock (@serialport/binding-mock,
 * which keeps real stream ordering) whose written bytes a test reads back as frames, and into which
 * it feeds bytes as if a device sent them.
 */
import { SerialPortMock } from 'serialport';
import { decodeFrame, encodeFrame, type FrameType, type SerialFrame } from '../protocol/serial-frame.ts';

// @serialport/binding-mock's types do not resolve through its package.json "exports"; serialport
// re-exports the same binding as SerialPortMock.binding.
const MockBinding = SerialPortMock.binding;

export class MockFarEnd {
  private read = 0;
  private constructor(readonly port: SerialPortMock) {}

  /** The far end of a mock port the code under test opened itself. */
  static of(port: SerialPortMock): MockFarEnd {
    return new MockFarEnd(port);
  }

  /** Creates the mock port `path` and opens it as the code under test would. */
  static async open(path: string, info: { serialNumber?: string; vendorId?: string; productId?: string } = {}): Promise<MockFarEnd> {
    MockBinding.createPort(path, { echo: false, record: true, vendorId: info.vendorId, productId: info.productId });
    const port = new SerialPortMock({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new MockFarEnd(port);
  }

  /** Every byte the code under test wrote so far, as Latin-1 text. */
  written(): string {
    return this.port.port?.recording.toString('latin1') ?? '';
  }

  /** The next frame the code under test writes (waits for it; fails after `timeoutMs`). */
  async nextFrame(timeoutMs = 2000): Promise<SerialFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.written();
      const end = text.indexOf('\n', this.read);
      if (end >= 0) {
        const line = text.slice(this.read, end + 1);
        this.read = end + 1;
        return decodeFrame(line);
      }
      if (Date.now() > deadline) throw new Error(`no frame written within ${timeoutMs} ms (unread: ${JSON.stringify(text.slice(this.read))})`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Frames written from now on are the only ones nextFrame returns. */
  skipWritten(): void {
    this.read = this.written().length;
  }

  /** Feeds bytes as if the far end sent them. */
  emit(bytes: string | Buffer): void {
    this.port.port?.emitData(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Feeds one frame. */
  send(seq: number, type: FrameType, fields: readonly string[] = []): void {
    this.emit(encodeFrame({ seq, type, fields }));
  }

  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
  }

  static reset(): void {
    MockBinding.reset();
  }
}
