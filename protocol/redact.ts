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

/**
 * The URL without its userinfo. mqtt.js takes a URL's `user:password@` over the username and
 * password it is given, so a client that logs in as itself (a device) must dial the URL without it.
 */
export function withoutUserinfo(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}
