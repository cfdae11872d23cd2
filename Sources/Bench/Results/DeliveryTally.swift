/// The counts a run is judged by.
package struct DeliveryTally: Sendable, Codable, CustomStringConvertible {
    package let sent: Int
    package let delivered: Int
    package let duplicated: Int
    /// Messages that reached a connection other than their target's.
    package let misdelivered: Int
    /// Sends the node answered with an error (the message may still have been delivered:
    /// a timeout leaves the outcome unknown); `firstError` is the first one's text.
    package let errors: Int
    package let firstError: String?
    /// Frames that were neither a generated message nor an error answer.
    package let unreadable: Int
    /// Connections the node closed while the run went on.
    package let closedEarly: Int
    package var lost: Int { max(sent - delivered, 0) }
    package var isClean: Bool {
        lost == 0 && duplicated == 0 && misdelivered == 0 && errors == 0 && unreadable == 0 && closedEarly == 0
    }

    package var description: String {
        "\(delivered)/\(sent) delivered, lost \(lost), duplicated \(duplicated), misdelivered \(misdelivered)"
            + (errors > 0 ? ", \(errors) sends answered with an error (first: \(firstError ?? "?"))" : "")
            + (unreadable > 0 ? ", \(unreadable) unreadable frames" : "")
            + (closedEarly > 0 ? ", \(closedEarly) connections closed by the node" : "")
    }

    enum CodingKeys: String, CodingKey { case sent, delivered, duplicated, misdelivered, errors, firstError, unreadable, closedEarly, lost }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sent, forKey: .sent)
        try container.encode(delivered, forKey: .delivered)
        try container.encode(lost, forKey: .lost)
        try container.encode(duplicated, forKey: .duplicated)
        try container.encode(misdelivered, forKey: .misdelivered)
        try container.encode(errors, forKey: .errors)
        try container.encodeIfPresent(firstError, forKey: .firstError)
        try container.encode(unreadable, forKey: .unreadable)
        try container.encode(closedEarly, forKey: .closedEarly)
    }

    package init(
        sent: Int, delivered: Int, duplicated: Int, misdelivered: Int, errors: Int = 0, firstError: String? = nil, unreadable: Int = 0,
        closedEarly: Int
    ) {
        self.sent = sent
        self.delivered = delivered
        self.duplicated = duplicated
        self.misdelivered = misdelivered
        self.errors = errors
        self.firstError = firstError
        self.unreadable = unreadable
        self.closedEarly = closedEarly
    }

    /// Results saved before errors and unreadable frames were counted apart read as none.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sent = try container.decode(Int.self, forKey: .sent)
        delivered = try container.decode(Int.self, forKey: .delivered)
        duplicated = try container.decode(Int.self, forKey: .duplicated)
        misdelivered = try container.decode(Int.self, forKey: .misdelivered)
        errors = try container.decodeIfPresent(Int.self, forKey: .errors) ?? 0
        firstError = try container.decodeIfPresent(String.self, forKey: .firstError)
        unreadable = try container.decodeIfPresent(Int.self, forKey: .unreadable) ?? 0
        closedEarly = try container.decode(Int.self, forKey: .closedEarly)
    }
}
