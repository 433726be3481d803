import { expect } from 'chai';
import { TaskdeckError } from '../../../core/errors.js';
import {
  CONTENT_TYPES,
  contentDisposition,
  downloadFilename,
  selectFormat,
  type Format,
  type FormatQuery,
} from '../../../core/http/formats/select-format.js';

const plain = { formatIsTaskField: false };
const taskField = { formatIsTaskField: true };

function refusal(run: () => unknown): TaskdeckError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(TaskdeckError);
    return error as TaskdeckError;
  }
  throw new Error('expected a refusal');
}

describe('selectFormat', () => {
  const cases: Array<[string, FormatQuery, string | undefined, boolean, Format]> = [
    ['no parameter, no Accept', {}, undefined, false, 'html'],
    ['format=json', { format: 'json' }, undefined, false, 'json'],
    ['format=csv', { format: 'csv' }, undefined, false, 'csv'],
    ['format=xml', { format: 'xml' }, undefined, false, 'xml'],
    ['format=yaml', { format: 'yaml' }, undefined, false, 'yaml'],
    ['format=yml', { format: 'yml' }, undefined, false, 'yaml'],
    ['format=debug', { format: 'debug' }, undefined, false, 'debug'],
    ['format=html', { format: 'html' }, 'application/json', false, 'html'],
    ['t=yaml beats format=json', { t: 'yaml', format: 'json' }, undefined, false, 'yaml'],
    ['t=csv beats an unknown format', { t: 'csv', format: 'pdf' }, undefined, false, 'csv'],
    ['empty t falls through to format', { t: '', format: 'xml' }, undefined, false, 'xml'],
    ['empty format falls through to Accept', { format: '' }, 'text/csv', false, 'csv'],
    ['parameter beats Accept', { format: 'yaml' }, 'application/json', false, 'yaml'],
    ['repeated format: the first counts', { format: ['json', 'xml'] }, undefined, false, 'json'],
    ['repeated t: the first counts, a later bad one is ignored', { t: ['xml', 'pdf'] }, undefined, false, 'xml'],
    ['field named format: format is ignored', { format: 'json' }, undefined, true, 'html'],
    ['field named format: even an unknown value is ignored', { format: 'pdf' }, undefined, true, 'html'],
    ['field named format: t still works', { t: 'json', format: 'tar' }, undefined, true, 'json'],
    ['field named format: Accept still works', { format: 'sql' }, 'application/xml', true, 'xml'],
    ['Accept application/json', {}, 'application/json', false, 'json'],
    ['Accept text/json', {}, 'text/json', false, 'json'],
    ['Accept text/csv', {}, 'text/csv', false, 'csv'],
    ['Accept application/xml', {}, 'application/xml', false, 'xml'],
    ['Accept text/xml', {}, 'text/xml', false, 'xml'],
    ['Accept application/x-yaml', {}, 'application/x-yaml', false, 'yaml'],
    ['Accept application/yaml', {}, 'application/yaml', false, 'yaml'],
    ['Accept text/yaml', {}, 'text/yaml', false, 'yaml'],
    ['Accept text/plain means debug', {}, 'text/plain', false, 'debug'],
    ['Accept with parameters', {}, 'application/json; charset=utf-8; q=0.9', false, 'json'],
    ['Accept padded and upper-case', {}, '  Application/JSON ;q=1', false, 'json'],
    ['Accept list: the first entry counts', {}, 'text/csv, application/json', false, 'csv'],
    ['Accept list: a browser gets HTML', {}, 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false, 'html'],
    ['Accept */*', {}, '*/*', false, 'html'],
    ['Accept application/*', {}, 'application/*', false, 'html'],
    ['Accept a near miss', {}, 'application/jsonx', false, 'html'],
    ['Accept empty', {}, '', false, 'html'],
  ];
  for (const [name, query, accept, formatIsTaskField, expected] of cases) {
    it(`${name} -> ${expected}`, () => {
      expect(selectFormat(query, accept, { formatIsTaskField })).to.equal(expected);
    });
  }

  it('refuses ?format=pdf with 400 and the allowed values', () => {
    const error = refusal(() => selectFormat({ format: 'pdf' }, undefined, plain));
    expect(error.status).to.equal(400);
    expect(error.code).to.equal('ERR_INVALID_REQUEST');
    expect(error.expose).to.equal(true);
    expect(error.message).to.equal('parameter "format": expected one of html, json, csv, xml, yaml, debug, got "pdf"');
  });

  it('refuses ?format=JSON: matching is exact', () => {
    expect(refusal(() => selectFormat({ format: 'JSON' }, 'application/json', plain)).message).to.contain('got "JSON"');
  });

  it('refuses an unknown t, naming t', () => {
    const error = refusal(() => selectFormat({ t: 'toml', format: 'json' }, undefined, taskField));
    expect(error.message).to.equal('parameter "t": expected one of html, json, csv, xml, yaml, debug, got "toml"');
  });

  it('refuses a repeated format whose first value is unknown', () => {
    expect(refusal(() => selectFormat({ format: ['pdf', 'json'] }, undefined, plain)).status).to.equal(400);
  });

  it('quotes a hostile value safely and bounds its length', () => {
    const error = refusal(() => selectFormat({ format: `"${'x'.repeat(10_000)}\n<b>` }, undefined, plain));
    expect(error.message.length).to.be.below(300);
    expect(error.message).to.not.contain('\n');
  });

  it('does not treat Object.prototype names as formats', () => {
    expect(refusal(() => selectFormat({ format: 'constructor' }, undefined, plain)).status).to.equal(400);
    expect(selectFormat({}, 'constructor', plain)).to.equal('html');
  });
});

