/**
 * Reads the node user data back the way cloud-init would: MIME parts, the env
 * heredoc, the assignments and the files a heredoc installer writes (the
 * node files document's installer, or the user data's drop-ins). The
 * node-script tests install the script from the installer, so they test
 * exactly what ships.
 */

export interface MimePart {
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface MimeDocument {
  readonly headers: Record<string, string>;
  readonly boundary: string;
  readonly parts: MimePart[];
  /** Text after the closing delimiter (should be empty). */
  readonly epilogue: string;
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad MIME header line: ${JSON.stringify(line)}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** A strict parser for the multipart/mixed document renderNodeUserData emits. */
export function parseMime(text: string): MimeDocument {
  const split = text.indexOf('\n\n');
  if (split < 0) throw new Error('no blank line after the MIME headers');
  const headers = parseHeaders(text.slice(0, split));
  const boundary = /boundary="([^"]+)"/.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) throw new Error('no boundary in Content-Type');
  const lines = text.slice(split + 2).split('\n');
  if (lines[0] !== `--${boundary}`) throw new Error('body does not start with the boundary');
  const parts: MimePart[] = [];
  let current: string[] = [];
  let closed = -1;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === `--${boundary}` || lines[i] === `--${boundary}--`) {
      const raw = current.join('\n');
      const gap = raw.indexOf('\n\n');
      parts.push({ headers: parseHeaders(raw.slice(0, gap)), body: `${raw.slice(gap + 2)}\n` });
      current = [];
      if (lines[i].endsWith('--')) {
        closed = i;
        break;
      }
    } else {
      current.push(lines[i]);
    }
  }
  if (closed < 0) throw new Error('no closing boundary');
  return { headers, boundary, parts, epilogue: lines.slice(closed + 1).join('\n') };
}

/** The body of a `<<'DELIM'` heredoc that follows `opener` in `text`. */
export function heredocBody(text: string, opener: string, delimiter: string): string {
  const start = text.indexOf(`${opener} <<'${delimiter}'\n`);
  if (start < 0) throw new Error(`no heredoc ${opener} <<'${delimiter}'`);
  const bodyStart = text.indexOf('\n', start) + 1;
  const end = text.indexOf(`\n${delimiter}\n`, bodyStart - 1);
  if (end < 0) throw new Error(`heredoc ${delimiter} is not closed`);
  return text.slice(bodyStart, end + 1);
}

/** The shell part of the user data. */
export function shellPart(userData: string): string {
  const shell = parseMime(userData).parts.find((p) => p.headers['content-type']?.startsWith('text/x-shellscript'));
  if (!shell) throw new Error('no text/x-shellscript part');
  return shell.body;
}

/** The env file the user data writes. */
export function envFile(userData: string): string {
  return heredocBody(shellPart(userData), 'cat > /etc/comfyui-model-sync.env', 'COMFYUI_MODEL_SYNC_ENV');
}

/** Files a shell text writes with quoted heredocs and chmod (the node files installer, or the user data's drop-ins): path -> content and mode. */
export function installedFiles(script: string): Map<string, { content: string; mode: string }> {
  const files = new Map<string, { content: string; mode: string }>();
  const re = /^cat > (\S+) <<'COMFYUI_MODEL_SYNC_EOF'\n([\s\S]*?)^COMFYUI_MODEL_SYNC_EOF\nchmod (\d{4}) (\S+)$/gm;
  for (let m = re.exec(script); m; m = re.exec(script)) {
    if (m[1] !== m[4]) throw new Error(`chmod of ${m[4]} follows the heredoc of ${m[1]}`);
    files.set(m[1], { content: m[2], mode: m[3] });
  }
  return files;
}

/** A `name=value` assignment line of the user data's shell part. */
export function shellAssignment(userData: string, name: string): string {
  const m = new RegExp(`^${name}=(.*)$`, 'm').exec(shellPart(userData));
  if (!m) throw new Error(`no ${name}= line in the user data`);
  return m[1];
}
