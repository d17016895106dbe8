/// Parses durations in the syntax of Go's `time.ParseDuration` (`30s`, `1m30s`, `1.5h`,
/// `500ms`), the syntax HEALTHCHECK's flags use.
enum GoDuration {
    private static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// The duration in nanoseconds, or nil when `text` is not a valid duration.
    static func nanoseconds(_ text: String) -> Int64? {
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }

        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            // The longest unit that matches, so that "ms" is not read as "m" followed by "s".
            guard let (unit, scale) = units.filter({ rest.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else {
                return nil
            }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        guard total <= Double(Int64.max) else { return nil }
        return Int64(negative ? -total : total)
    }
}
