package import RedisClient

extension RedisConnection {
    /// How many times this Redis has run `command` (lower case, as INFO commandstats
    /// names it), asked again while the probe cannot reach Redis (its connect may time
    /// out on a busy machine).
    package func commandCalls(_ command: String) async throws -> Int {
        var calls: Int?
        try await waitUntil {
            calls = try? await commandCallsOnce(command)
            return calls != nil
        }
        return calls ?? 0
    }

    private func commandCallsOnce(_ command: String) async throws -> Int {
        let info = try await send("INFO", "commandstats").string ?? ""
        guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }),
              let calls = line.split(separator: "=").dropFirst().first?.split(separator: ",").first
        else { return 0 }
        return Int(calls) ?? 0
    }
}
