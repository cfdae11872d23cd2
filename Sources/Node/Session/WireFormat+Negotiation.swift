import SwitchboardProtocol

extension WireFormat {
    /// The first of the client's offered subprotocols that we speak; JSON when none.
    /// `negotiated` is what to echo back (nil: the client offered none of ours).
    static func negotiate(offered header: String?) -> (format: WireFormat, negotiated: String?) {
        let offered = (header ?? "").split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }
        for name in offered {
            if let format = WireFormat(rawValue: name) { return (format, name) }
        }
        return (.json, nil)
    }
}
