/// A TLS file of a gRPC server or client that does not load.
package struct GRPCTLSError: Error, CustomStringConvertible {
    package let file: String
    package let problem: String

    package var description: String { "TLS file '\(file)': \(problem)" }
}
