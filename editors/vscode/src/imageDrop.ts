// Dropping an image into an editor (with Shift held; issue 19) offers two
// edits: "attach the image as context" (astfill.image.attach) and "write
// code for the image" (astfill.image.toCode; the code goes in at the drop
// position); each also writes a comment line naming the image above the
// drop's line (see noteLine in imageSource.ts for why). The image can come
// as a file on this machine (sent by path) or only as bytes: a file dragged
// in from outside a browser (code-server, vscode.dev) has no path, a remote
// window's UI hands over vscode-local: or vscode-remote: URIs.
// imageSource.ts decides which.
//
// The work starts only once VS Code applies one of these edits. It cannot
// wait for resolveDocumentDropEdit: VS Code 1.100's DropIntoEditorController
// applies the chosen drop edit with `async edit => edit` as its resolver and
// never calls the provider's resolve (that is why a dropped image was never
// attached, file: or data:). So each edit also creates a file in the
// astfill-chosen-edit: file system below; VS Code writing that file is the
// signal that the edit was applied, and deleting it (the drop widget undoes
// an edit before applying another one: the comment line and this file are
// one undo group) cancels work still running.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Daemon } from './daemon';
import { imageDataUri, imageMimeForName, imageRoute, IMAGE_MIME_TYPES, noteLine, parseUriList } from './imageSource';
import { ATTACH_KIND, attachSource, CODE_KIND, insertCodeForSource, message, title } from './images';
import type { Log } from './log';

export const DROP_MIME_TYPES = ['text/uri-list', 'files', ...IMAGE_MIME_TYPES];

export const CHOSEN_EDIT_SCHEME = 'astfill-chosen-edit';

type Work = (token: vscode.CancellationToken) => Promise<void>;

// A file system whose files are edits waiting to be chosen: /N. Applying an
// edit creates its file (VS Code then reads its stat back, so it stays until
// deleted or forgotten).
export class ChosenEdits implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private next = 1;
  // Kept for the latest drops only: an edit not chosen soon is never chosen.
  private readonly edits = new Map<string, { work: Work; created?: vscode.CancellationTokenSource }>();

  add(work: Work): vscode.Uri {
    const id = String(this.next++);
    this.edits.set(id, { work });
    for (const old of this.edits.keys()) {
      if (this.edits.size <= 32) break;
      this.edits.delete(old);
    }
    return vscode.Uri.from({ scheme: CHOSEN_EDIT_SCHEME, path: `/${id}` });
  }

  private entry(uri: vscode.Uri) {
    return this.edits.get(uri.path.slice(1));
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    if (uri.path === '/') return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    if (!this.entry(uri)?.created) throw vscode.FileSystemError.FileNotFound(uri);
    return { type: vscode.FileType.File, ctime: 0, mtime: 0, size: 0 };
  }

  // The edit was applied: its work starts.
  writeFile(uri: vscode.Uri): void {
    const entry = this.entry(uri);
    if (!entry) throw vscode.FileSystemError.FileNotFound(uri);
    if (entry.created) return;
    const created = new vscode.CancellationTokenSource();
    entry.created = created;
    void entry.work(created.token).catch(() => undefined);
  }

  // The edit was undone: its work, if still running, is cancelled.
  delete(uri: vscode.Uri): void {
    const entry = this.entry(uri);
    entry?.created?.cancel();
    if (entry) entry.created = undefined;
  }

  readFile(): Uint8Array {
    return new Uint8Array();
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }
}

interface Dropped {
  name: string;
  mime: string;
  uri?: vscode.Uri;
  file?: vscode.DataTransferFile;
}

// The first image in a drop: a file VS Code holds (its bytes, maybe a URI),
// else an image URI in text/uri-list.
async function droppedImage(data: vscode.DataTransfer): Promise<Dropped | undefined> {
  let found: Dropped | undefined;
  data.forEach((item, mime) => {
    const file = found ? undefined : item.asFile();
    if (!file) return;
    const type = IMAGE_MIME_TYPES.includes(mime) ? mime : imageMimeForName(file.name);
    if (type) found = { name: file.name || 'dropped image', mime: type, uri: file.uri, file };
  });
  const list = await data.get('text/uri-list')?.asString();
  for (const text of list ? parseUriList(list) : []) {
    let uri: vscode.Uri;
    try {
      uri = vscode.Uri.parse(text, true);
    } catch {
      continue;
    }
    const type = imageMimeForName(uri.path);
    if (!type) continue;
    // The file's own URI, when the list names it.
    if (found && !found.uri && path.posix.basename(uri.path) === found.name) found.uri = uri;
    found ??= { name: path.posix.basename(uri.path), mime: type, uri };
    if (found.uri) break;
  }
  return found;
}

function isLocalFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

// The image as the daemon takes it: file://PATH when it is a file here,
// else data: with its bytes. Also says how, for the log.
async function sourceFor(d: Dropped): Promise<{ source: string; how: string }> {
  const scheme = d.uri?.scheme;
  const route = imageRoute({
    scheme, path: d.uri ? (scheme === 'file' ? d.uri.fsPath : d.uri.path) : undefined, hasBytes: !!d.file,
  }, { remote: !!vscode.env.remoteName, exists: isLocalFile });
  switch (route.kind) {
    case 'path':
      return { source: vscode.Uri.file(route.path).toString(), how: `the file ${route.path}` };
    case 'bytes': {
      const bytes = await d.file!.data();
      return { source: imageDataUri(bytes, d.mime, d.name), how: `${bytes.length} bytes as a data: URI` };
    }
    case 'read': {
      let bytes: Uint8Array;
      try {
        bytes = await vscode.workspace.fs.readFile(d.uri!);
      } catch (error) {
        throw new Error(`${d.uri!.toString()} is not a file on this machine and VS Code cannot read it here ` +
          `(${message(error)}); drop the file itself, or open it from the workspace`);
      }
      return { source: imageDataUri(bytes, d.mime, d.name), how: `${bytes.length} bytes read through VS Code as a data: URI` };
    }
    case 'none':
      throw new Error(`${d.uri?.toString() ?? d.name} is not a file on this machine and the drop holds no bytes`);
  }
}

export class ImageDropProvider implements vscode.DocumentDropEditProvider {
  constructor(private readonly daemon: Daemon, private readonly chosen: ChosenEdits, private readonly log: Log) {}

  async provideDocumentDropEdits(document: vscode.TextDocument, position: vscode.Position,
    data: vscode.DataTransfer, token: vscode.CancellationToken): Promise<vscode.DocumentDropEdit[] | undefined> {
    const dropped = await droppedImage(data);
    if (!dropped || token.isCancellationRequested) return undefined;
    const from = dropped.uri ? dropped.uri.toString() : 'no URI';
    // Read now: the drop's bytes are VS Code's only while it asks for edits.
    // An image that cannot be sent is still offered: the error is shown if
    // the user picks one of these edits.
    let source: string | Error;
    try {
      const found = await sourceFor(dropped);
      source = found.source;
      this.log.info(`image drop: ${dropped.name} (${dropped.mime}, ${from}) offered as ${found.how}`);
    } catch (error) {
      source = error instanceof Error ? error : new Error(String(error));
      this.log.warn(`image drop: ${dropped.name} (${from}) cannot be sent: ${source.message}`);
    }
    if (token.isCancellationRequested) return undefined;
    // Each edit writes a comment line naming the image above the drop's line
    // (noteLine: an edit must change text, or switching edits with the drop
    // widget undoes the user's previous edit); the code goes in below it.
    const lineStart = new vscode.Position(position.line, 0);
    const below = position.translate(1, 0);
    const edit = (toCode: boolean) => {
      const e = new vscode.DocumentDropEdit('', title(toCode, 'image'), toCode ? CODE_KIND : ATTACH_KIND);
      e.additionalEdit = new vscode.WorkspaceEdit();
      e.additionalEdit.insert(document.uri, lineStart, noteLine(document.languageId, document.lineAt(position.line).text,
        `astfill: ${toCode ? 'code for' : 'context:'} the image ${dropped.name}`));
      e.additionalEdit.createFile(this.chosen.add((t) => this.run(document, below, dropped.name, source, toCode, t)),
        { ignoreIfExists: true });
      return e;
    };
    return [edit(false), edit(true)];
  }

  private async run(document: vscode.TextDocument, position: vscode.Position, name: string, source: string | Error,
    toCode: boolean, token: vscode.CancellationToken): Promise<void> {
    if (source instanceof Error) {
      this.log.warn(`image drop: ${toCode ? 'code for' : 'attaching'} ${name} chosen; it cannot be sent`);
      void vscode.window.showErrorMessage(
        `astfill: ${toCode ? 'no code for the image' : 'the image was not attached'}: ${message(source)}`);
      return;
    }
    const what = `${toCode ? 'writing code for' : 'attaching'} ${name} in ${document.uri.toString()}`;
    this.log.info(`image drop: ${what}`);
    const done = toCode ? await insertCodeForSource(this.daemon, document, position, source, undefined, token)
      : !!await attachSource(this.daemon, document, source, token);
    const outcome = token.isCancellationRequested ? 'cancelled (the edit was undone)' : done ? 'done' : 'failed';
    this.log.info(`image drop: ${what}: ${outcome}`);
  }
}
