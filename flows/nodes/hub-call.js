'use strict';
const { registerCallingNode, evaluateJsonata } = require('./lib/calling-node.js');

/**
 * Calls one hub action with params from the message (`msg.payload`, or a JSONata expression over
 * the message) and puts the answer in `msg.payload`. The call carries the connection's identity,
 * or the buyer the message names when "act for the buyer in" is set.
 */
module.exports = function register(RED) {
  registerCallingNode(RED, 'hub-call', {
    prepare(config, node) {
      if (config.paramsType !== 'jsonata' || !config.params) return undefined;
      try {
        return RED.util.prepareJSONataExpression(config.params, node);
      } catch (error) {
        node.error(RED._('hub-call.errors.bad-expression', { error: error.message }));
        return undefined;
      }
    },
    action: (config, msg) => (config.actionFromMessage && msg.action ? String(msg.action) : config.action),
    params: (_config, msg, expression) =>
      expression ? evaluateJsonata(RED, expression, msg) : Promise.resolve(msg.payload ?? {}),
  });
};
