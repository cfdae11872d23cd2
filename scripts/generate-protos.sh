#!/usr/bin/env bash
# Regenerates Sources/SwitchboardProtocol from Protos/ with Debian's protoc and the
# protoc plugins built from the mirrored swift-protobuf and grpc-swift-protobuf packages. Run after editing a
# .proto and commit the output: builds never generate code.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "protoc is missing: apt-get install -y protobuf-compiler" >&2; exit 1; }

swift build --product protoc-gen-swift
swift build --product protoc-gen-grpc-swift-2
bin=$(swift build --show-bin-path)
out=Sources/SwitchboardProtocol/Generated
rm -rf "$out" && mkdir -p "$out"

protos=$(cd Protos && find . -name '*.proto' | sed 's|^\./||' | sort)
(cd Protos && protoc -I . \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --swift_out="../$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    --grpc-swift-2_out="../$out" --grpc-swift-2_opt=Visibility=Public,FileNaming=PathToUnderscores \
    $protos)
echo "generated into $out:" && ls "$out"
