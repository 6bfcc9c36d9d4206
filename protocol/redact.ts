/**
 * Redaction (issue 8 item 3): a URL as a person or a file may see it — its password masked. Every
 * URL that is logged, printed or written to a run directory goes through here: a broker URL may
 * carry the pipeline's broker password as userinfo, and run.json, report.html and CI logs outlive
 * the run.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}
