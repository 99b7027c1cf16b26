// The inference of what happened to a suggestion (src/suggestionTracker.ts):
// VS Code reports only whole accepts, so partial accepts, typing over and
// dismissals are read from the changes that follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SuggestionTracker } from '../out/suggestionTracker.js';

function tracker() {
  const events = [];
  return { events, t: new SuggestionTracker((e) => events.push(e)) };
}
const U = 'file:///p/a.py';

test('shown, then Tab: the insertion and the command count as one whole accept', () => {
  const { events, t } = tracker();
  t.shown('s1', U, 10, 'foo(bar)\n');
  t.changed(U, [{ offset: 10, removed: 0, inserted: 'foo(bar)\n' }]);
  t.accepted('s1');
  assert.deepEqual(events, [
    { id: 's1', kind: 'shown' },
    { id: 's1', kind: 'accepted', acceptedChars: 9, acceptedLines: 2 },
  ]);
});

test('the command alone (no change seen first) is a whole accept', () => {
  const { events, t } = tracker();
  t.shown('s1', U, 0, 'x = 1');
  t.accepted('s1');
  assert.deepEqual(events.at(-1), { id: 's1', kind: 'accepted', acceptedChars: 5, acceptedLines: 1 });
});

test('accepting by word then by line; what follows does not undo it', () => {
  const { events, t } = tracker();
  t.shown('s1', U, 4, 'total = area(r)\nreturn total');
  t.changed(U, [{ offset: 4, removed: 0, inserted: 'total' }]);
  t.changed(U, [{ offset: 9, removed: 0, inserted: ' = area(r)' }]);
  t.changed(U, [{ offset: 19, removed: 0, inserted: 'zzz' }]);  // a different edit
  assert.deepEqual(events.slice(1), [
    { id: 's1', kind: 'acceptedWord', acceptedChars: 5, acceptedLines: 1 },
    { id: 's1', kind: 'acceptedLine', acceptedChars: 10, acceptedLines: 1 },
  ]);
});

test('typing it by hand is typing over; a different character or a request elsewhere dismisses', () => {
  const { events, t } = tracker();
  t.shown('s1', U, 0, 'abc');
  t.changed(U, [{ offset: 0, removed: 0, inserted: 'a' }]);
  t.changed(U, [{ offset: 1, removed: 0, inserted: 'x' }]);
  assert.deepEqual(events.at(-1), { id: 's1', kind: 'typedOver' });

  t.shown('s2', U, 0, 'def');
  t.changed(U, [{ offset: 0, removed: 0, inserted: 'q' }]);
  assert.deepEqual(events.at(-1), { id: 's2', kind: 'dismissed' });

  t.shown('s3', U, 0, 'ghi');
  t.requested(U, 0);  // asked again at the same place: still shown
  assert.deepEqual(events.at(-1), { id: 's3', kind: 'shown' });
  t.requested(U, 50);  // the cursor moved away
  assert.deepEqual(events.at(-1), { id: 's3', kind: 'dismissed' });

  t.shown('s4', U, 0, 'jk');
  t.changed(U, [{ offset: 0, removed: 0, inserted: 'j' }]);
  t.changed(U, [{ offset: 1, removed: 0, inserted: 'k' }]);  // typed to its end
  assert.deepEqual(events.at(-1), { id: 's4', kind: 'typedOver' });
});

test('a new suggestion replaces the one shown, which was dismissed; closing dismisses', () => {
  const { events, t } = tracker();
  t.shown('s1', U, 0, 'abc');
  t.shown('s2', U, 0, 'abd');
  t.closed(U);
  assert.deepEqual(events, [
    { id: 's1', kind: 'shown' }, { id: 's1', kind: 'dismissed' },
    { id: 's2', kind: 'shown' }, { id: 's2', kind: 'dismissed' },
  ]);
});
