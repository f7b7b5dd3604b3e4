// payloadcodec encodes and decodes Temporal payloads the way a Go team's PayloadCodec would,
// with Debian's packaged libraries: klauspost/compress (zstd), golang/snappy, pierrec/lz4,
// the standard library's gzip, zlib and AES-GCM (laid out as the Temporal Go encryption sample
// does: nonce || ciphertext || tag, key id in "encryption-key-id"), and envelope encryption with
// a local key-encryption key: a fresh data key per payload, wrapped with the -key key (AES-GCM,
// associated data "payload-codecs envelope data key") into "encryption-data-key".
//
// It reads jobs as JSON lines on stdin and answers one JSON line per job on stdout:
//
//	{"op": "decode", "in": PATH, "out": PATH}              every encoding it knows, outermost first
//	{"op": "encode", "spec": "zstd+aes256gcm", "in": PATH, "out": PATH}
//
// Files hold serialized Payload messages. Flags: -key HEX, -key-id ID, -dict PATH (a zstd
// dictionary for both directions). Built in GOPATH mode against /usr/share/gocode.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4"
	"google.golang.org/protobuf/encoding/protowire"
)

type payload struct {
	metadata map[string][]byte
	data     []byte
}

// parse reads a serialized temporal.api.common.v1.Payload: metadata (field 1, a map of string
// to bytes) and data (field 2).
func parse(b []byte) (payload, error) {
	p := payload{metadata: map[string][]byte{}}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return p, protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType || (num != 1 && num != 2) {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return p, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		value, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return p, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 2 {
			p.data = value
			continue
		}
		var key string
		var entry []byte
		for len(value) > 0 {
			fnum, ftyp, m := protowire.ConsumeTag(value)
			if m < 0 || ftyp != protowire.BytesType {
				return p, fmt.Errorf("bad metadata entry")
			}
			field, k := protowire.ConsumeBytes(value[m:])
			if k < 0 {
				return p, protowire.ParseError(k)
			}
			value = value[m+k:]
			if fnum == 1 {
				key = string(field)
			} else if fnum == 2 {
				entry = field
			}
		}
		p.metadata[key] = entry
	}
	return p, nil
}

// serialize writes a Payload with its metadata in key order, as deterministic protobuf does.
func serialize(p payload) []byte {
	keys := make([]string, 0, len(p.metadata))
	for k := range p.metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []byte
	for _, k := range keys {
		var entry []byte
		entry = protowire.AppendTag(entry, 1, protowire.BytesType)
		entry = protowire.AppendString(entry, k)
		entry = protowire.AppendTag(entry, 2, protowire.BytesType)
		entry = protowire.AppendBytes(entry, p.metadata[k])
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, entry)
	}
	if len(p.data) > 0 {
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendBytes(out, p.data)
	}
	return out
}

var snappyIdentifier = []byte("\xff\x06\x00\x00sNaPpY")

type codec struct {
	gcm   cipher.AEAD
	keyID string
	dict  []byte
}

func (c *codec) decodeData(encoding string, data []byte, metadata map[string][]byte) ([]byte, error) {
	switch encoding {
	case "binary/zstd":
		var options []zstd.DOption
		if c.dict != nil {
			options = append(options, zstd.WithDecoderDicts(c.dict))
		}
		reader, err := zstd.NewReader(nil, options...)
		if err != nil {
			return nil, err
		}
		defer reader.Close()
		return reader.DecodeAll(data, nil)
	case "binary/snappy":
		if bytes.HasPrefix(data, snappyIdentifier) || len(data) == 0 {
			return io.ReadAll(snappy.NewReader(bytes.NewReader(data)))
		}
		return snappy.Decode(nil, data)
	case "binary/lz4":
		return io.ReadAll(lz4.NewReader(bytes.NewReader(data)))
	case "binary/gzip":
		reader, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(reader)
	case "binary/zlib":
		reader, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(reader)
	case "binary/encrypted":
		if string(metadata["encryption-key-id"]) != c.keyID {
			return nil, fmt.Errorf("unknown key id %q", metadata["encryption-key-id"])
		}
		return open(c.gcm, data, nil)
	case "binary/encrypted-envelope":
		if string(metadata["encryption-key-provider"]) != "local" {
			return nil, fmt.Errorf("data key wrapped by %q", metadata["encryption-key-provider"])
		}
		if string(metadata["encryption-key-id"]) != c.keyID {
			return nil, fmt.Errorf("unknown key id %q", metadata["encryption-key-id"])
		}
		dataKey, err := open(c.gcm, metadata["encryption-data-key"], wrapContext)
		if err != nil {
			return nil, err
		}
		gcm, err := newGCM(dataKey)
		if err != nil {
			return nil, err
		}
		return open(gcm, data, nil)
	}
	return nil, errNotOurs
}

var wrapContext = []byte("payload-codecs envelope data key")

// open reads nonce || ciphertext || tag.
func open(gcm cipher.AEAD, data, aad []byte) ([]byte, error) {
	if len(data) < gcm.NonceSize() {
		return nil, fmt.Errorf("ciphertext too short")
	}
	return gcm.Open(nil, data[:gcm.NonceSize()], data[gcm.NonceSize():], aad)
}

