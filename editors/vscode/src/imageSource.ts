// How an image that VS Code hands over (a drop, a paste) reaches the daemon
// (issue 19): as a file:// URI when the file is on this machine, where the
// daemon (started by this extension host) can read it; otherwise as its bytes
// in a data: URI. No vscode import: the unit tests load it in plain Node.

export const IMAGE_MIME_TYPES = ['image/png', 'image/jpeg'];

// The most bytes sent inline. The daemon reads an LSP message of up to 64 MiB
// (astfill serve --max-message-bytes) and skips a longer one unanswered;
// base64 makes the bytes 4/3 as long, so 32 MiB (43 MiB of base64) leaves
// room. Files on this machine go by path, up to the daemon's own 64 MiB.
export const MAX_INLINE_IMAGE_BYTES = 32 * 1024 * 1024;

export function imageMimeForName(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  const ext = dot >= 0 ? name.slice(dot + 1).toLowerCase() : '';
  if (ext === 'png') return 'image/png';
  if (ext === 'jpg' || ext === 'jpeg') return 'image/jpeg';
  return undefined;
}

// text/uri-list (RFC 2483): one URI a line, '#' lines are comments.
export function parseUriList(text: string): string[] {
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
}

// What is known about a dropped or pasted image before reading anything.
export interface ImageCandidate {
  // Its URI's scheme and path, when VS Code gave one: file:, vscode-remote:
  // (a remote window's files, seen from the UI), vscode-local: (the UI
  // machine's files, seen from a remote or code-server window), untitled:...
  scheme?: string;
  // The URI's path as a path of this machine's file system (fsPath for file:,
  // the path for vscode-remote:).
  path?: string;
  // Whether VS Code holds the bytes (a DataTransferFile).
  hasBytes: boolean;
}

export interface RouteContext {
  // This extension host runs in a remote window (vscode.env.remoteName): the
  // daemon runs beside it, where vscode-remote: paths are local.
  remote: boolean;
  // Whether a regular file exists at this path on this machine.
  exists: (path: string) => boolean;
}

// path: send file:// of `path`; bytes: the DataTransferFile's bytes; read:
// read the URI through VS Code's file systems (workspace.fs); none: nothing
// to read.
export type ImageRoute = { kind: 'path'; path: string } | { kind: 'bytes' } | { kind: 'read' } | { kind: 'none' };

export function imageRoute(c: ImageCandidate, ctx: RouteContext): ImageRoute {
  const local = c.path !== undefined && (c.scheme === 'file' || (c.scheme === 'vscode-remote' && ctx.remote));
  if (local && ctx.exists(c.path!)) return { kind: 'path', path: c.path! };
  if (c.hasBytes) return { kind: 'bytes' };
  // A file: path that is not here is not anywhere VS Code can read either.
  if (c.scheme && c.scheme !== 'file') return { kind: 'read' };
  return { kind: 'none' };
}

export class ImageTooLargeError extends Error {}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

// data:MIME;base64,... for the daemon (lsp/image_commands: astfill.image.attach
// and toCode take it), or ImageTooLargeError naming the limit.
export function imageDataUri(bytes: Uint8Array, mime: string, name: string): string {
  if (bytes.length > MAX_INLINE_IMAGE_BYTES) {
    throw new ImageTooLargeError(`${name} is ${mib(bytes.length)}; an image that is not a file on this machine is ` +
      `sent by its bytes, at most ${mib(MAX_INLINE_IMAGE_BYTES)}. Save it as a file in the workspace and use ` +
      `"astfill: Attach Image" instead.`);
  }
  if (bytes.length === 0) throw new Error(`${name} is empty`);
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64')}`;
}

// The line a drop or paste of an image writes into the document: a comment
// naming the image, above the line where it was dropped, with that line's
// indentation. Every edit the extension offers for an image inserts text,
// because VS Code's drop/paste options widget switches to another edit by
// calling model.undo() first (postEditWidget.ts, 1.100): an edit that changes
// no text leaves no undo step, and that undo would take back the user's own
// previous edit instead. Undoing this line also undoes the rest of the edit
// (VS Code applies them as one undo group).
const LINE_COMMENT: Record<string, string> = {
  python: '#', shellscript: '#', ruby: '#', perl: '#', r: '#', yaml: '#', toml: '#', makefile: '#', cmake: '#',
  dockerfile: '#', powershell: '#', julia: '#', elixir: '#', coffeescript: '#', nim: '#', 'properties': '#',
  lua: '--', sql: '--', haskell: '--', elm: '--', ada: '--',
  bat: 'REM', vb: "'", erlang: '%', latex: '%', tex: '%', matlab: '%', lisp: ';', clojure: ';', scheme: ';', ini: ';',
  fortran: '!', 'fortran-modern': '!', vim: '"',
};
const BLOCK_COMMENT: Record<string, [string, string]> = {
  html: ['<!--', '-->'], xml: ['<!--', '-->'], markdown: ['<!--', '-->'], vue: ['<!--', '-->'], svelte: ['<!--', '-->'],
  css: ['/*', '*/'], scss: ['/*', '*/'], less: ['/*', '*/'], ocaml: ['(*', '*)'],
};

// `text` as a comment in `languageId` ('//' where the language is not known;
// no comment marks in plain text).
export function lineComment(languageId: string, text: string): string {
  if (languageId === 'plaintext') return text;
  const line = LINE_COMMENT[languageId];
  if (line) return `${line} ${text}`;
  const [open, close] = BLOCK_COMMENT[languageId] ?? ['//', ''];
  return close ? `${open} ${text} ${close}` : `${open} ${text}`;
}

// The note's whole line, to insert at the start of the line `lineText`:
// that line's indentation, the comment, a line break.
export function noteLine(languageId: string, lineText: string, text: string): string {
  const indent = /^[ \t]*/.exec(lineText)![0];
  return `${indent}${lineComment(languageId, text)}\n`;
}
