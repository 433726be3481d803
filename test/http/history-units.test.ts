/** The pure parts of history search and long logs: snippet escaping, and paging a log with a dropped section. */
import { expect } from 'chai';
import { lastLogSeq, logPageBefore, logTail, logText, type LogReader } from '../../core/http/log-window.js';
import { snippetJson, snippetView } from '../../core/http/search-snippet.js';
import type { LogLine, SearchSnippet } from '../../core/tasks/run-repository.js';

const snippet = (text: string, where: SearchSnippet['where'] = 'log'): SearchSnippet => ({ runId: 'r', where, seq: where === 'log' ? 7 : null, text });

/** A log of lines 1..head and tail..last (the cap dropped the rest), answering as the store does; counts its queries. */
function fakeLog(head: number, tail: number, last: number): LogReader & { queries: number } {
  const seqs = [...Array.from({ length: head }, (_, i) => i + 1), ...Array.from({ length: Math.max(0, last - tail + 1) }, (_, i) => tail + i)];
  const reader = {
    queries: 0,
    async getLogs(_id: string, options: { afterSeq?: number; limit?: number } = {}): Promise<LogLine[]> {
      reader.queries += 1;
      const after = options.afterSeq ?? 0;
      // Binary search for the first seq after `after`, as the primary key index would.
      let low = 0;
      let high = seqs.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (seqs[mid]! > after) high = mid;
        else low = mid + 1;
      }
      return seqs.slice(low, low + (options.limit ?? seqs.length)).map((seq) => ({ seq, at: 0, stream: 'log' as const, msg: `l${seq}` }));
    },
  };
  return reader;
}

describe('history: snippets and log pages (units)', () => {
  describe('snippets', () => {
    it('escapes the text before it adds <mark>, and shows hidden characters', () => {
      expect(snippetView(snippet('<img src=x onerror=alert(1)> \u0002disk\u0003 & "q" \u202e')).html).to.equal(
        '&lt;img src=x onerror=alert(1)&gt; <mark>disk</mark> &amp; &quot;q&quot; <abbr class="invisible-char" title="hidden character U+202E">U+202E</abbr>',
      );
    });

    it('balances markers cut by the excerpt, drops stray ones, and never nests marks', () => {
      expect(snippetView(snippet('…ab\u0002cd')).html).to.equal('…ab<mark>cd</mark>');
      expect(snippetView(snippet('ab\u0003cd')).html).to.equal('abcd');
      expect(snippetView(snippet('\u0002a\u0002b\u0003c\u0003')).html).to.equal('<mark>ab</mark>c');
    });

    it('drops colour codes and control characters from the excerpt', () => {
      const json = snippetJson(snippet('\u001b[1;31m\u0002error\u0003\u001b[0m:\u0000 bell\u0007 done'));
      expect(json).to.deep.equal({ where: 'log', seq: 7, text: 'error:  bell  done', highlights: [{ start: 0, end: 5 }] });
    });

    it('counts highlight offsets in UTF-16 code units, as JavaScript indexes strings', () => {
      const json = snippetJson(snippet('😀 naïve \u0002café\u0003 中文 \u0002x\u0003', 'data'));
      expect(json.seq).to.equal(null);
      expect(json.highlights.map((h) => json.text.slice(h.start, h.end))).to.deep.equal(['café', 'x']);
      expect(json.highlights[0]).to.deep.equal({ start: 9, end: 13 });
    });
  });

  describe('log pages', () => {
    it('finds the last line with two lookups when the hint is right, and in logarithmic lookups without one', async () => {
      const log = fakeLog(50_000, 950_001, 1_000_000);
      expect(await lastLogSeq(log, 'r', 1_000_000)).to.equal(1_000_000);
      expect(log.queries).to.equal(2);
      log.queries = 0;
      expect(await lastLogSeq(log, 'r', 0)).to.equal(1_000_000);
      expect(log.queries).to.be.below(45);
      log.queries = 0;
      expect(await lastLogSeq(log, 'r', 123)).to.equal(1_000_000);
      expect(await lastLogSeq(fakeLog(0, 1, 0), 'r', 5)).to.equal(0);
    });

    it('pages back over a dropped section in full pages, with few lookups', async () => {
      const log = fakeLog(1000, 900_001, 1_000_000);
      const tail = await logTail(log, 'r', 1000, 1_000_000);
      expect(tail.lines[0]!.seq).to.equal(999_001);
      const seen = [...tail.lines.map((l) => l.seq)];
      let before = tail.before;
      let pages = 0;
      let worst = 0;
      while (before !== null) {
        log.queries = 0;
        const page = await logPageBefore(log, 'r', before, 1000);
        worst = Math.max(worst, log.queries);
        seen.unshift(...page.lines.map((l) => l.seq));
        before = page.before;
        pages += 1;
      }
      // 100,000 tail lines and 1,000 head lines: 101 pages of 1,000 in all, the tail page included.
      expect(pages).to.equal(100);
      expect(seen).to.have.length(101_000);
      expect(new Set(seen).size).to.equal(101_000);
      expect(seen.slice(998, 1002)).to.deep.equal([999, 1000, 900_001, 900_002]);
      expect(worst, 'lookups for the page across the gap').to.be.below(25);
    });

    it('streams the whole log as text in batches, a marker where lines were dropped', async () => {
      const log = fakeLog(3, 8, 9);
      let text = '';
      for await (const chunk of logText(log, 'r', 2)) text += chunk;
      expect(text).to.equal('l1\nl2\nl3\n… 4 lines dropped (the log keeps its first and last lines) …\nl8\nl9\n');
    });
  });
});
