import Essentials
package import Foundation

/// A throwaway PKI made by openssl in a fresh directory: a CA, a server certificate for
/// 127.0.0.1 and a client certificate it signed, and a second CA with a client
/// certificate of its own (what an outsider holds).
package struct TestCertificates: Sendable {
    package let directory: URL
    package var ca: String { path("ca.pem") }
    package var serverCert: String { path("server.pem") }
    package var serverKey: String { path("server.key") }
    package var clientCert: String { path("client.pem") }
    package var clientKey: String { path("client.key") }
    package var otherCA: String { path("other-ca.pem") }
    package var outsiderCert: String { path("outsider.pem") }
    package var outsiderKey: String { path("outsider.key") }

    package func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    package static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("test-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = TestCertificates(directory: directory)
        for name in ["ca", "other-ca"] {
            try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                         "-subj", "/CN=test \(name)", "-keyout", files.path("\(name).key"), "-out", files.path("\(name).pem")])
        }
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: files.path("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: files.path("client.ext"), atomically: true, encoding: .utf8)
        try files.sign("server", subject: "/CN=127.0.0.1", by: "ca", extensions: "server.ext")
        try files.sign("client", subject: "/CN=switchboard node", by: "ca", extensions: "client.ext")
        try files.sign("outsider", subject: "/CN=outsider", by: "other-ca", extensions: "client.ext")
        return files
    }

    package func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func sign(_ name: String, subject: String, by ca: String, extensions: String) throws {
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject,
                          "-keyout", path("\(name).key"), "-out", path("\(name).csr")])
        try Self.openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
                          "-CAcreateserial", "-days", "1", "-extfile", path(extensions), "-out", path("\(name).pem")])
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = ChildProcess.guarded()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("openssl \(arguments.prefix(2).joined(separator: " ")) failed") }
    }
}
