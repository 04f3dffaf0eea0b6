import { describe, expect, it } from '@jest/globals';
import { fascSign } from './fasc-signature.ts';

describe('法大大 FASC signature', () => {
  it('matches the test vector of the official SDK algorithm', () => {
    const sign = fascSign(
      {
        'X-FASC-App-Id': 'app-id',
        'X-FASC-Sign-Type': 'HMAC-SHA256',
        'X-FASC-Timestamp': '1660000000123',
        'X-FASC-Nonce': '0123456789abcdef0123456789abcdef',
        'X-FASC-Api-SubVersion': '5.1',
        'X-FASC-AccessToken': 'token',
        bizContent: 'Alice',
      },
      'app-secret',
    );
    expect(sign).toBe('37e2dd3277c7fd3618257b09a7cde544f7d07208fb2791666738236dd3aeabde');
  });

  it('ignores the signature header and empty values, and changes with any signed value', () => {
    const base = { 'X-FASC-Timestamp': '1', 'X-FASC-Nonce': 'n', bizContent: '{"a":1}' };
    const sign = fascSign(base, 's');
    expect(fascSign({ ...base, 'X-FASC-Sign': 'whatever', 'X-FASC-Event': '' }, 's')).toBe(sign);
    expect(fascSign({ ...base, bizContent: '{"a":2}' }, 's')).not.toBe(sign);
    expect(fascSign({ ...base, 'X-FASC-Timestamp': '2' }, 's')).not.toBe(sign);
    expect(fascSign(base, 't')).not.toBe(sign);
  });
});
