"""Production Temporal payload codecs: snappy, zstd, lz4, gzip and zlib compression, each with or
without AES-256-GCM (static keys, or data keys from a KMS), in the wire formats that real
Temporal deployments already write.

Build one from a spec string and deploy it as is::

    from payload_codecs import Keyring, data_converter
    converter = data_converter("zstd:3+aes256gcm", keyring=Keyring.from_env())
    client = await Client.connect("localhost:7233", data_converter=converter)
"""

from payload_codecs._codec import ChainCodec
from payload_codecs._compression import SNAPPY_STREAM_IDENTIFIER, Compressor
from payload_codecs._converter import data_converter
from payload_codecs._corpusfile import (
    CORPUS_FORMAT_VERSION,
    CorpusFormatError,
    CorpusReader,
    CorpusWriter,
)
from payload_codecs._dictionaries import (
    DICTIONARIES_ENV,
    Dictionaries,
    Dictionary,
    save_dictionary,
    train_dictionary,
)
from payload_codecs._envelope import (
    KMS_KEY_ENV,
    AwsKms,
    DataKey,
    DataKeyPolicy,
    EnvelopeStage,
    KeyNotReady,
    KeyProvider,
    LocalKeys,
)
from payload_codecs._errors import (
    DecodedSizeError,
    FrameCountError,
    KeyServiceError,
    PayloadDecodeError,
    PayloadDecryptionError,
    TotalSizeError,
)
from payload_codecs._keyring import KEY_SIZE, Keyring
from payload_codecs._recording import RecordingCodec, RecordingError
from payload_codecs._registry import Family, Kind, Levels, families, family
from payload_codecs._spec import StageSpec, from_spec, integrity, needs_keyring, parse_spec
from payload_codecs._stages import (
    MAX_DECODED_SIZE,
    CodecOptions,
    CompressionStage,
    EncryptionStage,
    Stage,
    serialize,
)

__all__ = [
    "CORPUS_FORMAT_VERSION",
    "DICTIONARIES_ENV",
    "KEY_SIZE",
    "KMS_KEY_ENV",
    "MAX_DECODED_SIZE",
    "SNAPPY_STREAM_IDENTIFIER",
    "AwsKms",
    "ChainCodec",
    "CodecOptions",
    "CompressionStage",
    "Compressor",
    "CorpusFormatError",
    "CorpusReader",
    "CorpusWriter",
    "DataKey",
    "DataKeyPolicy",
    "DecodedSizeError",
    "Dictionaries",
    "Dictionary",
    "EncryptionStage",
    "EnvelopeStage",
    "Family",
    "FrameCountError",
    "KeyNotReady",
    "KeyProvider",
    "KeyServiceError",
    "Keyring",
    "Kind",
    "Levels",
    "LocalKeys",
    "PayloadDecodeError",
    "PayloadDecryptionError",
    "RecordingCodec",
    "RecordingError",
    "Stage",
    "StageSpec",
    "TotalSizeError",
    "data_converter",
    "families",
    "family",
    "from_spec",
    "integrity",
    "needs_keyring",
    "parse_spec",
    "save_dictionary",
    "serialize",
    "train_dictionary",
]
