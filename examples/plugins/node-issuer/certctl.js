// certctl.js: what any certctl plugin written in Node.js needs besides its
// own methods. It does on the wire what the Go SDK (sdk/plugin) does:
//
//   1. the go-plugin handshake: check the magic cookie of the plugin's
//      kind, pick the protocol version, listen on a Unix socket and print
//      the handshake line on stdout;
//   2. automatic mutual TLS: trust only the host's certificate
//      (PLUGIN_CLIENT_CERT) and serve with a fresh self-signed one, which
//      the handshake line hands to the host;
//   3. the services a go-plugin host calls on every plugin: the gRPC
//      health check and go-plugin's controller (Shutdown);
//   4. errors as certctl codes in gRPC status details, so the host knows
//      whether to retry (see sdk/plugin/grpc_errors.go);
//   5. configuration checked against the plugin's schema, as the Go SDK's
//      Schema.Normalize does;
//   6. log lines on stderr in the JSON form the host files under the
//      plugin's name.
//
// A plugin module calls serve() with its Info and its methods; see plugin.js.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
require('reflect-metadata'); // @peculiar/x509's dependency injection needs it, loaded first
const x509 = require('@peculiar/x509');

x509.cryptoProvider.set(crypto.webcrypto);

// The magic cookie a certctl host sets for each kind (docs/plugins.md, "The
// handshake"). It only stops a binary from being started as the wrong kind.
const COOKIES = {
  issuer: ['CERTCTL_PLUGIN_ISSUER', '3d3b5a4e-issuer-7f8c-certctl'],
  target: ['CERTCTL_PLUGIN_TARGET', '9a1c6e2b-target-4d5f-certctl'],
  notifier: ['CERTCTL_PLUGIN_NOTIFIER', '5e7f0b9d-notifier-1a2b-certctl'],
};

// go-plugin's own protocol version, and the certctl protocol versions this
// code speaks (plugin.ProtocolVersion in the Go SDK).
const CORE_PROTOCOL_VERSION = 1;
const PROTOCOL_VERSIONS = [1];

const PROTO_DIR = path.join(__dirname, 'proto');
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, includeDirs: [PROTO_DIR] };

// ---------------------------------------------------------------- logging

// log writes one line to stderr in the JSON form go-plugin hosts parse
// (hclog's): the host logs it at its level with the plugin's name. Levels:
// 'debug' (dropped by certctl hosts), 'info', 'warn', 'error'. Never log a
// secret. stdout is not for logging: it carries the handshake line.
function log(level, message, attrs = {}) {
  // go-plugin reads the time with exactly six digits of fractional seconds.
  const line = { '@level': level, '@message': message, '@timestamp': new Date().toISOString().replace('Z', '000Z'), ...attrs };
  process.stderr.write(JSON.stringify(line) + '\n');
}

// ---------------------------------------------------------------- errors

// The certctl error codes (sdk/plugin/errors.go) and the gRPC code each
// travels with, for hosts that read only the gRPC code.
const CODES = {
  invalid_config: grpc.status.INVALID_ARGUMENT,
  invalid_input: grpc.status.OUT_OF_RANGE,
  not_found: grpc.status.NOT_FOUND,
  transient: grpc.status.UNAVAILABLE,
  permanent: grpc.status.FAILED_PRECONDITION,
  unimplemented: grpc.status.UNIMPLEMENTED,
  deadline: grpc.status.DEADLINE_EXCEEDED,
  canceled: grpc.status.CANCELLED,
};

// PluginError is a failure with a certctl code: what the host does next
// depends on it (docs/plugins.md, "Errors"). field names the configuration
// field of an invalid_config error; retryAfterMs is the least time to wait
// before retrying a transient one. Messages reach users: say what is wrong,
// never quote a secret.
class PluginError extends Error {
  constructor(code, message, { field = '', retryAfterMs = 0 } = {}) {
    super(message);
    if (!(code in CODES)) throw new Error(`unknown certctl error code ${code}`);
    this.code = code;
    this.field = field;
    this.retryAfterMs = retryAfterMs;
  }
}

