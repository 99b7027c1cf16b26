// Images (issue 19): "astfill: Attach Image" describes a picture once with the
// vision model (astfill.vision) and gives the description to the document's
// later completions and fills; "astfill: Image to Code" inserts the code the
// vision model writes for a picture at the cursor; pasting an image, or
// dropping an image file into an editor (with Shift held), offers both.
import * as vscode from 'vscode';
import type { WorkspaceEdit } from 'vscode-languageclient/node';
import type { Daemon } from './daemon';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg'];

export function isImagePath(p: string): boolean {
  const dot = p.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXTENSIONS.includes(p.slice(dot + 1).toLowerCase());
}

interface AttachResult { name: string; cached: boolean; description: string; imageTokens: number }

function activeEditor(what: string): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) void vscode.window.showInformationMessage(`astfill: open a file first, then ${what}.`);
  return editor;
}

async function pickImage(title: string): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title, canSelectMany: false, openLabel: 'Use Image', filters: { Images: IMAGE_EXTENSIONS },
  });
  return picked?.[0];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function attachImage(daemon: Daemon, image?: vscode.Uri, document?: vscode.TextDocument): Promise<void> {
  const doc = document ?? activeEditor('attach an image to it')?.document;
  if (!doc) return;
  const picked = image ?? await pickImage('astfill: attach an image to this file');
  if (!picked) return;
  const client = daemon.client;
  const args = [{
    textDocument: { uri: client?.code2ProtocolConverter.asUri(doc.uri) ?? doc.uri.toString() },
    source: picked.toString(),
  }];
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'astfill: reading the image…', cancellable: true },
      (_progress, token) => daemon.executeCommand<AttachResult>('astfill.image.attach', args, token),
    );
    vscode.window.setStatusBarMessage(
      `astfill: ${result.name} attached${result.cached ? ' (described before)' : ''}; completions in this file see it`, 5000);
  } catch (error) {
    void vscode.window.showErrorMessage(`astfill: the image was not attached: ${message(error)}`);
  }
}

export async function imageToCode(daemon: Daemon, image?: vscode.Uri): Promise<void> {
  const editor = activeEditor('put the cursor where the code should go');
  if (!editor) return;
  const picked = image ?? await pickImage('astfill: write code for this image');
  if (!picked) return;
  const instruction = image ? '' : await vscode.window.showInputBox({
    title: 'astfill: Image to Code', prompt: 'What to write (optional), e.g. "the form as a React component"',
  });
  if (instruction === undefined) return;
  const client = daemon.client;
  if (!client?.isRunning()) {
    void vscode.window.showErrorMessage('astfill: the daemon is not running; see the astfill output, or run "astfill: Restart the Daemon".');
    return;
  }
  const args = [{
    textDocument: { uri: client.code2ProtocolConverter.asUri(editor.document.uri) },
    position: client.code2ProtocolConverter.asPosition(editor.selection.active),
    source: picked.toString(),
    ...(instruction ? { instruction } : {}),
  }];
  let edit: WorkspaceEdit | null;
  try {
    edit = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'astfill: writing code for the image…', cancellable: true },
      (_progress, token) => daemon.executeCommand<WorkspaceEdit | null>('astfill.image.toCode', args, token),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`astfill: no code for the image: ${message(error)}`);
    return;
  }
  const changes = Object.values(edit?.changes ?? {}).flat();
  if (!edit || !changes.length) {
    void vscode.window.showInformationMessage('astfill: the vision model wrote no code for this image.');
    return;
  }
  await vscode.workspace.applyEdit(await client.protocol2CodeConverter.asWorkspaceEdit(edit));
}

// What the drop and paste edits do once the user has chosen one: attach the
// image (nothing inserted) or ask for its code (returned, to be inserted).
async function runChosen(daemon: Daemon, source: string, document: vscode.TextDocument, position: vscode.Position,
  toCode: boolean, token: vscode.CancellationToken): Promise<string> {
  const client = daemon.client;
  const textDocument = { uri: client?.code2ProtocolConverter.asUri(document.uri) ?? document.uri.toString() };
  try {
    if (!toCode) {
      const r = await daemon.executeCommand<AttachResult>('astfill.image.attach', [{ textDocument, source }], token);
      vscode.window.setStatusBarMessage(`astfill: ${r.name} attached; completions in this file see it`, 5000);
      return '';
    }
    const result = await daemon.executeCommand<WorkspaceEdit | null>('astfill.image.toCode', [{
      textDocument, position: { line: position.line, character: position.character }, source,
    }], token);
    return Object.values(result?.changes ?? {}).flat()[0]?.newText ?? '';
  } catch (error) {
    void vscode.window.showErrorMessage(`astfill: ${toCode ? 'no code for the image' : 'the image was not attached'}: ${message(error)}`);
    return '';
  }
}

