/**
 * A small gzip encoder (DEFLATE: LZ77 and Huffman codes built per input) whose
 * output depends only on its input.
 *
 * Why not node:zlib: the node user data embeds compressed scripts, and that
 * text lands in the EC2NodeClass. Node's bundled zlib picks its string hash by
 * CPU feature and version, so the same input can compress differently on
 * another machine or Node release; a changed userData makes Karpenter replace
 * every GPU node. This encoder is plain arithmetic, so synth is reproducible.
 * Any gunzip decodes it.
 */

const WINDOW_SIZE = 32768;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
/** Candidates examined per position: enough for scripts of a few tens of KB. */
const MAX_CHAIN = 256;
const HASH_BITS = 15;

// RFC 1951 section 3.2.5: length codes 257..285 and distance codes 0..29.
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/** Writes bits least-significant first, as DEFLATE packs them. */
class BitWriter {
  private readonly bytes: number[] = [];
  private current = 0;
  private used = 0;

  /** Appends `count` bits of `value`, low bit first (headers, extra bits). */
  bits(value: number, count: number): void {
    for (let i = 0; i < count; i++) this.bit((value >>> i) & 1);
  }

  /** Appends a Huffman code, high bit first. */
  code(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.bit((value >>> i) & 1);
  }

  finish(): Buffer {
    if (this.used > 0) this.bytes.push(this.current);
    this.current = 0;
    this.used = 0;
    return Buffer.from(this.bytes);
  }

  private bit(b: number): void {
    this.current |= b << this.used;
    if (++this.used === 8) {
      this.bytes.push(this.current);
      this.current = 0;
      this.used = 0;
    }
  }
}

/** Index of the largest base not above `value`. */
function baseIndex(bases: readonly number[], value: number): number {
  let i = bases.length - 1;
  while (bases[i] > value) i--;
  return i;
}

/** LZ77 output: a literal byte (distance 0) or a back-reference. */
interface Token {
  readonly value: number;
  readonly distance: number;
}

/** Greedy LZ77 with one step of lazy matching over a 32 KiB window. */
function lz77(data: Uint8Array): Token[] {
  const n = data.length;
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(Math.max(n, 1)).fill(-1);
  const hash = (p: number) => ((data[p] << 10) ^ (data[p + 1] << 5) ^ data[p + 2]) & ((1 << HASH_BITS) - 1);
  const insert = (p: number) => {
    if (p + MIN_MATCH > n) return;
    const h = hash(p);
    prev[p] = head[h];
    head[h] = p;
  };
  // Longest earlier match for position p; the nearest wins a tie.
  const find = (p: number): { length: number; distance: number } => {
    let best = { length: 0, distance: 0 };
    if (p + MIN_MATCH > n) return best;
    const limit = Math.min(MAX_MATCH, n - p);
    let candidate = head[hash(p)];
    for (let chain = 0; candidate >= 0 && p - candidate <= WINDOW_SIZE && chain < MAX_CHAIN; chain++) {
      let length = 0;
      while (length < limit && data[candidate + length] === data[p + length]) length++;
      if (length > best.length) {
        best = { length, distance: p - candidate };
        if (length === limit) break;
      }
      candidate = prev[candidate];
    }
    return best;
  };

  const tokens: Token[] = [];
  let i = 0;
  while (i < n) {
    const match = find(i);
    insert(i);
    if (match.length < MIN_MATCH || (i + 1 < n && find(i + 1).length > match.length)) {
      tokens.push({ value: data[i], distance: 0 });
      i++;
      continue;
    }
    tokens.push({ value: match.length, distance: match.distance });
    for (let k = i + 1; k < i + match.length; k++) insert(k);
    i += match.length;
  }
  return tokens;
}

/**
 * Code lengths of at most `limit` bits for the given symbol frequencies
 * (package-merge: optimal, and deterministic because ties break by symbol).
 * At least two symbols always get a code, so every code is complete.
 */
function codeLengths(frequencies: readonly number[], limit: number): number[] {
  const freq = [...frequencies];
  for (let s = 0; freq.filter((f) => f > 0).length < 2; s++) if (freq[s] === 0) freq[s] = 1;
  interface Item {
    readonly weight: number;
    readonly symbols: readonly number[];
  }
  const leaves: Item[] = freq
    .map((weight, symbol) => ({ weight, symbols: [symbol] }))
    .filter((item) => item.weight > 0)
    .sort((a, b) => a.weight - b.weight || a.symbols[0] - b.symbols[0]);
  let list = leaves;
  for (let level = 1; level < limit; level++) {
    const packages: Item[] = [];
    for (let k = 0; k + 1 < list.length; k += 2) {
      packages.push({ weight: list[k].weight + list[k + 1].weight, symbols: [...list[k].symbols, ...list[k + 1].symbols] });
    }
    const merged: Item[] = [];
    let a = 0;
    let b = 0;
    while (a < leaves.length || b < packages.length) {
      if (b >= packages.length || (a < leaves.length && leaves[a].weight <= packages[b].weight)) merged.push(leaves[a++]);
      else merged.push(packages[b++]);
    }
    list = merged;
  }
  const lengths = new Array<number>(freq.length).fill(0);
  for (const item of list.slice(0, 2 * leaves.length - 2)) for (const s of item.symbols) lengths[s]++;
  return lengths;
}

