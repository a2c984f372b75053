import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportArgs, reportFormatOf } from '../src/lib/report';

test('the file extension picks the format', () => {
  assert.equal(reportFormatOf('/x/Report.HTML'), 'html');
  assert.equal(reportFormatOf('r.htm'), 'html');
  assert.equal(reportFormatOf('r.md'), 'markdown');
  assert.equal(reportFormatOf('r.markdown'), 'markdown');
  assert.equal(reportFormatOf('r.pdf'), undefined);
});

test('arguments: paths stay single arguments, the root after --', () => {
  assert.deepEqual(reportArgs('html', '/tmp/a b; rm -rf ~.html', '-weird root'), [
    'report',
    '--format',
    'html',
    '--output',
    '/tmp/a b; rm -rf ~.html',
    '--allow-outside-output',
    '--',
    '-weird root',
  ]);
});
