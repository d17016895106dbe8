import Foundation

/// How crib prints sizes, times and tables, the way podman prints them.
enum Formatting {
    /// SI units as podman prints image sizes: `5.4 MB`.
    static func size(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return String(format: value < 10 ? "%.2f %@" : (value < 100 ? "%.1f %@" : "%.0f %@"), value, units[unit])
    }

    /// `3 minutes ago`, as podman prints CREATED.
    static func relative(_ date: Date, now: Date = Date()) -> String {
        let seconds = Int(now.timeIntervalSince(date))
        if seconds < 1 { return "Less than a second ago" }
        let steps: [(Int, String)] = [(60, "second"), (60, "minute"), (24, "hour"), (7, "day"), (52, "week")]
        var value = seconds
        for (limit, unit) in steps {
            if value < limit { return "\(value) \(unit)\(value == 1 ? "" : "s") ago" }
            value /= limit
        }
        return "\(value) year\(value == 1 ? "" : "s") ago"
    }

    /// Seconds with millisecond precision: `0.123 s`.
    static func duration(_ seconds: Double) -> String {
        String(format: "%.3f s", seconds)
    }

    /// Left-aligned columns separated by at least two spaces.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (column, cell) in cells.enumerated() {
                let isLast = column == cells.count - 1
                text += isLast ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }
            return text
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// Prints `value` as indented JSON on stdout.
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
