#!/usr/bin/env bash
# Regenerates the Swift of Protos/ with Debian's protoc and the protoc plugins built from
# the mirrored swift-protobuf and grpc-swift-protobuf packages. Run after editing a .proto
# and commit the output: builds never generate code.
#
# Two modules: SwitchboardWire holds what a client speaks (the envelope, and the backend
# routes' request and response messages), with no gRPC in it; SwitchboardProtocol holds
# the nodes' own messages (Gateway API, relay) and every gRPC stub, importing the first.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "protoc is missing: apt-get install -y protobuf-compiler" >&2; exit 1; }

swift build --product protoc-gen-swift
swift build --product protoc-gen-grpc-swift-2
bin=$(swift build --show-bin-path)
wire=Sources/SwitchboardWire/Generated
protocol=Sources/SwitchboardProtocol/Generated
rm -rf "$wire" "$protocol" && mkdir -p "$wire" "$protocol"

wire_protos="switchboard/v1/client.proto switchboard/chat/v1/chat.proto switchboard/location/v1/location.proto switchboard/notification/v1/notification.proto"
node_protos="switchboard/gateway/v1/gateway.proto switchboard/relay/v1/relay.proto switchboard/topics/v1/authorizer.proto"
services=$(cd Protos && grep -l '^service ' $(find . -name '*.proto' | sed 's|^\./||' | sort))

mappings=$(mktemp)
trap 'rm -f "$mappings"' EXIT
{
    echo 'mapping {'
    echo '  module_name: "SwitchboardWire"'
    for proto in $wire_protos; do echo "  proto_file_path: \"$proto\""; done
    echo '}'
} > "$mappings"

cd Protos
protoc -I . --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_out="../$wire" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    $wire_protos
protoc -I . --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_out="../$protocol" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores,ProtoPathModuleMappings="$mappings" \
    $node_protos
protoc -I . --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --grpc-swift-2_out="../$protocol" --grpc-swift-2_opt=Visibility=Public,FileNaming=PathToUnderscores,ProtoPathModuleMappings="$mappings",ExtraModuleImports=SwitchboardWire \
    $services
cd ..
echo "generated into $wire:" && ls "$wire"
echo "generated into $protocol:" && ls "$protocol"
