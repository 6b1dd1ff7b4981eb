// Preloaded into Node-based peers (node -r ./loopback-only.js ...): kinesalite and
// kinesis-local listen on all interfaces with no option to change it, so every TCP
// listen() is forced onto 127.0.0.1.
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    if (first.path === undefined && (first.port !== undefined || first.host !== undefined)) {
      args[0] = Object.assign({}, first, { host: '127.0.0.1' });
    }
    return listen.apply(this, args);
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const rest = args.slice(1);
    if (rest.length > 0 && (typeof rest[0] === 'string' || rest[0] === null || rest[0] === undefined)) rest.shift();
    return listen.call(this, first, '127.0.0.1', ...rest);
  }
  return listen.apply(this, args);
};