const invalidConfig = (field, message) => new PluginError('invalid_config', message, { field });

const rpc = new protobuf.Root().loadSync(path.join(PROTO_DIR, 'rpc_status.proto'), { keepCase: true }).lookup('google.rpc');
const [Status, ErrorInfo, BadRequest, RetryInfo] = ['Status', 'ErrorInfo', 'BadRequest', 'RetryInfo'].map((n) => rpc.lookupType(n));
const anyOf = (type, value) => ({ type_url: 'type.googleapis.com/' + type.fullName.slice(1), value: type.encode(type.fromObject(value)).finish() });

// toStatus turns an error thrown by a plugin method into the gRPC error the
// host decodes, as the Go SDK's toStatus does: the gRPC code, and a
// google.rpc.Status in the grpc-status-details-bin trailer whose details
// are an ErrorInfo (domain "certctl.plugin", reason the certctl code), a
// BadRequest naming the field, and a RetryInfo. Without the ErrorInfo the
// host reads most gRPC codes as a broken connection and restarts the
// plugin. Any error that is not a PluginError is permanent, as in Go.
function toStatus(err) {
  const e = err instanceof PluginError ? err : new PluginError('permanent', String((err && err.message) || err));
  const details = [anyOf(ErrorInfo, { reason: e.code, domain: 'certctl.plugin' })];
  if (e.field) {
    details.push(anyOf(BadRequest, { field_violations: [{ field: e.field, description: e.message }] }));
  }
  if (e.retryAfterMs > 0) {
    const ms = Math.ceil(e.retryAfterMs);
    details.push(anyOf(RetryInfo, { retry_delay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } }));
  }
  const code = CODES[e.code];
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(Status.encode(Status.fromObject({ code, message: e.message, details })).finish()));
  return { code, details: e.message, metadata };
}

// ---------------------------------------------------------------- configuration

// parseDuration reads a duration as certctl writes them: "90d" (days), or
// a Go duration ("12h", "1h30m", "45s"), or a whole number of seconds (a
// JSON number). It returns milliseconds, or NaN for what the Go SDK's
// ParseDuration refuses or reads as negative.
const UNIT_MS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
const MAX_MS = 9223372036854; // a Go time.Duration's range
function parseDuration(v) {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v * 1000 <= MAX_MS ? v * 1000 : NaN;
  if (typeof v !== 'string') return NaN;
  let m = /^\+?(\d+(?:\.\d*)?|\.\d+)d$/.exec(v);
  if (m) return Number(m[1]) <= 36500 ? Number(m[1]) * 86400000 : NaN;
  m = /^([-+]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+|0)$/.exec(v);
  if (!m) return NaN;
  let ms = 0;
  for (const [, n, unit] of m[2].matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit];
  return ms > MAX_MS || (m[1] === '-' && ms > 0) ? NaN : ms;
}

// Each field type's check and canonical form, as Schema.Normalize has them.
const TYPES = {
  string: (v) => (typeof v === 'string' ? v : undefined),
  int: (v) => (Number.isInteger(v) && Math.abs(v) <= 2 ** 53 ? v : undefined),
  bool: (v) => (typeof v === 'boolean' ? v : undefined),
  duration: (v) => (Number.isNaN(parseDuration(v)) ? undefined : typeof v === 'number' ? `${v}s` : v),
  string_list: (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : undefined),
};

