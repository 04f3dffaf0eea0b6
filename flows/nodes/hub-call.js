'use strict';
const { buyerAuth } = require('./lib/hub-connection.js');

/**
 * Calls one hub action with params from the message (`msg.payload`, or a JSONata expression over
 * the message) and puts the answer in `msg.payload`. The call carries the connection's identity,
 * or the buyer the message names when "act for the buyer in" is set.
 */
module.exports = function register(RED) {
  function HubCallNode(config) {
    RED.nodes.createNode(this, config);
    this.hub = RED.nodes.getNode(config.hub);
    this.action = config.action;
    this.actAsBuyer = config.buyerProperty ? String(config.buyerProperty) : '';
    let expression;
    if (config.paramsType === 'jsonata' && config.params) {
      try {
        expression = RED.util.prepareJSONataExpression(config.params, this);
      } catch (error) {
        this.error(RED._('hub-call.errors.bad-expression', { error: error.message }));
      }
    }

    const paramsOf = (msg) =>
      new Promise((resolve, reject) => {
        if (!expression) return resolve(msg.payload ?? {});
        RED.util.evaluateJSONataExpression(expression, msg, (error, value) =>
          error ? reject(error) : resolve(value),
        );
      });

    this.on('input', async (msg, send, done) => {
      try {
        if (!this.hub) throw new Error(RED._('hub-call.errors.no-hub'));
        const connection = this.hub.ready();
        const action = msg.action && config.actionFromMessage ? String(msg.action) : this.action;
        const params = await paramsOf(msg);
        const auth = this.actAsBuyer
          ? buyerAuth(RED.util.getMessageProperty(msg, this.actAsBuyer))
          : undefined;
        this.status({ fill: 'blue', shape: 'ring', text: action });
        msg.payload = await connection.call(action, params, auth, msg._msgid);
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

  RED.nodes.registerType('hub-call', HubCallNode);
};
