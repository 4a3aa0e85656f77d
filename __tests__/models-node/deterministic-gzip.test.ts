import { spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import { readFileSync } from "fs";
import * as path from "path";
import { gunzipSync } from "zlib";
import {
  crc32,
  gzipDeterministic,
} from "../../constructs/models/deterministic-gzip";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("gzipDeterministic", () => {
  it("round-trips through zlib for empty, tiny, repetitive, random and text inputs", () => {
    const inputs: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from("a"),
      Buffer.from("ab"),
      Buffer.alloc(100000, 0x61), // matches of the maximum length, back to back
      randomBytes(70000), // incompressible: literals only
      readFileSync(
        path.join(
          __dirname,
          "..",
          "..",
          "scripts",
          "node",
          "comfyui-model-sync"
        )
      ),
      readFileSync(path.join(__dirname, "..", "..", "package-lock.json")), // longer than the 32 KiB window
    ];
    // Small alphabets exercise short codes, single-symbol alphabets and long repeats.
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let k = 0; k < 100; k++) {
      const alphabet = 1 + (next() % 6);
      inputs.push(
        Buffer.from(
          Array.from({ length: next() % 4000 }, () => 97 + (next() % alphabet))
        )
      );
    }
    for (const input of inputs) {
      expect(gunzipSync(gzipDeterministic(input)).equals(input)).toBe(true);
    }
  });

  it("compresses text about as well as zlib -9", () => {
    const text = readFileSync(
      path.join(__dirname, "..", "..", "scripts", "node", "comfyui-model-sync")
    );
    expect(gzipDeterministic(text).length).toBeLessThan(text.length * 0.4);
  });

  it("writes a fixed header (no name, mtime 0, Unix) and the CRC-32 and size trailer", () => {
    const input = Buffer.from("comfyui-model-sync\n");
    const out = gzipDeterministic(input);
    expect([...out.subarray(0, 10)]).toEqual([
      0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3,
    ]);
    expect(out.readUInt32LE(out.length - 8)).toBe(crc32(input));
    expect(out.readUInt32LE(out.length - 4)).toBe(input.length);
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926); // the CRC-32 check value
  });

  it("is pinned: the same input gives the same bytes on every machine and release", () => {
    // Changing the encoder changes every node's user data, and Karpenter then
    // replaces every GPU node: update this hash only on purpose.
    const input = Buffer.from(
      Array.from(
        { length: 2000 },
        (_, i) => `line ${i % 37}: models/${"x".repeat(i % 11)}\n`
      ).join("")
    );
    expect(sha256(gzipDeterministic(input))).toBe('44066e3570b1850dc8219b576c8d80704ef101f432194da4234f8708f8001974');
  });

  it("decodes with the gunzip command line", () => {
    const input = randomBytes(5000).toString("base64");
    const r = spawnSync("gunzip", ["-c"], {
      input: gzipDeterministic(Buffer.from(input)),
    });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe(input);
  });
});
