// The nodes' code sees the client's messages wherever it sees its own: the relay carries
// pushes of the envelope's types, and the gRPC stubs of the backend routes take them.
@_exported import SwitchboardWire
