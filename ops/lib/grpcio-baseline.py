#!/usr/bin/env python3
"""Gateway API latency from a grpcio (C-core) client: the node's PushToUser against a Python
grpcio server answering the same call, alternating in one run.

  ops/lib/grpcio-baseline.py --node 127.0.0.1:18481 --secret S [--calls 2000] [--rounds 3]

Needs `pip install grpcio grpcio-tools` (ops/bench-calls.sh makes a venv for it). The push
goes to a user nobody holds, so both servers do the call's whole work but no delivery: the
node checks the secret and the push, looks the user up and answers `offline`; the Python
server answers `offline` at once. Prints each round's p50/p99 and the medians.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent import futures

import grpc
from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def stubs():
    out = tempfile.mkdtemp(prefix="switchboard-grpcio-")
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    status = protoc.main(["protoc", f"-I{ROOT}/Protos", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}",
                          "switchboard/gateway/v1/gateway.proto"])
    if status != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    from switchboard.gateway.v1 import gateway_pb2, gateway_pb2_grpc
    return gateway_pb2, gateway_pb2_grpc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True, help="the node's Gateway API, host:port")
    parser.add_argument("--secret", default=os.environ.get("SWITCHBOARD_PUSH_SECRET"))
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    pb2, pb2_grpc = stubs()

    class Answering(pb2_grpc.GatewayServiceServicer):
        def PushToUser(self, request, context):
            return pb2.PushOutcome(offline=True)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb2_grpc.add_GatewayServiceServicer_to_server(Answering(), server)
    python_port = server.add_insecure_port("127.0.0.1:0")
    server.start()

    metadata = [("authorization", f"Bearer {arguments.secret}")]
    request = pb2.PushToUserRequest(user="nobody-holds-this-user", push=pb2.PushContent(kind="bench"))

    def measure(target):
        with grpc.insecure_channel(target) as channel:
            stub = pb2_grpc.GatewayServiceStub(channel)
            for _ in range(100):
                stub.PushToUser(request, metadata=metadata)
            samples = []
            for _ in range(arguments.calls):
                start = time.perf_counter_ns()
                outcome = stub.PushToUser(request, metadata=metadata)
                samples.append(time.perf_counter_ns() - start)
                if not outcome.offline:
                    sys.exit(f"{target}: expected offline, got {outcome}")
        samples.sort()
        return samples[len(samples) // 2] / 1000, samples[len(samples) * 99 // 100] / 1000

    results = {"node": [], "python": []}
    for round in range(1, arguments.rounds + 1):
        for name, target in (("node", arguments.node), ("python", f"127.0.0.1:{python_port}")):
            p50, p99 = measure(target)
            results[name].append(p50)
            print(f"round {round}, {name}: {arguments.calls} sequential PushToUser, p50 {p50:.0f} µs, p99 {p99:.0f} µs")
    node, python = statistics.median(results["node"]), statistics.median(results["python"])
    print(f"median p50: node {node:.0f} µs, Python grpcio server {python:.0f} µs ({node / python:.2f}×)")
    server.stop(0)


if __name__ == "__main__":
    main()
