extension String {
    /// A number with at most two decimals, for reports.
    init(format2 value: Double) {
        let scaled = (value * 100).rounded() / 100
        self = "\(scaled)"
    }
}
