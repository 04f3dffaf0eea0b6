import type { PGlite } from '@electric-sql/pglite';

/** The parts of pglite-socket's (unexported) query queue this module relies on. */
interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(error: unknown): void;
  onData(data: Uint8Array): void;
}
interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue(): Promise<void>;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'
const TYPED = /[A-Za-z]/;

/**
 * pglite-socket multiplexes every client connection onto PGlite's single session, message by
 * message; it keeps a connection's messages together only inside an explicit transaction. But the
 * extended query protocol the `pg` driver uses for every parameterised query is a sequence (Parse,
 * Bind, Describe, Execute ... Sync) over the session's *unnamed* statement and portal: when two
 * connections' sequences interleave, one query runs with the other's parameters ("invalid input
 * syntax for type uuid" with someone else's text array). This keeps each connection's sequence
 * together until its Sync (or a simple Query) ends it, exactly as it already does for transactions.
 *
 * It replaces two methods of the server's queue object (pglite-socket does not export the queue).
 * `core/embedded-default.integration.test.ts` fails without it: on a restart, the catalog search
 * service's catch-up sync runs parameterised queries on several connections while the first login
 * arrives, and the login answered 500 with another query's parameters.
 */
export function keepProtocolSequencesTogether(queue: unknown): void {
  const q = queue as QueryQueue;
  if (typeof q.processQueue !== 'function' || !Array.isArray(q.queue)) {
    throw new Error(
      'pglite-socket query queue has an unexpected shape; review keepProtocolSequencesTogether',
    );
  }
  let midSequence = false;

  q.processQueue = async function processQueue(this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    while (this.queue.length > 0) {
      let item: QueuedMessage | undefined;
      if (this.lastHandlerId !== null && (midSequence || this.db.isInTransaction())) {
        const index = this.queue.findIndex((candidate) => candidate.handlerId === this.lastHandlerId);
        // The connection in the middle of a sequence has not sent its next message yet: wait for it.
        if (index === -1) break;
        item = this.queue.splice(index, 1)[0]!;
      } else {
        item = this.queue.shift()!;
      }
      const current = item;
      let bytes = 0;
      try {
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(current.message, {
            onRawData: (data: Uint8Array) => {
              bytes += data.length;
              current.onData(data);
            },
          }),
        );
      } catch (error) {
        current.reject(error);
        this.processing = false;
        return;
      }
      this.lastHandlerId = current.handlerId;
      const type = current.message[0] ?? 0;
      // Startup packets are untyped (they begin with their length); Sync, Query and Terminate end a sequence.
      midSequence =
        TYPED.test(String.fromCharCode(type)) && type !== SYNC && type !== QUERY && type !== TERMINATE;
      current.resolve(bytes);
    }
    this.processing = false;
  };

  const clearTransactionIfNeeded = q.clearTransactionIfNeeded.bind(q);
  q.clearTransactionIfNeeded = async function clear(this: QueryQueue, handlerId: number) {
    // A connection that goes away mid-sequence must not keep the others waiting for it.
    if (this.lastHandlerId === handlerId && midSequence) {
      midSequence = false;
      if (!this.db.isInTransaction()) {
        this.lastHandlerId = null;
        await this.processQueue();
        return;
      }
    }
    await clearTransactionIfNeeded(handlerId);
  };
}
