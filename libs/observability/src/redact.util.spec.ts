import { redactToken } from './redact.util';

describe('redactToken', () => {
  it('keeps four characters at each end of a long token and hides short ones entirely', () => {
    expect(redactToken('a'.repeat(30) + 'wxyz')).toBe('aaaa…wxyz');
    expect(redactToken('short')).toBe('***');
    expect(redactToken(undefined)).toBe('');
  });
});