const ATTACH_KIND = vscode.DocumentDropOrPasteEditKind.Empty.append('astfill', 'image', 'attach');
const CODE_KIND = vscode.DocumentDropOrPasteEditKind.Empty.append('astfill', 'image', 'code');
export const IMAGE_EDIT_KINDS = [ATTACH_KIND, CODE_KIND];

function title(toCode: boolean, what: string): string {
  return toCode ? `astfill: write code for the ${what}` : `astfill: attach the ${what} as context`;
}

// Shift+drop of an image file into an editor offers two edits: "attach the
// image as context" (inserts nothing; the image is attached when the edit is
// chosen) and "write code for the image" (the vision model's code is inserted
// at the drop position). The work runs in resolveDocumentDropEdit, once the
// user has chosen.
class ImageDropEdit extends vscode.DocumentDropEdit {
  constructor(readonly source: string, readonly document: vscode.TextDocument, readonly position: vscode.Position,
    readonly toCode: boolean) {
    super('', title(toCode, 'image'), toCode ? CODE_KIND : ATTACH_KIND);
  }
}

export class ImageDropProvider implements vscode.DocumentDropEditProvider<ImageDropEdit> {
  constructor(private readonly daemon: Daemon) {}

  async provideDocumentDropEdits(document: vscode.TextDocument, position: vscode.Position,
    data: vscode.DataTransfer): Promise<ImageDropEdit[] | undefined> {
    const list = await data.get('text/uri-list')?.asString();
    const image = list?.split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'))
      .map((s) => vscode.Uri.parse(s)).find((u) => u.scheme === 'file' && isImagePath(u.path));
    if (!image) return undefined;
    const source = image.toString();
    return [new ImageDropEdit(source, document, position, false), new ImageDropEdit(source, document, position, true)];
  }

  async resolveDocumentDropEdit(edit: ImageDropEdit, token: vscode.CancellationToken): Promise<ImageDropEdit> {
    edit.insertText = await runChosen(this.daemon, edit.source, edit.document, edit.position, edit.toCode, token);
    return edit;
  }
}

// Pasting an image (a screenshot on the clipboard, or a copied image file)
// offers the same two edits; clipboard bytes travel as a data: URI.
class ImagePasteEdit extends vscode.DocumentPasteEdit {
  constructor(readonly source: string, readonly document: vscode.TextDocument, readonly position: vscode.Position,
    readonly toCode: boolean) {
    super('', title(toCode, 'pasted image'), toCode ? CODE_KIND : ATTACH_KIND);
  }
}

export const PASTE_MIME_TYPES = ['image/png', 'image/jpeg'];

export class ImagePasteProvider implements vscode.DocumentPasteEditProvider<ImagePasteEdit> {
  constructor(private readonly daemon: Daemon) {}

  async provideDocumentPasteEdits(document: vscode.TextDocument, ranges: readonly vscode.Range[],
    data: vscode.DataTransfer, _context: vscode.DocumentPasteEditContext,
    token: vscode.CancellationToken): Promise<ImagePasteEdit[] | undefined> {
    for (const mime of PASTE_MIME_TYPES) {
      const file = data.get(mime)?.asFile();
      if (!file) continue;
      let source: string;
      if (file.uri?.scheme === 'file') {
        source = file.uri.toString();
      } else {
        const bytes = await file.data();
        if (token.isCancellationRequested) return undefined;
        source = `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;
      }
      const at = ranges[0]?.start ?? new vscode.Position(0, 0);
      return [new ImagePasteEdit(source, document, at, false), new ImagePasteEdit(source, document, at, true)];
    }
    return undefined;
  }

  async resolveDocumentPasteEdit(edit: ImagePasteEdit, token: vscode.CancellationToken): Promise<ImagePasteEdit> {
    edit.insertText = await runChosen(this.daemon, edit.source, edit.document, edit.position, edit.toCode, token);
    return edit;
  }
}