// normalize checks a configuration against a schema and returns it with
// defaults filled in, or throws invalid_config naming the field: unknown
// fields, values of the wrong type, missing required fields, values outside
// an enum. Hosts normalise before calling a plugin, but a plugin trusts no
// input: configurations stored under an older schema, or a buggy host.
function normalize(schema, cfg) {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw invalidConfig('', 'the configuration is not a JSON object');
  const out = {};
  for (const name of Object.keys(cfg)) {
    if (!schema.some((f) => f.name === name)) throw invalidConfig(name, `unknown field ${JSON.stringify(name)}`);
  }
  for (const f of schema) {
    const v = cfg[f.name];
    if (v === undefined || v === null) {
      if (f.required) throw invalidConfig(f.name, `${f.name} is required`);
      if (f.default !== undefined) out[f.name] = f.default;
      continue;
    }
    const norm = TYPES[f.type](v);
    if (norm === undefined) throw invalidConfig(f.name, `${f.name} must be a ${f.type.replace('_', ' ')}`);
    if (f.required && norm === '') throw invalidConfig(f.name, `${f.name} is required`);
    if (f.enum && !f.enum.includes(norm)) throw invalidConfig(f.name, `${f.name} must be one of ${f.enum.join(', ')}`);
    out[f.name] = norm;
  }
  return out;
}

// ---------------------------------------------------------------- serving

// Request fields that carry a configuration: the host sends JSON bytes.
function decodeConfig(req) {
  if (req.config_json === undefined) return;
  try {
    req.config = JSON.parse(Buffer.from(req.config_json).toString('utf8') || '{}');
  } catch {
    throw invalidConfig('', 'the configuration is not valid JSON');
  }
  delete req.config_json;
}

// wrap turns an async method (request) => response into a grpc-js unary
// handler: it decodes the configuration, catches every error (a method that
// throws fails its own call alone, like a recovered panic in Go) and
// answers a call the host already gave up with canceled.
function wrap(name, method) {
  return (call, callback) => {
    Promise.resolve()
      .then(() => {
        decodeConfig(call.request);
        if (call.request.request) decodeConfig(call.request.request); // RenewRequest wraps an IssueRequest
        return method(call.request, call);
      })
      .then(
        (res) => callback(null, res || {}),
        (err) => {
          if (!(err instanceof PluginError)) log('error', `${name} failed`, { error: String((err && err.stack) || err) });
          callback(call.cancelled ? toStatus(new PluginError('canceled', `${name} canceled`)) : toStatus(err));
        },
      );
  };
}

// selfSignedCert makes the TLS certificate this process serves with, as
// go-plugin's generateCert does: a fresh key, valid for "localhost", which
// the host trusts because the handshake line hands it over.
async function selfSignedCert() {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: crypto.randomBytes(16).toString('hex').replace(/^./, '1'),
    name: 'CN=localhost, O=certctl plugin',
    notBefore: new Date(Date.now() - 30000),
    notAfter: new Date(Date.now() + 30 * 365 * 86400000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }]),
    ],
  });
  const pkcs8 = Buffer.from(await crypto.webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certPEM: Buffer.from(cert.toString('pem')),
    keyPEM: Buffer.from(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')),
    der: Buffer.from(cert.rawData),
  };
}

// negotiate picks the highest certctl protocol version that the host
// (PLUGIN_PROTOCOL_VERSIONS, e.g. "1" or "1,2") and this plugin both speak.
function negotiate() {
  const offered = (process.env.PLUGIN_PROTOCOL_VERSIONS || '').split(',').filter(Boolean).map(Number);
  if (offered.length === 0) return PROTOCOL_VERSIONS[0]; // a host too old to say
  const common = PROTOCOL_VERSIONS.filter((v) => offered.includes(v));
  return common.length ? Math.max(...common) : 0;
}

// exitWithParent ends the plugin when its host is gone, even a host killed
// with SIGKILL: this process is then re-parented and its parent id changes.
function exitWithParent() {
  const ppid = process.ppid;
  if (ppid > 1) setInterval(() => process.ppid !== ppid && process.exit(0), 1000).unref();
}