describe('CONTENT_TYPES', () => {
  it('names a UTF-8 media type for every data format', () => {
    expect(CONTENT_TYPES).to.deep.equal({
      json: 'application/json; charset=utf-8',
      csv: 'text/csv; charset=utf-8',
      xml: 'application/xml; charset=utf-8',
      yaml: 'application/yaml; charset=utf-8',
      debug: 'application/json; charset=utf-8',
    });
  });
});

describe('downloadFilename', () => {
  it('adds the extension of the format', () => {
    expect(downloadFilename('tasks', 'json')).to.equal('tasks.json');
    expect(downloadFilename('run-01J2ABC', 'csv')).to.equal('run-01J2ABC.csv');
    expect(downloadFilename('result', 'xml')).to.equal('result.xml');
    expect(downloadFilename('runs', 'yaml')).to.equal('runs.yaml');
    expect(downloadFilename('task-backup', 'debug')).to.equal('task-backup.debug.json');
    expect(downloadFilename('page', 'html')).to.equal('page.html');
  });

  it('keeps only [A-Za-z0-9._-] and never starts with a dot', () => {
    expect(downloadFilename('../../etc/passwd', 'json')).to.equal('etc_passwd.json');
    expect(downloadFilename('a "b"\r\nc;d/é', 'csv')).to.equal('a_b_c_d_.csv');
    expect(downloadFilename('', 'xml')).to.equal('export.xml');
    expect(downloadFilename('...', 'xml')).to.equal('export.xml');
  });

  it('caps the base at 100 characters', () => {
    expect(downloadFilename('k'.repeat(500), 'yaml')).to.equal(`${'k'.repeat(100)}.yaml`);
  });
});

describe('contentDisposition', () => {
  it('is an attachment with a quoted file name', () => {
    expect(contentDisposition('tasks.json')).to.equal('attachment; filename="tasks.json"');
  });

  it('cannot be broken out of by quotes, backslashes or line breaks', () => {
    expect(contentDisposition('a"b\\c\r\nSet-Cookie: x=1é.csv')).to.equal('attachment; filename="a_b_c__Set-Cookie: x=1_.csv"');
  });
});
