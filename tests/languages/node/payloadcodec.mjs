// payloadcodec encodes and decodes Temporal payloads the way a TypeScript team's PayloadCodec
// would, with npm packages: fzstd (zstd decoding) and zstd-napi (zstd encoding, and decoding
// with a dictionary), lz4js, snappyjs (raw blocks; the framing format around them, which no
// maintained npm package writes, is a few lines below, with crc-32's CRC-32C), Node's zlib, and
// WebCrypto AES-GCM laid out as the Temporal TypeScript encryption sample does:
// nonce || ciphertext || tag, key id in "encryption-key-id"; and envelope encryption with a local
// key-encryption key (a fresh data key per payload, wrapped with the --key key under associated
// data "payload-codecs envelope data key" into "encryption-data-key").
//
// It reads jobs as JSON lines on stdin and answers one JSON line per job on stdout, exactly as
// ../go/payloadcodec.go does:
//
//   {"op": "decode", "in": PATH, "out": PATH}
//   {"op": "encode", "spec": "zstd+aes256gcm", "in": PATH, "out": PATH}
//
// Arguments: --key HEX --key-id ID --dict PATH.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { webcrypto } from "node:crypto";
import zlib from "node:zlib";

const require = createRequire(import.meta.url);
const fzstd = require("fzstd");
const zstdNapi = require("zstd-napi");
const lz4 = require("lz4js");
const snappy = require("snappyjs");
const crc32c = require("crc-32/crc32c");
const protobuf = require("protobufjs");

