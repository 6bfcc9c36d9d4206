#!/usr/bin/env node
// The `vigil` command. Vigil ships TypeScript sources and runs them through tsx, so `npx vigil …`
// works right after `npm ci` with no build step (issue 2).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
