import { expect } from 'chai';
import { splitWords, titleCase } from '../../core/tasks/title-case.js';

describe('titleCase', () => {
  describe('matches the seed for every verified key', () => {
    const vectors: Array<[string, string]> = [
      ['testbed', 'Testbed'],
      ['db_backup', 'Db Backup'],
      ['my-task', 'My Task'],
      ['api_sync', 'API Sync'],
      ['user_id', 'User ID'],
      ['fooBar', 'Foo Bar'],
      ['HTTPServer', 'HTTP Server'],
      ['v2-migrate', 'V2 Migrate'],
      ['json.export', 'JSON Export'],
      ['id', 'ID'],
    ];
    for (const [key, title] of vectors) {
      it(`turns "${key}" into "${title}"`, () => {
        expect(titleCase(key)).to.equal(title);
      });
    }
  });

  it('upper-cases every listed acronym, whatever its case in the key', () => {
    expect(titleCase('api_html_id_ip')).to.equal('API HTML ID IP');
    expect(titleCase('Json-md5-sha-sku')).to.equal('JSON MD5 SHA SKU');
    expect(titleCase('sql.xml.uri.url')).to.equal('SQL XML URI URL');
  });

  it('does not upper-case a word that merely contains an acronym', () => {
    expect(titleCase('idle_apiary')).to.equal('Idle Apiary');
    expect(titleCase('md5sum')).to.equal('Md5sum');
  });

  it('splits camel humps around a run of capitals', () => {
    expect(titleCase('userID')).to.equal('User ID');
    expect(titleCase('parseJSONFile')).to.equal('Parse JSON File');
    expect(titleCase('getURL')).to.equal('Get URL');
  });

  it('keeps a digit with the letters before it and splits before a capital after it', () => {
    expect(titleCase('step2Run')).to.equal('Step2 Run');
    expect(titleCase('md5_check')).to.equal('MD5 Check');
  });

  it('splits on underscores, spaces, hyphens and dots, however many in a row', () => {
    expect(titleCase('a__b--c..d  e')).to.equal('A B C D E');
    expect(titleCase('_private_')).to.equal('Private');
  });

  it('leaves the rest of each word as written', () => {
    expect(titleCase('nightly ETL run')).to.equal('Nightly ETL Run');
  });

  it('handles letters outside ASCII without dropping any', () => {
    expect(titleCase('café_au-lait')).to.equal('Café Au Lait');
    expect(titleCase('épée')).to.equal('Épée');
  });

  it('gives an empty title for an empty key or one made only of separators', () => {
    expect(titleCase('')).to.equal('');
    expect(titleCase('_-.')).to.equal('');
  });

  it('exposes the words it found', () => {
    expect(splitWords('HTTPServer_v2.fooBar')).to.deep.equal(['HTTP', 'Server', 'v2', 'foo', 'Bar']);
  });
});
