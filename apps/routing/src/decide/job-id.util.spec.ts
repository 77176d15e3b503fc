import { jobIdFor, messageDigest } from './job-id.util';

// Job ids and message digests are stored (requests, push memory, outcomes, dead letters): the
// same inputs must keep giving the same values across releases.
describe('job ids and message digests', () => {
  it('are the values earlier releases computed', () => {
    expect(jobIdFor('demo', 'm-1001', 'bob', 'iphone-1')).toBe(
      '5276383c-98cf-7918-61f4-3b38e6dc7abb',
    );
    expect(jobIdFor('demo', 'm-1001', 'bob', null)).toBe('e83cbf23-c1ec-e33f-ee35-5deda48f3c03');
    expect(messageDigest('m-1001')).toBe('gAVnVAB01ZHswcul');
    expect(messageDigest('ü-✓')).toBe('mlK-YHtTQ6f8M-HQ');
  });

  it('differ when any part differs', () => {
    const base = jobIdFor('demo', 'm-1', 'bob', 'd1');
    expect(jobIdFor('demo2', 'm-1', 'bob', 'd1')).not.toBe(base);
    expect(jobIdFor('demo', 'm-2', 'bob', 'd1')).not.toBe(base);
    expect(jobIdFor('demo', 'm-1', 'bob2', 'd1')).not.toBe(base);
    expect(jobIdFor('demo', 'm-1', 'bob', 'd2')).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
