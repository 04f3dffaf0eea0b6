import type {
  CheckResult,
  ConnectionContext,
  Connector,
  ReadOptions,
  ReadPage,
  RecordMapping,
  WriteOptions,
  WriteResult,
} from '../sdk/connector.ts';
import { compileConfigSchema } from '../sdk/connector-config.ts';
import { MappingError, toConnectorError } from '../sdk/connector-errors.ts';
import { loadConfigSchema, loadManifest, manifestStream } from '../sdk/connector-manifest.ts';
import type { FileRecord } from '../sdk/files/file-layout.ts';
import { SftpTransport } from '../sdk/files/sftp-transport.ts';
import { compareFileCursors, type FileStreamSpec, readFileStream } from './pull-file-stream.ts';
import { sendDeliveryInstruction } from './send-delivery-instruction.ts';
import { SHIPMENT_FILE, SHIPMENT_LAYOUT, STOCK_FILE, STOCK_LAYOUT } from './wms-files.ts';

const manifest = loadManifest(new URL('./manifest.json', import.meta.url));
const configSchema = loadConfigSchema(new URL('./config.schema.json', import.meta.url));
const settings = compileConfigSchema(configSchema);

export interface WmsConfig {
  host: string;
  port?: number;
  username: string;
  hostKeyFingerprint: string;
  ordersFolder?: string;
  shipmentsFolder?: string;
  inventoryFolder?: string;
  completion?: 'rename' | 'marker' | 'stable-size';
  inboundEncoding?: 'auto' | 'utf-8' | 'gbk' | 'gb18030';
  outboundEncoding?: 'utf-8-bom' | 'utf-8' | 'gbk';
  senderCode?: string;
  lookupDays?: number;
  archiveDelaySeconds?: number;
  timeoutMs?: number;
}

export interface WmsCredentials {
  privateKey: string;
}

export interface WmsConnectorOptions {
  /** The `delivery-instruction.outbound` mapping (canonical delivery request → rows); without it `write` takes rows. */
  mappings?: Partial<Record<'sendDeliveryInstruction', RecordMapping>>;
  now?: () => Date;
}

type Connection = ConnectionContext<WmsConfig, WmsCredentials>;

/** Config with its defaults filled in, checked against config.schema.json. */
function resolved(config: WmsConfig, credentials: WmsCredentials): Required<WmsConfig> {
  const copy = { ...config } as Record<string, unknown>;
  settings.assertValid(copy, { ...credentials });
  return copy as unknown as Required<WmsConfig>;
}

async function connect(config: Required<WmsConfig>, credentials: WmsCredentials): Promise<SftpTransport> {
  return SftpTransport.connect({
    host: config.host,
    port: config.port,
    username: config.username,
    privateKey: credentials.privateKey,
    hostKeyFingerprint: config.hostKeyFingerprint,
    connectTimeoutMs: config.timeoutMs,
    operationTimeoutMs: config.timeoutMs,
    idleTimeoutMs: config.timeoutMs,
  });
}

/**
 * Rows of one file → one record per shipment number, rows in file order (the shape the
 * `shipment-confirmation.inbound` mapping reads; it refuses a shipment whose rows name two orders).
 */
function shipmentsOf(rows: FileRecord[], file: string): Array<Record<string, unknown>> {
  const shipments = new Map<
    string,
    { order_no: string; shipment_no: string; file: string; rows: Record<string, string>[] }
  >();
  for (const { values } of rows) {
    const key = values.shipment_no!;
    let shipment = shipments.get(key);
    if (!shipment) {
      shipment = { order_no: values.order_no!, shipment_no: values.shipment_no!, file, rows: [] };
      shipments.set(key, shipment);
    }
    shipment.rows.push(values);
  }
  return [...shipments.values()];
}

/** The WMS connector: files over SFTP, see manifest.json and README.md. */
export function createWmsConnector(options: WmsConnectorOptions = {}): Connector<WmsConfig, WmsCredentials> {
  const now = options.now ?? (() => new Date());

  function streamSpec(config: Required<WmsConfig>, stream: string): FileStreamSpec {
    const common = {
      convention: { kind: config.completion } as FileStreamSpec['convention'],
      archiveDelayMs: config.archiveDelaySeconds * 1000,
      now,
    };
    if (stream === 'shipmentConfirmations') {
      return {
        ...common,
        directory: config.shipmentsFolder,
        accept: SHIPMENT_FILE,
        layout: { ...SHIPMENT_LAYOUT, encoding: config.inboundEncoding },
        toRecords: shipmentsOf,
      };
    }
    return {
      ...common,
      directory: config.inventoryFolder,
      accept: STOCK_FILE,
      layout: { ...STOCK_LAYOUT, encoding: config.inboundEncoding },
      toRecords: (rows, file) => rows.map(({ values }) => ({ ...values, file })),
    };
  }

  return {
    manifest,
    configSchema,

    async check(config, credentials): Promise<CheckResult> {
      try {
        const full = resolved(config, credentials);
        const sftp = await connect(full, credentials);
        try {
          // Listing each folder proves the login and the permissions the exchange needs.
          for (const folder of [full.ordersFolder, full.shipmentsFolder, full.inventoryFolder])
            await sftp.list(folder);
        } finally {
          await sftp.end();
        }
        return {
          summary: `Connected to sftp://${full.username}@${full.host}:${full.port} (host key ${full.hostKeyFingerprint}); the three exchange folders are readable`,
        };
      } catch (error) {
        throw toConnectorError(error);
      }
    },

    async *read(connection, stream, cursor, readOptions: ReadOptions = {}): AsyncIterable<ReadPage> {
      const declared = manifestStream(manifest, stream);
      if (!declared) throw new MappingError(`The WMS connector has no stream "${stream}"`);
      let sftp: SftpTransport | undefined;
      try {
        const config = resolved(connection.config, connection.credentials);
        sftp = await connect(config, connection.credentials);
        const pageSize = Math.min(
          readOptions.pageSize ?? declared.maxPageSize ?? 1000,
          declared.maxPageSize ?? 1000,
        );
        yield* readFileStream(sftp, streamSpec(config, stream), cursor, {
          pageSize,
          continuation: readOptions.continuation,
        });
      } catch (error) {
        throw toConnectorError(error);
      } finally {
        await sftp?.end();
      }
    },

    async write(connection: Connection, operation, input, writeOptions: WriteOptions): Promise<WriteResult> {
      try {
        if (operation !== 'sendDeliveryInstruction') {
          throw new MappingError(`The WMS connector has no operation "${operation}"`);
        }
        const mapping = options.mappings?.sendDeliveryInstruction;
        let payload = input;
        if (mapping) {
          try {
            payload = await mapping(input);
          } catch (error) {
            throw new MappingError(
              `The delivery instruction mapping failed: ${(error as Error).message}`,
              undefined,
              {
                cause: error,
              },
            );
          }
        }
        const config = resolved(connection.config, connection.credentials);
        const sftp = await connect(config, connection.credentials);
        try {
          return await sendDeliveryInstruction(sftp, payload, {
            ordersFolder: config.ordersFolder,
            senderCode: config.senderCode,
            encoding: config.outboundEncoding,
            lookupDays: config.lookupDays,
            idempotencyKey: writeOptions.idempotencyKey,
            now: now(),
          });
        } finally {
          await sftp.end();
        }
      } catch (error) {
        throw toConnectorError(error);
      }
    },

    compareCursors(_stream, a, b) {
      return compareFileCursors(a, b);
    },
  };
}