/** Canonical Huffman codes for the given lengths (RFC 1951 section 3.2.2). */
function canonicalCodes(lengths: readonly number[]): number[] {
  const maxLength = Math.max(...lengths);
  const count = new Array<number>(maxLength + 1).fill(0);
  for (const l of lengths) if (l > 0) count[l]++;
  const next = new Array<number>(maxLength + 2).fill(0);
  for (let bits = 1, code = 0; bits <= maxLength; bits++) {
    code = (code + count[bits - 1]) << 1;
    next[bits] = code;
  }
  return lengths.map((l) => (l > 0 ? next[l]++ : 0));
}

// Order in which the code-length code's lengths are sent (RFC 1951 section 3.2.7).
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Run-length encodes code lengths into code-length symbols 0..18 with their extra bits. */
function runLengths(lengths: readonly number[]): Array<{ symbol: number; extra: number; extraBits: number }> {
  const out: Array<{ symbol: number; extra: number; extraBits: number }> = [];
  let i = 0;
  while (i < lengths.length) {
    const value = lengths[i];
    let run = 1;
    while (i + run < lengths.length && lengths[i + run] === value) run++;
    i += run;
    if (value === 0) {
      while (run >= 11) {
        const r = Math.min(run, 138);
        out.push({ symbol: 18, extra: r - 11, extraBits: 7 });
        run -= r;
      }
      if (run >= 3) {
        out.push({ symbol: 17, extra: run - 3, extraBits: 3 });
        run = 0;
      }
    } else {
      out.push({ symbol: value, extra: 0, extraBits: 0 });
      run--;
      while (run >= 3) {
        const r = Math.min(run, 6);
        out.push({ symbol: 16, extra: r - 3, extraBits: 2 });
        run -= r;
      }
    }
    for (; run > 0; run--) out.push({ symbol: value, extra: 0, extraBits: 0 });
  }
  return out;
}

/** Raw DEFLATE stream: one final block with Huffman codes built for this input. */
export function deflateRaw(data: Uint8Array): Buffer {
  const tokens = lz77(data);
  const litFreq = new Array<number>(286).fill(0);
  const distFreq = new Array<number>(30).fill(0);
  for (const t of tokens) {
    if (t.distance === 0) litFreq[t.value]++;
    else {
      litFreq[257 + baseIndex(LENGTH_BASE, t.value)]++;
      distFreq[baseIndex(DIST_BASE, t.distance)]++;
    }
  }
  litFreq[256] = 1; // end of block
  const litLengths = codeLengths(litFreq, 15);
  const distLengths = codeLengths(distFreq, 15);
  const litCodes = canonicalCodes(litLengths);
  const distCodes = canonicalCodes(distLengths);
  let hlit = 286;
  while (hlit > 257 && litLengths[hlit - 1] === 0) hlit--;
  let hdist = 30;
  while (hdist > 1 && distLengths[hdist - 1] === 0) hdist--;

  const runs = runLengths([...litLengths.slice(0, hlit), ...distLengths.slice(0, hdist)]);
  const clFreq = new Array<number>(19).fill(0);
  for (const r of runs) clFreq[r.symbol]++;
  const clLengths = codeLengths(clFreq, 7);
  const clCodes = canonicalCodes(clLengths);
  let hclen = 19;
  while (hclen > 4 && clLengths[CODE_LENGTH_ORDER[hclen - 1]] === 0) hclen--;

  const w = new BitWriter();
  w.bits(1, 1); // BFINAL
  w.bits(2, 2); // BTYPE 10: dynamic Huffman codes
  w.bits(hlit - 257, 5);
  w.bits(hdist - 1, 5);
  w.bits(hclen - 4, 4);
  for (let k = 0; k < hclen; k++) w.bits(clLengths[CODE_LENGTH_ORDER[k]], 3);
  for (const r of runs) {
    w.code(clCodes[r.symbol], clLengths[r.symbol]);
    w.bits(r.extra, r.extraBits);
  }
  for (const t of tokens) {
    if (t.distance === 0) {
      w.code(litCodes[t.value], litLengths[t.value]);
      continue;
    }
    const li = baseIndex(LENGTH_BASE, t.value);
    w.code(litCodes[257 + li], litLengths[257 + li]);
    w.bits(t.value - LENGTH_BASE[li], LENGTH_EXTRA[li]);
    const di = baseIndex(DIST_BASE, t.distance);
    w.code(distCodes[di], distLengths[di]);
    w.bits(t.distance - DIST_BASE[di], DIST_EXTRA[di]);
  }
  w.code(litCodes[256], litLengths[256]);
  return w.finish();
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC), as gzip stores it. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A gzip member (RFC 1952) with no name and mtime 0: same input, same bytes. */
export function gzipDeterministic(data: Uint8Array): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([header, deflateRaw(data), trailer]);
}
