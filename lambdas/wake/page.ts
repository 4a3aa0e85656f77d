/**
 * What a viewer sees while ComfyUI has no replica: an HTML page for browsers
 * ("Starting a GPU for you", elapsed time, reloads itself) and a JSON body
 * for API clients, both with status 503 and Retry-After. Neither carries
 * anything from the environment (no queue URL, no cluster name, no account).
 */

/** Seconds a client should wait before retrying (also the page's reload period). */
export const DEFAULT_RETRY_AFTER_SECONDS = 10;

/** The JSON body API clients get; `npm run comfy` reads `status` and `retryAfterSeconds`. */
export interface WakeStatusBody {
  readonly status: 'waking';
  readonly message: string;
  readonly retryAfterSeconds: number;
  readonly requestedAt: string;
}

export function wakeJson(retryAfterSeconds: number, now: Date): WakeStatusBody {
  return {
    status: 'waking',
    message: 'No GPU is running; one is starting. Retry after Retry-After seconds (usually ready within 5 minutes).',
    retryAfterSeconds,
    requestedAt: now.toISOString(),
  };
}

/**
 * The browser page. The first visit stores its start time in sessionStorage
 * (per tab), so the elapsed time survives the reloads; without JavaScript the
 * meta refresh still reloads it. Reloading requests the original URL again:
 * once a replica serves it, the real UI replaces this page.
 */
export function wakePage(retryAfterSeconds: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${retryAfterSeconds}">
<meta name="robots" content="noindex">
<title>Starting a GPU for you</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#1f1f24;color:#e8e8ea;display:flex;min-height:100vh;margin:0;align-items:center;justify-content:center}
main{max-width:34rem;padding:2rem;text-align:center}
h1{font-size:1.6rem;font-weight:600;margin:0 0 1rem}
p{line-height:1.5;color:#b8b8c0}
#elapsed{font-variant-numeric:tabular-nums;font-size:2.4rem;color:#fff;margin:1.2rem 0}
.spinner{width:2.2rem;height:2.2rem;border:.25rem solid #444;border-top-color:#7aa2ff;border-radius:50%;margin:0 auto 1.2rem;animation:spin 1s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
</style>
</head>
<body>
<main>
<div class="spinner" aria-hidden="true"></div>
<h1>Starting a GPU for you</h1>
<div id="elapsed" aria-live="polite">0:00</div>
<p>ComfyUI scales to zero when nobody uses it. A GPU node is starting and loading the models; this usually takes 3&ndash;5 minutes.
This page reloads itself and shows ComfyUI as soon as it is ready.</p>
</main>
<script>
(function () {
  var key = 'comfyui-wake-started';
  var started = Number(sessionStorage.getItem(key));
  if (!started || Date.now() - started > 3600000) { started = Date.now(); sessionStorage.setItem(key, String(started)); }
  var el = document.getElementById('elapsed');
  function tick() {
    var s = Math.floor((Date.now() - started) / 1000);
    el.textContent = Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }
  tick();
  setInterval(tick, 1000);
  setTimeout(function () { location.reload(); }, ${retryAfterSeconds * 1000});
})();
</script>
</body>
</html>
`;
}

/** Whether the request prefers JSON (API clients) over HTML (browsers). */
export function wantsJson(path: string, accept: string | undefined): boolean {
  if (path.endsWith('/status')) return true;
  const a = (accept ?? '').toLowerCase();
  return a.includes('application/json') && !a.includes('text/html');
}
