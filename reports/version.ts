/** Vigil's version, as package.json states it (read once; reports name the version that ran). */
import { readFileSync } from 'node:fs';

export const VIGIL_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
