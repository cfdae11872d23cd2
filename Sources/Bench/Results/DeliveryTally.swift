/// The counts a run is judged by.
package struct DeliveryTally: Sendable, Codable, CustomStringConvertible {
    package let sent: Int
    package let delivered: Int
    package let duplicated: Int
    package let misdelivered: Int
    /// Connections the node closed while the run went on.
    package let closedEarly: Int
    package var lost: Int { max(sent - delivered, 0) }
    package var isClean: Bool { lost == 0 && duplicated == 0 && misdelivered == 0 && closedEarly == 0 }

    package var description: String {
        "\(delivered)/\(sent) delivered, lost \(lost), duplicated \(duplicated), misdelivered \(misdelivered)"
            + (closedEarly > 0 ? ", \(closedEarly) connections closed by the node" : "")
    }

    enum CodingKeys: String, CodingKey { case sent, delivered, duplicated, misdelivered, closedEarly, lost }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sent, forKey: .sent)
        try container.encode(delivered, forKey: .delivered)
        try container.encode(lost, forKey: .lost)
        try container.encode(duplicated, forKey: .duplicated)
        try container.encode(misdelivered, forKey: .misdelivered)
        try container.encode(closedEarly, forKey: .closedEarly)
    }

    package init(sent: Int, delivered: Int, duplicated: Int, misdelivered: Int, closedEarly: Int) {
        self.sent = sent
        self.delivered = delivered
        self.duplicated = duplicated
        self.misdelivered = misdelivered
        self.closedEarly = closedEarly
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sent = try container.decode(Int.self, forKey: .sent)
        delivered = try container.decode(Int.self, forKey: .delivered)
        duplicated = try container.decode(Int.self, forKey: .duplicated)
        misdelivered = try container.decode(Int.self, forKey: .misdelivered)
        closedEarly = try container.decode(Int.self, forKey: .closedEarly)
    }
}
