import { describe, expect, it } from 'vitest';
import { hilMatchProblem, splitHilList } from './match.ts';

describe('device matches', () => {
  it.each(['/tmp/vigil-pty-a', '/dev/serial/by-id/usb-STM_Bracelet_ABC-if00', 'serial=ABC123', 'vid=0483,pid=5740', 'vid=0483,pid=5740,serial=ABC'])('accepts %s', (text) => {
    expect(hilMatchProblem(text)).toBeUndefined();
  });

  it.each([
    ['ttyUSB0', /"ttyUSB0" is not a device: "ttyUSB0" is not key=value: name a device by a path/],
    ['port=/dev/x', /"port=\/dev\/x" is not serial=…, vid=<hex> or pid=<hex>/],
    ['vid=zz,pid=5740', /"vid=zz" is not serial=…, vid=<hex> or pid=<hex>/],
  ])('rejects %s, saying how to name a device', (text, message) => {
    expect(hilMatchProblem(text)).toMatch(message);
  });

  it('splits a --hil list, keeping a vid/pid match whole', () => {
    expect(splitHilList('/tmp/a,serial=X,vid=0483,pid=5740,serial=Y,serial=Z')).toEqual(['/tmp/a', 'serial=X', 'vid=0483,pid=5740,serial=Y', 'serial=Z']);
  });
});
