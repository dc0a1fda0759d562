/**
 * The client keeps the furthest Consistency-Token any answer gave it and sends
 * that one (client/src/consistency.ts): answers may arrive out of order, and a
 * token compared as text would go back in time ("0/FF" > "0/1000"). Its order
 * must be the server's (server/db/lsn.ts). The browser round trip is in
 * test/browser/replica-client.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { consistencyHeaders, noteConsistencyToken } from '../../client/src/consistency.ts';
import { parseLsn } from '../../server/db/lsn.ts';

const answer = (token?: string) => new Response(null, { headers: token === undefined ? {} : { 'Consistency-Token': token } });
const sent = () => consistencyHeaders()['Consistency-Token'];

describe('the client’s Consistency-Token', () => {
  it('sends nothing before an answer gave one, then always the furthest position, in the server’s order', () => {
    expect(consistencyHeaders()).toEqual({});
    noteConsistencyToken(answer());
    expect(consistencyHeaders()).toEqual({});

    const arriving = ['0/FF', '0/1000', '0/FFF', '1/0', '0/FFFFFFFF', '1/A', '1/9', 'A/0', '9/FFFFFFFF'];
    let furthest = '';
    for (const token of arriving) {
      noteConsistencyToken(answer(token));
      if (!furthest || parseLsn(token)! > parseLsn(furthest)!) furthest = token;
      expect(sent()).toBe(furthest);
    }
    expect(sent()).toBe('A/0');
  });

  it('ignores what is not a position', () => {
    const before = sent();
    for (const junk of ['', 'yesterday', 'FFFFFFFFF/0', '1/2/3', ' ']) noteConsistencyToken(answer(junk));
    expect(sent()).toBe(before);
  });
});
