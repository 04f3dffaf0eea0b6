import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KingdeeSimulator } from './kingdee.simulator.ts';
import { loginBySignature, signedRequestHeaders } from './kingdee-signatures.ts';

const AUTH = 'Kingdee.BOS.WebApi.ServicesStub.AuthService.';
const FORM = 'Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.';

let simulator: KingdeeSimulator;

beforeAll(async () => {
  simulator = await KingdeeSimulator.start();
  simulator.seedMaterials(3);
});

afterAll(() => simulator.close());

async function post(service: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${simulator.baseUrl}${service}.common.kdsvc`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, response };
}

function user() {
  const { config, credentials } = simulator.connection();
  return { acctId: config.acctId, userName: config.userName, ...credentials };
}

describe('LoginBySign signature', () => {
  it('is SHA-256, lower-case hex, of the five values sorted by byte order and joined without separator', () => {
    const parts = {
      acctId: 'b-acct',
      userName: 'Zed',
      appId: 'a_app',
      appSecret: '_secret',
      timestamp: '1700000000',
    };
    // Byte order: '1' < 'Z' < '_' < 'a' < 'b' (an ordinal sort, not a locale one).
    const expected = createHash('sha256').update('1700000000Zed_secreta_appb-acct').digest('hex');
    expect(loginBySignature(parts)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('opens a session for the right signature and answers the LoginResult with a kdservice-sessionid cookie', async () => {
    const { acctId, userName, appId, appSecret } = user();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const sign = loginBySignature({ acctId, userName, appId, appSecret, timestamp });
    const { status, json, response } = await post(`${AUTH}LoginBySign`, {
      parameters: [acctId, userName, appId, timestamp, sign, 2052],
    });
    expect(status).toBe(200);
    expect(json.LoginResultType).toBe(1);
    expect(json.IsSuccessByAPI).toBe(true);
    const cookie = response.headers.getSetCookie().find((value) => value.startsWith('kdservice-sessionid='));
    expect(cookie).toContain(String(json.KDSVCSessionId));
  });

  it.each([
    ['a signature made with another secret', { appSecret: 'wrong-secret' }],
    ['a signature over another timestamp', { timestamp: '1' }],
    ['an upper-case hex signature', { upperCase: true }],
  ])('refuses %s (HTTP 200, LoginResultType not 1, no session)', async (_name, change) => {
    const { acctId, userName, appId, appSecret } = user();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signed = loginBySignature({
      acctId,
      userName,
      appId,
      appSecret: 'appSecret' in change ? change.appSecret : appSecret,
      timestamp: 'timestamp' in change ? change.timestamp : timestamp,
    });
    const sign = 'upperCase' in change ? signed.toUpperCase() : signed;
    const before = simulator.sessionCount;
    const { status, json } = await post(`${AUTH}LoginBySign`, {
      acctid: acctId,
      username: userName,
      appid: appId,
      timestamp,
      sign,
      lcid: 2052,
    });
    expect(status).toBe(200);
    expect(json.LoginResultType).not.toBe(1);
    expect(json.KDSVCSessionId).toBeNull();
    expect(simulator.sessionCount).toBe(before);
  });
});

describe('per-request signed headers', () => {
  const query = { data: { FormId: 'BD_MATERIAL', FieldKeys: 'FNumber', StartRow: 0, Limit: 10 } };
  const path = `/k3cloud/${FORM}ExecuteBillQuery.common.kdsvc`;

  function headers(overrides: Partial<ReturnType<typeof user>> = {}) {
    const { acctId, userName, appId, appSecret } = { ...user(), ...overrides };
    return signedRequestHeaders({
      path,
      acctId,
      userName,
      appId,
      appSecret,
      lcid: 2052,
      orgNumber: '',
      timestampSeconds: String(Math.floor(Date.now() / 1000)),
    });
  }

  it('serves a correctly signed request without a session', async () => {
    const { json } = await post(`${FORM}ExecuteBillQuery`, query, headers());
    expect(json).toEqual([['MAT000001'], ['MAT000002'], ['MAT000003']]);
  });

  it.each([
    ['X-Kd-Signature keyed by another app secret', () => headers({ appSecret: 'wrong' })],
    [
      'an X-Api-Signature over another path',
      () => ({
        ...headers(),
        'X-Api-Signature': signedRequestHeaders({
          ...user(),
          path: '/k3cloud/x',
          lcid: 2052,
          orgNumber: '',
          timestampSeconds: '1',
        })['X-Api-Signature'] as string,
      }),
    ],
    ['a timestamp changed after signing', () => ({ ...headers(), 'x-api-timestamp': '1700000000' })],
    [
      'app data naming another user',
      () => ({
        ...headers(),
        'X-Kd-Appdata': Buffer.from(`${user().acctId},admin,2052,`).toString('base64'),
      }),
    ],
  ])('refuses %s with HTTP 200 and MsgCode 1, wrapped as a query answer', async (_name, build) => {
    const { status, json } = await post(`${FORM}ExecuteBillQuery`, query, build());
    expect(status).toBe(200);
    const status0 = (
      json as unknown as [[{ Result: { ResponseStatus: { IsSuccess: boolean; MsgCode: number } } }]]
    )[0][0].Result.ResponseStatus;
    expect(status0).toMatchObject({ IsSuccess: false, MsgCode: 1 });
  });
});

describe('the bill store', () => {
  it('keeps FBillNo unique and moves the document status A → B → C only in order', async () => {
    const { acctId, userName, appId, appSecret } = user();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const login = await post(`${AUTH}LoginBySign`, {
      parameters: [
        acctId,
        userName,
        appId,
        timestamp,
        loginBySignature({ acctId, userName, appId, appSecret, timestamp }),
        2052,
      ],
    });
    const session = { 'kdservice-sessionid': String(login.json.KDSVCSessionId) };
    simulator.seedCustomers(1);
    const model = {
      FBillNo: 'SIM-0001',
      FCustId: { FNumber: 'CUST0001' },
      FSaleOrderEntry: [{ FMaterialId: { FNumber: 'MAT000001' }, FQty: 1 }],
    };
    const saved = await post(
      `${FORM}Save`,
      { formid: 'SAL_SaleOrder', data: JSON.stringify({ Model: model }) },
      session,
    );
    expect(saved.json).toMatchObject({ Result: { ResponseStatus: { IsSuccess: true }, Number: 'SIM-0001' } });
    const duplicate = await post(
      `${FORM}save`,
      { parameters: ['SAL_SaleOrder', JSON.stringify({ Model: model })] },
      session,
    );
    expect(duplicate.json).toMatchObject({ Result: { ResponseStatus: { IsSuccess: false, MsgCode: 0 } } });
    const audit = await post(
      `${FORM}Audit`,
      { formid: 'SAL_SaleOrder', data: { Numbers: ['SIM-0001'] } },
      session,
    );
    expect(audit.json).toMatchObject({ Result: { ResponseStatus: { IsSuccess: false } } });
    expect(simulator.bill('SAL_SaleOrder', 'SIM-0001')?.fdocumentstatus).toBe('A');
    await post(
      `${FORM}Submit`,
      { formid: 'SAL_SaleOrder', data: { Numbers: ['SIM-0001'] } },
      { SID: session['kdservice-sessionid'] },
    );
    expect(simulator.bill('SAL_SaleOrder', 'SIM-0001')?.fdocumentstatus).toBe('B');
    const id = simulator.bill('SAL_SaleOrder', 'SIM-0001')?.fid;
    await post(
      `${FORM}Audit`,
      { formid: 'SAL_SaleOrder', data: { Ids: String(id) } },
      { Cookie: `kdservice-sessionid=${session['kdservice-sessionid']}` },
    );
    expect(simulator.bill('SAL_SaleOrder', 'SIM-0001')?.fdocumentstatus).toBe('C');
    const deleteAudited = await post(
      `${FORM}Delete`,
      { formid: 'SAL_SaleOrder', data: { Numbers: ['SIM-0001'] } },
      session,
    );
    expect(deleteAudited.json).toMatchObject({ Result: { ResponseStatus: { IsSuccess: false } } });
    expect(simulator.records('SAL_SaleOrder')).toHaveLength(1);
  });

  it('accepts the old ApiClient envelope, positional parameters as one JSON text', async () => {
    const { acctId, userName, appId, appSecret } = user();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const sign = loginBySignature({ acctId, userName, appId, appSecret, timestamp });
    const { json } = await post(`${AUTH}LoginBySign`, {
      format: 1,
      useragent: 'ApiClient',
      rid: 1,
      parameters: JSON.stringify([acctId, userName, appId, timestamp, sign, 2052]),
      timestamp: '2024-04-10 10:00:00',
      v: '1.0',
    });
    expect(json.LoginResultType).toBe(1);
  });

  it('answers an unknown form and a malformed filter as a query error row, HTTP 200', async () => {
    const headers = signedRequestHeaders({
      ...user(),
      path: `/k3cloud/${FORM}ExecuteBillQuery.common.kdsvc`,
      lcid: 2052,
      orgNumber: '',
      timestampSeconds: String(Math.floor(Date.now() / 1000)),
    });
    for (const data of [
      { FormId: 'NO_SUCH_FORM', FieldKeys: 'FNumber' },
      { FormId: 'BD_MATERIAL', FieldKeys: 'FNumber', FilterString: "FNumber = 'unterminated" },
      { FormId: 'BD_MATERIAL', FieldKeys: 'FNumber', FilterString: '('.repeat(100) },
    ]) {
      const { status, json } = await post(`${FORM}ExecuteBillQuery`, { data }, headers);
      expect(status).toBe(200);
      expect(json).toMatchObject([[{ Result: { ResponseStatus: { IsSuccess: false } } }]]);
    }
  });
});
