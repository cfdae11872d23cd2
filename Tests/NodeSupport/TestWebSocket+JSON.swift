import Foundation
import TestSupport

extension TestWebSocket {
    /// The next JSON frame, skipping none.
    package func receiveJSON(timeout: Duration = .seconds(30)) async throws -> [String: Any] {
        try json(try await receiveText(timeout: timeout))
    }
}
