import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampZoom, fitZoom, MAX_ZOOM, MIN_ZOOM, naturalSize } from '../src/webview/zoom';

test('zoom is clamped and never NaN', () => {
  assert.equal(clampZoom(100), MAX_ZOOM);
  assert.equal(clampZoom(0.0001), MIN_ZOOM);
  assert.equal(clampZoom(Number.NaN), 1);
  assert.equal(clampZoom(-1), 1);
});

test('fit shows the whole drawing, at most twice its size', () => {
  assert.equal(fitZoom(1000, 500, 500, 500), 0.5);
  assert.equal(fitZoom(100, 100, 1000, 1000), 2);
  assert.equal(fitZoom(0, 100, 10, 10), 1);
});

test('natural size from viewBox, else width/height', () => {
  assert.deepEqual(naturalSize('0 0 640 480', '10', '10'), { width: 640, height: 480 });
  assert.deepEqual(naturalSize('0,0,640,480', null, null), { width: 640, height: 480 });
  assert.deepEqual(naturalSize(null, '300px', '200'), { width: 300, height: 200 });
  assert.equal(naturalSize('bad', null, null), undefined);
});