// serve runs a plugin until its host stops it. info is what Info returns
// (name, kind, version, description, schema: [{name, type, description,
// required, default, sensitive, enum}]); methods maps the kind's gRPC
// method names (IssueCertificate, ...) to async functions taking the
// request (with the configuration decoded into request.config) and
// returning the response message. Info and ValidateConfig come with serve;
// validateConfig(config), if given, checks what the schema cannot.
async function serve({ info, methods, validateConfig }) {
  const [cookieKey, cookieValue] = COOKIES[info.kind];
  if (process.env[cookieKey] !== cookieValue) {
    process.stderr.write(`This binary is a certctl ${info.kind} plugin. It is not meant to be run by hand:\n` +
      'a certctl host starts it. See docs/plugins.md.\n');
    process.exit(1);
  }
  const version = negotiate();
  if (!version) {
    process.stderr.write(`certctl plugin: the host speaks protocol versions ${process.env.PLUGIN_PROTOCOL_VERSIONS}, this plugin ${PROTOCOL_VERSIONS}\n`);
    process.exit(1);
  }
  exitWithParent();

  const load = (file) => grpc.loadPackageDefinition(protoLoader.loadSync(path.join(PROTO_DIR, file), LOADER_OPTIONS));
  const pluginv1 = load('plugin.proto').certctl.plugin.v1;
  const health = load('health.proto').grpc.health.v1;
  const goPlugin = load('go_plugin.proto').plugin;

  const { schema, ...about } = info;
  const infoResponse = {
    ...about,
    protocol_versions: PROTOCOL_VERSIONS,
    // A field's default travels as JSON text.
    schema: { fields: schema.map(({ default: def, ...f }) => ({ ...f, default_json: def === undefined ? '' : JSON.stringify(def) })) },
  };
  const service = {
    Info: async () => infoResponse,
    ValidateConfig: async (req) => {
      const cfg = normalize(info.schema, req.config);
      if (validateConfig) await validateConfig(cfg);
      return {};
    },
    ...methods,
  };
  const kindService = pluginv1[info.kind[0].toUpperCase() + info.kind.slice(1)].service;
  const handlers = {};
  for (const name of Object.keys(kindService)) {
    const method = service[name];
    handlers[name] = method ? wrap(name, method) : wrap(name, async () => {
      throw new PluginError('unimplemented', `${info.name} does not implement ${name}`);
    });
  }

  const server = new grpc.Server();
  server.addService(kindService, handlers);
  // go-plugin pings service "plugin"; "" is the whole server.
  server.addService(health.Health.service, {
    Check: (call, callback) => callback(null, { status: ['plugin', ''].includes(call.request.service) ? 'SERVING' : 'SERVICE_UNKNOWN' }),
  });
  server.addService(goPlugin.GRPCController.service, {
    Shutdown: (call, callback) => {
      log('debug', 'shutting down at the host\'s request'); // hosts stop idle plugins: no news
      callback(null, {});
      setImmediate(() => server.tryShutdown(() => process.exit(0)));
    },
  });

  // Automatic mutual TLS: the host sends its certificate, trusts only ours.
  let creds = grpc.ServerCredentials.createInsecure();
  let certField = '';
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  if (clientCert) {
    const tls = await selfSignedCert();
    creds = grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ cert_chain: tls.certPEM, private_key: tls.keyPEM }], true);
    // Base64 without padding, as go-plugin reads it.
    certField = tls.der.toString('base64').replace(/=+$/, '');
  }

  // A private directory for the socket, in the one the host chose.
  const dir = fs.mkdtempSync(path.join(process.env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir(), 'plugin'));
  const socket = path.join(dir, 'plugin.sock');
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  process.on('SIGTERM', () => process.exit(0));
  // Like go-plugin, outlive a Ctrl-C in the host's terminal: the host stops
  // its plugins itself, through Shutdown.
  process.on('SIGINT', () => log('debug', 'ignoring SIGINT: the host stops this plugin'));
  await new Promise((resolve, reject) => server.bindAsync('unix://' + socket, creds, (err) => (err ? reject(err) : resolve())));

  // The handshake line: core version | app version | network | address |
  // protocol | server certificate. The host reads nothing else from stdout.
  process.stdout.write(`${CORE_PROTOCOL_VERSION}|${version}|unix|${socket}|grpc|${certField}\n`);
  log('debug', 'plugin serving', { socket, protocol: version });
}

module.exports = { serve, PluginError, invalidConfig, normalize, parseDuration, log, toStatus };
