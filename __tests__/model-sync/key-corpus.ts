/**
 * The one adversarial key corpus every key validator runs over:
 * the Lambda (`validateModelKey`), the SSM document's line pattern, and the
 * node script (`comfyui-model-sync check-key`, and `apply` through the
 * document's own script). A key the Lambda sends but SSM or a node refuses
 * fails everywhere; a key a node takes but the Lambda drops only arrives with
 * the next reconcile. So all three must agree, key by key.
 *
 * NUL is left out: neither an argv element nor an SSM environment variable
 * can carry it (the Lambda's own tests cover it).
 */

/** Folders and extensions the corpus is judged against (the config defaults' shape). */
export const CORPUS_PREFIXES = ['checkpoints', 'loras', 'vae', 'embeddings', 'controlnet'];
export const CORPUS_EXTENSIONS = ['.safetensors', '.sft', '.gguf', '.ckpt', '.pt', '.pt2', '.pth', '.bin', '.pkl'];

/** 200-byte directory segments: long keys without long segments. */
const dirs200 = (n: number) => Array.from({ length: n }, (_, i) => `${String.fromCharCode(97 + i).repeat(200)}/`).join('');

/** `checkpoints/<4 x 200-byte dirs>/<e...>.safetensors` of exactly `bytes` UTF-8 bytes (ASCII). */
const keyOfBytes = (bytes: number) => `checkpoints/${dirs200(4)}${'e'.repeat(bytes - 12 - 4 * 201 - '.safetensors'.length)}.safetensors`;

/**
 * Keys that the SSM pattern admits although the Lambda and the node refuse
 * them, for byte limits alone: a regex counts characters, not UTF-8 bytes
 * (docs/model-sync.md, Limits). Every other key must get one verdict from all.
 */
export const BYTE_LIMIT_ONLY: readonly string[] = [
  keyOfBytes(1025),
  `checkpoints/${dirs200(4)}${'é'.repeat(98)}e.safetensors`, // 1025 bytes, multi-byte
  `checkpoints/${'é'.repeat(127)}.pt`, // a 257-byte file name of 130 characters
  `loras/${'🐉'.repeat(64)}.pt`, // a 259-byte file name
  `loras/${'模'.repeat(86)}/x.pt`, // a 258-byte folder name
];

