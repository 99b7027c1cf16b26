// How a dropped or pasted image reaches the daemon: by path or by its bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  imageDataUri, imageMimeForName, imageRoute, ImageTooLargeError, lineComment, MAX_INLINE_IMAGE_BYTES, noteLine,
  parseUriList,
} from '../out/imageSource.js';

const here = (...paths) => ({ exists: (p) => paths.includes(p) });
const local = { remote: false, ...here('/home/me/shot.png') };

test('a file: image that is on this machine goes by path, even when the drop also holds its bytes', () => {
  for (const hasBytes of [false, true])
    assert.deepEqual(imageRoute({ scheme: 'file', path: '/home/me/shot.png', hasBytes }, local),
      { kind: 'path', path: '/home/me/shot.png' });
});

test('a file: image that is not here: its bytes, else nothing (no file system here has it)', () => {
  assert.deepEqual(imageRoute({ scheme: 'file', path: '/elsewhere/a.png', hasBytes: true }, local), { kind: 'bytes' });
  assert.deepEqual(imageRoute({ scheme: 'file', path: '/elsewhere/a.png', hasBytes: false }, local), { kind: 'none' });
});

test('vscode-remote: is a path of this machine only in a remote window, where the daemon runs beside us', () => {
  const c = { scheme: 'vscode-remote', path: '/home/me/shot.png', hasBytes: true };
  assert.deepEqual(imageRoute(c, { ...local, remote: true }), { kind: 'path', path: '/home/me/shot.png' });
  // A local window: the same path names another machine's file.
  assert.deepEqual(imageRoute(c, local), { kind: 'bytes' });
  assert.deepEqual(imageRoute({ ...c, hasBytes: false }, local), { kind: 'read' });
  // Remote, but not a file here: bytes, else VS Code reads it.
  assert.deepEqual(imageRoute({ ...c, path: '/gone.png' }, { ...local, remote: true }), { kind: 'bytes' });
  assert.deepEqual(imageRoute({ ...c, path: '/gone.png', hasBytes: false }, { ...local, remote: true }), { kind: 'read' });
});

test('vscode-local:, untitled: and other schemes: the bytes, else read through VS Code, never a local path', () => {
  for (const scheme of ['vscode-local', 'untitled', 'vscode-userdata', 'http']) {
    // The path exists here, but it is not this machine's path.
    assert.deepEqual(imageRoute({ scheme, path: '/home/me/shot.png', hasBytes: true }, local), { kind: 'bytes' }, scheme);
    assert.deepEqual(imageRoute({ scheme, path: '/home/me/shot.png', hasBytes: false }, local), { kind: 'read' }, scheme);
  }
});

test('no URI at all (a browser drop or a screenshot): the bytes', () => {
  assert.deepEqual(imageRoute({ hasBytes: true }, local), { kind: 'bytes' });
  assert.deepEqual(imageRoute({ hasBytes: false }, local), { kind: 'none' });
});

test('media types by name', () => {
  assert.equal(imageMimeForName('a.PNG'), 'image/png');
  assert.equal(imageMimeForName('/x/y.jpeg'), 'image/jpeg');
  assert.equal(imageMimeForName('y.JPG'), 'image/jpeg');
  assert.equal(imageMimeForName('notes.txt'), undefined);
  assert.equal(imageMimeForName('png'), undefined);
});

test('uri-list: one URI a line, comments and blanks left out', () => {
  assert.deepEqual(parseUriList('# a comment\r\nfile:///a.png\r\n\r\n  vscode-local:/b.jpg  \n'),
    ['file:///a.png', 'vscode-local:/b.jpg']);
});

test('data: URIs carry the bytes in base64; too many bytes or none are refused, naming the limit', () => {
  const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
  assert.equal(imageDataUri(bytes, 'image/png', 'a.png'), 'data:image/png;base64,iVBORwD/');
  // A view into a larger buffer sends only its own bytes.
  assert.equal(imageDataUri(new Uint8Array(bytes.buffer, 1, 3), 'image/png', 'a.png'), 'data:image/png;base64,UE5H');
  assert.throws(() => imageDataUri(new Uint8Array(0), 'image/png', 'a.png'), /a\.png is empty/);
  assert.doesNotThrow(() => imageDataUri(new Uint8Array(MAX_INLINE_IMAGE_BYTES), 'image/png', 'big.png'));
  assert.throws(() => imageDataUri(new Uint8Array(MAX_INLINE_IMAGE_BYTES + 1), 'image/png', 'big.png'),
    (e) => e instanceof ImageTooLargeError && /big\.png is 32\.0 MiB.*at most 32\.0 MiB/.test(e.message));
});

test('the note a drop or paste writes is a comment in the document\'s language, on its own indented line', () => {
  assert.equal(lineComment('python', 'astfill: x'), '# astfill: x');
  assert.equal(lineComment('typescript', 'astfill: x'), '// astfill: x');
  assert.equal(lineComment('lua', 'astfill: x'), '-- astfill: x');
  assert.equal(lineComment('html', 'astfill: x'), '<!-- astfill: x -->');
  assert.equal(lineComment('css', 'astfill: x'), '/* astfill: x */');
  assert.equal(lineComment('plaintext', 'astfill: x'), 'astfill: x');
  assert.equal(lineComment('some-new-language', 'astfill: x'), '// astfill: x');
  // Never empty: the note is what makes the edit an undo step of its own.
  assert.equal(noteLine('python', '        return 1', 'astfill: the image a.png'), '        # astfill: the image a.png\n');
  assert.equal(noteLine('go', '\tx := 1', 'n'), '\t// n\n');
  assert.equal(noteLine('python', '', 'n'), '# n\n');
});
