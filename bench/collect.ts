/**
 * A full garbage collection on demand, for benches that read the heap or RSS of one step at a time:
 * without it they would read the garbage of the steps before. The flag is set at run time, so a bench
 * runs as `node --import tsx bench/….ts` with no `--expose-gc` of its own.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
export const collectGarbage = runInNewContext('gc') as () => void;
