'use strict';
const { buyerAuth } = require('./hub-connection.js');

/**
 * The shape of every node that calls one hub action per message (`hub-call`, and the planned
 * `hub-map`, `hub-enqueue`, `hub-connector`, which differ only in which action they call and how
 * they build its params): status while calling, the answer into the message, `done(err)` with
 * `msg.error` on failure so Catch nodes see it, and the buyer named by the message when the node
 * acts for one.
 *
 * @param {object} RED
 * @param {string} type the node type
 * @param {object} variant
 * @param {(config: object, msg: object) => string} variant.action the action to call
 * @param {(config: object, node: object) => unknown} [variant.prepare] once per node (e.g. compile an expression)
 * @param {(config: object, msg: object, prepared: unknown) => Promise<object>} variant.params its params
 * @param {(msg: object, answer: unknown) => void} [variant.answer] puts the answer on the message
 *   (default: `msg.payload`)
 */
function registerCallingNode(RED, type, variant) {
  function CallingNode(config) {
    RED.nodes.createNode(this, config);
    this.hub = RED.nodes.getNode(config.hub);
    const buyerProperty = config.buyerProperty ? String(config.buyerProperty) : '';
    const answer = variant.answer ?? ((msg, value) => Object.assign(msg, { payload: value }));
    const prepared = variant.prepare?.(config, this);

    this.on('input', async (msg, send, done) => {
      try {
        if (!this.hub) throw new Error(RED._(`${type}.errors.no-hub`));
        const connection = this.hub.ready();
        const action = variant.action(config, msg);
        const params = await variant.params(config, msg, prepared);
        const auth = buyerProperty ? buyerAuth(RED.util.getMessageProperty(msg, buyerProperty)) : undefined;
        this.status({ fill: 'blue', shape: 'ring', text: action });
        answer(msg, await connection.call(action, params, auth, msg._msgid));
        this.status({ fill: 'green', shape: 'dot', text: action });
        send(msg);
        done();
      } catch (error) {
        this.status({ fill: 'red', shape: 'ring', text: String(error.code ?? error.message).slice(0, 40) });
        msg.error = { message: error.message, code: error.code, type: error.type, data: error.data };
        done(error);
      }
    });
  }
  RED.nodes.registerType(type, CallingNode);
}

/** Evaluates a prepared JSONata expression against the message. */
function evaluateJsonata(RED, expression, msg) {
  return new Promise((resolve, reject) => {
    RED.util.evaluateJSONataExpression(expression, msg, (error, value) =>
      error ? reject(error) : resolve(value),
    );
  });
}

module.exports = { registerCallingNode, evaluateJsonata };