const Payload = protobuf.Root.fromJSON({
  nested: {
    Payload: {
      fields: {
        metadata: { keyType: "string", type: "bytes", id: 1 },
        data: { type: "bytes", id: 2 },
      },
    },
  },
}).lookupType("Payload");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const keyId = args["key-id"] ?? "";
const key = args.key
  ? await webcrypto.subtle.importKey("raw", Buffer.from(args.key, "hex"), "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ])
  : null;
const dict = args.dict ? readFileSync(args.dict) : null;

const IDENTIFIER = Buffer.from("\xff\x06\x00\x00sNaPpY", "latin1");

function maskedCrc(data) {
  const crc = crc32c.buf(data) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

function snappyFramed(data) {
  const parts = [IDENTIFIER];
  for (let start = 0; start < data.length; start += 65536) {
    const chunk = data.subarray(start, start + 65536);
    const block = Buffer.from(snappy.compress(chunk));
    const header = Buffer.alloc(8);
    header.writeUInt32LE(0x00 | ((block.length + 4) << 8), 0);
    header.writeUInt32LE(maskedCrc(chunk), 4);
    parts.push(header, block);
  }
  return Buffer.concat(parts);
}

function snappyUnframed(data) {
  const parts = [];
  let at = 0;
  while (at < data.length) {
    const kind = data[at];
    const length = data.readUIntLE(at + 1, 3);
    const body = data.subarray(at + 4, at + 4 + length);
    if (body.length !== length) throw new Error("snappy chunk cut short");
    at += 4 + length;
    if (kind === 0xff) continue;
    if (kind === 0x00 || kind === 0x01) {
      const chunk = kind === 0x00 ? Buffer.from(snappy.uncompress(body.subarray(4))) : body.subarray(4);
      if (maskedCrc(chunk) !== body.readUInt32LE(0)) throw new Error("snappy chunk CRC mismatch");
      parts.push(chunk);
    } else if (kind < 0x80) {
      throw new Error(`reserved snappy chunk type ${kind}`);
    }
  }
  return Buffer.concat(parts);
}

async function decodeData(encoding, data, metadata) {
  switch (encoding) {
    case "binary/zstd": {
      if (data.length === 0) return Buffer.alloc(0);
      if (dict) {
        const decompressor = new zstdNapi.Decompressor();
        decompressor.loadDictionary(dict);
        return decompressor.decompress(data);
      }
      return Buffer.from(fzstd.decompress(data));
    }
    case "binary/snappy":
      if (data.length === 0 || data.subarray(0, 10).equals(IDENTIFIER)) return snappyUnframed(data);
      return Buffer.from(snappy.uncompress(data));
    case "binary/lz4":
      return Buffer.from(lz4.decompress(data));
    case "binary/gzip":
      return zlib.gunzipSync(data);
    case "binary/zlib":
      return zlib.inflateSync(data);
    case "binary/encrypted": {
      const id = Buffer.from(metadata["encryption-key-id"] ?? []).toString();
      if (id !== keyId) throw new Error(`unknown key id ${id}`);
      return open(key, data);
    }
    case "binary/encrypted-envelope": {
      const provider = Buffer.from(metadata["encryption-key-provider"] ?? []).toString();
      if (provider !== "local") throw new Error(`data key wrapped by ${provider}`);
      const id = Buffer.from(metadata["encryption-key-id"] ?? []).toString();
      if (id !== keyId) throw new Error(`unknown key id ${id}`);
      const wrapped = Buffer.from(metadata["encryption-data-key"] ?? []);
      const dataKey = await aesKey(await open(key, wrapped, WRAP_CONTEXT));
      return open(dataKey, data);
    }
  }
  return null;
}

const WRAP_CONTEXT = Buffer.from("payload-codecs envelope data key");

function aesKey(raw) {
  return webcrypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

// nonce || ciphertext || tag
async function open(aes, data, additionalData) {
  const params = { name: "AES-GCM", iv: data.subarray(0, 12) };
  if (additionalData) params.additionalData = additionalData;
  return Buffer.from(await webcrypto.subtle.decrypt(params, aes, data.subarray(12)));
}

async function seal(aes, data, additionalData) {
  const nonce = webcrypto.getRandomValues(new Uint8Array(12));
  const params = { name: "AES-GCM", iv: nonce };
  if (additionalData) params.additionalData = additionalData;
  return Buffer.concat([nonce, Buffer.from(await webcrypto.subtle.encrypt(params, aes, data))]);
}

async function envelope(data) {
  const raw = webcrypto.getRandomValues(new Uint8Array(32));
  const metadata = {
    encoding: Buffer.from("binary/encrypted-envelope"),
    "encryption-key-id": Buffer.from(keyId),
    "encryption-data-key": await seal(key, raw, WRAP_CONTEXT),
    "encryption-key-provider": Buffer.from("local"),
  };
  return { metadata, data: await seal(await aesKey(raw), data) };
}

async function encodeData(stage, data) {
  switch (stage) {
    case "zstd": {
      const compressor = new zstdNapi.Compressor();
      compressor.setParameters({ compressionLevel: 3 });
      if (dict) compressor.loadDictionary(dict);
      return ["binary/zstd", compressor.compress(data)];
    }
    case "snappy":
      return ["binary/snappy", snappyFramed(data)];
    case "snappy-raw":
      return ["binary/snappy", Buffer.from(snappy.compress(data))];
    case "lz4":
      return ["binary/lz4", Buffer.from(lz4.compress(data))];
    case "gzip":
      return ["binary/gzip", zlib.gzipSync(data)];
    case "zlib":
      return ["binary/zlib", zlib.deflateSync(data)];
    case "aes256gcm":
      return ["binary/encrypted", await seal(key, data)];
  }
  throw new Error(`unknown stage ${stage}`);
}

async function decode(blob) {
  for (;;) {
    const payload = Payload.decode(blob);
    const encoding = Buffer.from(payload.metadata.encoding ?? []).toString();
    const inner = await decodeData(encoding, Buffer.from(payload.data ?? []), payload.metadata);
    if (inner === null) return blob;
    blob = inner;
  }
}

async function encode(spec, blob) {
  for (const stage of spec.split("+")) {
    let outer;
    if (stage === "envelope@local") {
      outer = await envelope(blob);
    } else {
      const [encoding, data] = await encodeData(stage, blob);
      const metadata = { encoding: Buffer.from(encoding) };
      if (stage === "aes256gcm") metadata["encryption-key-id"] = Buffer.from(keyId);
      outer = { metadata, data };
    }
    blob = Buffer.from(Payload.encode(Payload.create(outer)).finish());
  }
  return blob;
}

for await (const line of createInterface({ input: process.stdin })) {
  const answer = { error: "" };
  try {
    const job = JSON.parse(line);
    const blob = readFileSync(job.in);
    const out = job.op === "decode" ? await decode(blob) : await encode(job.spec, blob);
    writeFileSync(job.out, out);
  } catch (error) {
    answer.error = String(error?.message ?? error);
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