// seal writes nonce || ciphertext || tag under a random nonce.
func seal(gcm cipher.AEAD, data, aad []byte) ([]byte, error) {
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, data, aad), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// envelope encrypts under a fresh data key, wrapped with the key-encryption key.
func (c *codec) envelope(blob []byte) (payload, error) {
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		return payload{}, err
	}
	wrapped, err := seal(c.gcm, dataKey, wrapContext)
	if err != nil {
		return payload{}, err
	}
	gcm, err := newGCM(dataKey)
	if err != nil {
		return payload{}, err
	}
	data, err := seal(gcm, blob, nil)
	if err != nil {
		return payload{}, err
	}
	return payload{metadata: map[string][]byte{
		"encoding":                []byte("binary/encrypted-envelope"),
		"encryption-key-id":       []byte(c.keyID),
		"encryption-data-key":     wrapped,
		"encryption-key-provider": []byte("local"),
	}, data: data}, nil
}

var errNotOurs = fmt.Errorf("not an encoding of ours")

func (c *codec) encodeData(stage string, data []byte) (string, []byte, error) {
	var buf bytes.Buffer
	switch stage {
	case "zstd":
		options := []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedDefault)}
		if c.dict != nil {
			options = append(options, zstd.WithEncoderDict(c.dict))
		}
		writer, err := zstd.NewWriter(nil, options...)
		if err != nil {
			return "", nil, err
		}
		defer writer.Close()
		return "binary/zstd", writer.EncodeAll(data, nil), nil
	case "snappy":
		return written("binary/snappy", snappy.NewBufferedWriter(&buf), &buf, data)
	case "snappy-raw":
		return "binary/snappy", snappy.Encode(nil, data), nil
	case "lz4":
		return written("binary/lz4", lz4.NewWriter(&buf), &buf, data)
	case "gzip":
		return written("binary/gzip", gzip.NewWriter(&buf), &buf, data)
	case "zlib":
		return written("binary/zlib", zlib.NewWriter(&buf), &buf, data)
	case "aes256gcm":
		sealed, err := seal(c.gcm, data, nil)
		return "binary/encrypted", sealed, err
	}
	return "", nil, fmt.Errorf("unknown stage %q", stage)
}

// written writes data through a compressing writer into buf and closes the writer, which
// flushes it; then, and only then, buf holds the stream.
func written(encoding string, writer io.WriteCloser, buf *bytes.Buffer, data []byte) (string, []byte, error) {
	if _, err := writer.Write(data); err != nil {
		return "", nil, err
	}
	if err := writer.Close(); err != nil {
		return "", nil, err
	}
	return encoding, buf.Bytes(), nil
}

func (c *codec) decode(blob []byte) ([]byte, error) {
	for {
		p, err := parse(blob)
		if err != nil {
			return nil, err
		}
		inner, err := c.decodeData(string(p.metadata["encoding"]), p.data, p.metadata)
		if err == errNotOurs {
			return blob, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.metadata["encoding"], err)
		}
		blob = inner
	}
}

func (c *codec) encode(spec string, blob []byte) ([]byte, error) {
	for _, stage := range strings.Split(spec, "+") {
		if stage == "envelope@local" {
			outer, err := c.envelope(blob)
			if err != nil {
				return nil, err
			}
			blob = serialize(outer)
			continue
		}
		encoding, data, err := c.encodeData(stage, blob)
		if err != nil {
			return nil, err
		}
		outer := payload{metadata: map[string][]byte{"encoding": []byte(encoding)}, data: data}
		if stage == "aes256gcm" {
			outer.metadata["encryption-key-id"] = []byte(c.keyID)
		}
		blob = serialize(outer)
	}
	return blob, nil
}

type job struct {
	Op   string `json:"op"`
	Spec string `json:"spec"`
	In   string `json:"in"`
	Out  string `json:"out"`
}

func main() {
	keyHex := flag.String("key", "", "AES-256 key, hex")
	keyID := flag.String("key-id", "", "the key's id")
	dictPath := flag.String("dict", "", "zstd dictionary file")
	flag.Parse()
	c := &codec{keyID: *keyID}
	if *keyHex != "" {
		key, err := hex.DecodeString(*keyHex)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad -key:", err)
			os.Exit(2)
		}
		c.gcm, err = newGCM(key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad -key:", err)
			os.Exit(2)
		}
	}
	if *dictPath != "" {
		dict, err := os.ReadFile(*dictPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad -dict:", err)
			os.Exit(2)
		}
		c.dict = dict
	}
	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	answers := json.NewEncoder(os.Stdout)
	for lines.Scan() {
		var j job
		answer := map[string]string{"error": ""}
		if err := json.Unmarshal(lines.Bytes(), &j); err != nil {
			answer["error"] = err.Error()
		} else if err := run(c, j); err != nil {
			answer["error"] = err.Error()
		}
		answers.Encode(answer)
	}
}

func run(c *codec, j job) error {
	blob, err := os.ReadFile(j.In)
	if err != nil {
		return err
	}
	var out []byte
	if j.Op == "decode" {
		out, err = c.decode(blob)
	} else {
		out, err = c.encode(j.Spec, blob)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(j.Out, out, 0o644)
}
