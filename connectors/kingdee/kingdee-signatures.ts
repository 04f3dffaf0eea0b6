import { createHash, createHmac } from 'node:crypto';

/**
 * Kingdee K/3 Cloud signatures, byte for byte as the vendor SDKs compute them (fact sheet §1.2).
 * Shared by the client (to sign) and the simulator (to verify), so both follow one definition;
 * the simulator's tests prove a wrong signature is refused.
 */

/**
 * LoginBySign `sign`: acctId, userName, appId, appSecret and the timestamp (seconds, as text)
 * sorted by ordinal (byte) order, concatenated without separator, SHA-256 of the UTF-8 bytes,
 * lower-case hex.
 */
export function loginBySignature(parts: {
  acctId: string;
  userName: string;
  appId: string;
  appSecret: string;
  timestamp: string;
}): string {
  const values = [parts.acctId, parts.userName, parts.appId, parts.appSecret, parts.timestamp];
  values.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  return createHash('sha256').update(values.join(''), 'utf8').digest('hex');
}

/** The XOR key of the API gateway secret: ASCII bytes, not hex-decoded (the Node SDK's bug). */
const GATEWAY_SECRET_XOR_KEY = Buffer.from('0054f397c6234378b09ca7d3e5debce7', 'ascii');

/**
 * `apigwSecret` from an app id `<clientId>_<encodedSecret>`: base64-decode the part after the
 * first `_`, XOR it byte by byte with the ASCII bytes of the fixed key, base64 again.
 */
export function gatewaySecret(appId: string): string {
  const encoded = splitAppId(appId).encodedSecret;
  const bytes = Buffer.from(encoded, 'base64');
  const mixed = Buffer.alloc(bytes.length);
  for (let index = 0; index < bytes.length; index += 1) {
    mixed[index] = (bytes[index] ?? 0) ^ (GATEWAY_SECRET_XOR_KEY[index % GATEWAY_SECRET_XOR_KEY.length] ?? 0);
  }
  return mixed.toString('base64');
}

export function splitAppId(appId: string): { clientId: string; encodedSecret: string } {
  const separator = appId.indexOf('_');
  if (separator <= 0 || separator === appId.length - 1) {
    throw new Error('A Kingdee app id has the form <clientId>_<encodedSecret>');
  }
  return { clientId: appId.slice(0, separator), encodedSecret: appId.slice(separator + 1) };
}

/** base64 of the lower-case hex HMAC-SHA256: the vendor's double encoding. */
function base64OfHexHmac(key: string, message: string): string {
  const hex = createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('hex');
  return Buffer.from(hex, 'utf8').toString('base64');
}

/** `X-Api-Signature` over the request line: POST, the URL-encoded path (`/` → `%2F`), nonce, timestamp. */
export function apiSignature(apigwSecret: string, path: string, nonce: string, timestamp: string): string {
  const message = `POST\n${encodeURIComponent(path)}\n\nx-api-nonce:${nonce}\nx-api-timestamp:${timestamp}\n`;
  return base64OfHexHmac(apigwSecret, message);
}

/** The plain `X-Kd-Appdata`: `acctId,userName,lcid,orgNum` (sent base64-encoded). */
export function appData(parts: {
  acctId: string;
  userName: string;
  lcid: number;
  orgNumber: string;
}): string {
  return `${parts.acctId},${parts.userName},${parts.lcid},${parts.orgNumber}`;
}

/** `X-Kd-Signature`: HMAC-SHA256 keyed by the app secret over appId + the plain app data. */
export function kdSignature(appSecret: string, appId: string, plainAppData: string): string {
  return base64OfHexHmac(appSecret, appId + plainAppData);
}

/** Every header of the per-request signature mode (SDK 8.x, no session). */
export function signedRequestHeaders(input: {
  path: string;
  acctId: string;
  userName: string;
  appId: string;
  appSecret: string;
  lcid: number;
  orgNumber: string;
  timestampSeconds: string;
}): Record<string, string> {
  const { clientId } = splitAppId(input.appId);
  const plain = appData(input);
  const ts = input.timestampSeconds;
  return {
    'X-Api-ClientID': clientId,
    'X-Api-Auth-Version': '2.0',
    'x-api-timestamp': ts,
    'x-api-nonce': ts,
    'x-api-signheaders': 'x-api-timestamp,x-api-nonce',
    'X-Api-Signature': apiSignature(gatewaySecret(input.appId), input.path, ts, ts),
    'X-Kd-Appkey': input.appId,
    'X-Kd-Appdata': Buffer.from(plain, 'utf8').toString('base64'),
    'X-Kd-Signature': kdSignature(input.appSecret, input.appId, plain),
  };
}
