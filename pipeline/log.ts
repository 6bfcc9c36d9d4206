/** A log that cannot be flooded: a bad device resending every second must not drown the real lines. */
export function limitedLog(log: (line: string) => void, maxPerWindow = 20, windowMs = 10_000): (line: string) => void {
  let windowStart = 0;
  let count = 0;
  let suppressed = 0;
  return (line) => {
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      if (suppressed > 0) log(`(${suppressed} similar lines suppressed)`);
      windowStart = now;
      count = 0;
      suppressed = 0;
    }
    if (count++ < maxPerWindow) log(line);
    else suppressed++;
  };
}
