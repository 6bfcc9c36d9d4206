/** The configuration `vigil k6 export` bakes into the bundle (an esbuild virtual module). */
declare module 'vigil:export' {
  import type { ExportConfig } from './export-config.ts';
  const config: ExportConfig;
  export default config;
}