export const KEY_CORPUS: readonly string[] = [
  // ordinary, and literal-but-odd
  'checkpoints/sd_xl_base_1.0.safetensors',
  'loras/my model (1).safetensors',
  'loras/a+b c.safetensors',
  'vae/ñandú 🐉.pt',
  'vae/模型 ✓.safetensors',
  'checkpoints/%2e%2e.safetensors',
  'checkpoints/%2e%2e/x.safetensors',
  'loras/$(touch pwned).safetensors',
  'loras/`id`.safetensors',
  'loras/a;rm -rf ~.safetensors',
  'loras/"quoted" \'single\'.pt',
  'embeddings/a]b[c*?.pt',
  'loras/-rf.pt',
  'loras/ leading and trailing space .pt',
  'checkpoints/.hidden.safetensors',
  'checkpoints/....safetensors',
  'checkpoints/..x.safetensors',
  'checkpoints/.safetensors',
  'checkpoints/a\u00a0b.safetensors',
  'checkpoints/a\ufeffb.safetensors',
  'checkpoints/a\\b.safetensors',
  'checkpoints/right-to-left \u202egnp.safetensors',
  'checkpoints/a\u200fb.safetensors',
  // extensions (models.allowedExtensions), ASCII case-insensitive
  'checkpoints/UPPER.SAFETENSORS',
  'checkpoints/Mixed.SafeTensors',
  'loras/x.Pt2',
  'checkpoints/model.gguf',
  'checkpoints/no-extension',
  'checkpoints/put_checkpoints_here',
  'checkpoints/readme.md',
  'checkpoints/model.safetensors.part',
  'checkpoints/model.safetensors ',
  'checkpoints/model.exe',
  'checkpoints/model.pt.exe',
  'checkpoints/model.PT\u0130',
  'checkpoints/model.c\u212apt', // KELVIN SIGN: toLowerCase() would make it ".ckpt"
  'checkpoints/model.\u017ft', // LATIN SMALL LETTER LONG S
  'checkpoints/...',
  'checkpoints/%2e%2e',
  'loras/-rf',
  // file/folder clash: a folder segment must not end in a model extension
  'loras/a.safetensors/b.safetensors',
  'loras/a.SAFETENSORS/b.safetensors',
  'loras/sub.pt/x.pt',
  'loras/sub.pt2/x.pt',
  'loras/x/y.ckpt/z.ckpt',
  'loras/v1.5/x.safetensors',
  'loras/sd1.5 (pruned)/x.safetensors',
  'loras/safetensors/x.safetensors',
  'loras/.safetensors/x.safetensors',
  'loras/a.safetensors.d/x.safetensors',
  'loras/a.tpt/x.pt',
  'loras/a.ptt/x.pt',
  'loras/a.kpt/x.pt',
  'loras/a.ckp/x.pt',
  'loras/.pt/x.pt',
  'loras/pt/x.pt',
  'loras/t/x.pt',
  'loras/a./x.pt',
  'loras/.../x.pt',
  'loras/.a/x.pt',
  'loras/.x/x.pt',
  // braces: SSM resolves {{ssm:name}} in parameter values
  'loras/{{ssm:/prod/db-password}}.safetensors',
  'loras/{{ ssm-secure:token }}.pt',
  'loras/a{b.pt',
  'loras/a}b.pt',
  'loras/{{x}}/y.pt',
  'loras/{x}.pt',
  // traversal and shape
  '../etc/passwd',
  'checkpoints/../../etc/passwd.pt',
  'checkpoints/..',
  'checkpoints/.',
  'checkpoints/./x.pt',
  'checkpoints//x.pt',
  '/checkpoints/x.pt',
  'checkpoints/',
  'loras/sub/',
  'loras/sub.pt/',
  'checkpoints',
  '',
  'unknown/x.safetensors',
  'Checkpoints/x.safetensors',
  'checkpointsx/y.pt',
  '.model-sync/ready.json',
  'README.md',
  // control characters and line separators
  'checkpoints/a\nb.pt',
  'checkpoints/a.pt\ncopy 0 checkpoints/b.pt',
  'checkpoints/a\rb.pt',
  'checkpoints/a\tb.pt',
  'checkpoints/\u001b[31mred.pt',
  'checkpoints/a\u007fb.pt',
  'checkpoints/a\u0080b.pt',
  'checkpoints/a\u0085b.pt',
  'checkpoints/a\u009fb.pt',
  'checkpoints/a\u2028b.pt',
  'checkpoints/a\u2029b.pt',
  // lengths: keys of 1024/1025 bytes, segments of 255/256 bytes, ASCII and multi-byte
  keyOfBytes(1024),
  `checkpoints/${dirs200(4)}${'é'.repeat(98)}.safetensors`,
  `checkpoints/${'a'.repeat(1009)}.pt`,
  `checkpoints/${'a'.repeat(252)}.pt`,
  `checkpoints/${'a'.repeat(253)}.pt`,
  `checkpoints/${'a'.repeat(256)}/x.pt`,
  `checkpoints/${'a'.repeat(255)}/x.pt`,
  `checkpoints/x/${'a'.repeat(255)}/y.pt`,
  `checkpoints/.${'a'.repeat(251)}.pt`,
  `checkpoints/..${'a'.repeat(250)}.pt`,
  `checkpoints/..${'a'.repeat(251)}.pt`,
  `checkpoints/${'a'.repeat(253)}.p/x.pt`,
  `checkpoints/${'a'.repeat(252)}.p/x.pt`,
  `checkpoints/${'é'.repeat(126)}.pt`,
  `checkpoints/${'模'.repeat(84)}.pt`,
  `loras/${'🐉'.repeat(63)}.pt`,
  `loras/${'🐉'.repeat(64)}.pt`,
  ...BYTE_LIMIT_ONLY,
];
